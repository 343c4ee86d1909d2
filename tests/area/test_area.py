"""`insight area` and `insight sources` on a small synthetic nation in the national file layouts.

The nation is made in the test session from ../shared/ons/trafford (Trafford, E08000009, real) and
the demo generator (Demoborough, E06009999, and a copy of it moved 25 km east and recoded,
"Demoborough East", E06009997): 1,538 Output Areas in three local authorities, written as ONS,
Nomis and OS publish them. Two folders hold it: `zipped` (the ONSPD zip with its Data/multi_csv/
one CSV per postcode area, the Nomis census2021-tsNNN.zip files holding -oa.csv and -ltla.csv,
the Output Areas as a zipped shapefile, the wards as a GeoPackage) and `unpacked` (one national
ONSPD CSV, the census -oa.csv files, GeoJSON boundaries in WGS84). Runs of the configs
`insight area` writes are compared with runs of hand-made configs over the same inputs.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import shutil
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import yaml
from shapely import affinity

from pipeline.area.build import needed_tables
from pipeline.area.sources import products
from pipeline.cli import main
from pipeline.config import load_config
from tests.conftest import SHARED, TRAFFORD
from tests.helpers import relocated_raw

pytestmark = pytest.mark.skipif(not TRAFFORD.exists(), reason="../shared/ons/trafford is absent")

TRAFFORD_LAD, DEMO_LAD, EAST_LAD = "E08000009", "E06009999", "E06009997"
#: The ONSPD columns, in order (February 2025 release)
ONSPD_COLUMNS = ("pcd pcd2 pcds dointr doterm oscty ced oslaua osward parish usertype oseast1m osnrth1m "
                 "osgrdind oshlthau nhser ctry rgn streg pcon eer teclec ttwa pct itl statsward oa01 "
                 "casward npark lsoa01 msoa01 ur01ind oac01 oa11 lsoa11 msoa11 wz11 sicbl bua24 ru11ind "
                 "oac11 lat long lep1 lep2 pfa imd calncv icb oa21 lsoa21 msoa21").split()
LOOKUP_COLUMNS = ["OA21CD", "WD23CD", "WD23NM", "WD23NMW", "LAD23CD", "LAD23NM", "LAD23NMW", "ObjectId"]
SHIFT = 25_000.0


# --- the synthetic nation --------------------------------------------------------------------------


def _east(code: str) -> str:
    """Demoborough's code of an OA, LSOA, MSOA or ward -> its copy's in Demoborough East."""
    return code[:3] + "8" + code[4:] if code[3] == "9" else code


def _nation(demo_raw: Path) -> dict:
    """The nation as frames: OA and ward polygons (EPSG:27700), the lookup, the census tables, the
    postcode directory (ONSPD columns) and the Demoborough gazetteer."""
    # Output Areas
    t_oa = gpd.read_file(TRAFFORD / "boundaries" / "oa21_bgc.geojson").to_crs(27700)
    t_oa = gpd.GeoDataFrame({"OA21CD": t_oa["area_code"]}, geometry=t_oa.geometry, crs=27700)
    d_oa = gpd.read_file(demo_raw / "boundaries" / "demo_oa21.gpkg")[["OA21CD", "geometry"]]
    e_oa = d_oa.assign(OA21CD=d_oa["OA21CD"].map(_east),
                       geometry=d_oa.geometry.map(lambda g: affinity.translate(g, SHIFT)))
    oas = pd.concat([t_oa, d_oa, e_oa], ignore_index=True)
    oas = gpd.GeoDataFrame(oas, geometry="geometry", crs=27700)
    oas.insert(0, "FID", range(1, len(oas) + 1))
    oas["LSOA21CD"] = ""
    pts = oas.representative_point()
    oas["BNG_E"], oas["BNG_N"] = pts.x.round().astype(int), pts.y.round().astype(int)
    # wards (May 2023) and the lookup
    t_w = gpd.read_file(TRAFFORD / "boundaries" / "wards_2023_bgc.geojson").to_crs(27700)
    t_w = gpd.GeoDataFrame({"WD23CD": t_w["area_code"], "WD23NM": t_w["area_name"]}, geometry=t_w.geometry,
                           crs=27700)
    d_w = gpd.read_file(demo_raw / "boundaries" / "demo_wards23.gpkg")[["WD23CD", "WD23NM", "geometry"]]
    e_w = d_w.assign(WD23CD=d_w["WD23CD"].map(_east), WD23NM=d_w["WD23NM"] + " East",
                     geometry=d_w.geometry.map(lambda g: affinity.translate(g, SHIFT)))
    wards = gpd.GeoDataFrame(pd.concat([t_w, d_w, e_w], ignore_index=True), geometry="geometry", crs=27700)
    wards.insert(0, "FID", range(1, len(wards) + 1))
    wards.insert(3, "WD23NMW", "")
    t_lk = pd.read_csv(TRAFFORD / "lookups" / "oa21_to_ward_bestfit_DERIVED.csv", dtype=str)
    t_lk = pd.DataFrame({"OA21CD": t_lk["oa21cd"], "WD23CD": t_lk["wd23cd"], "WD23NM": t_lk["wd23nm"],
                         "LAD23CD": TRAFFORD_LAD, "LAD23NM": "Trafford"})
    d_lk = pd.read_csv(demo_raw / "lookups" / "demo_oa21_ward23_lookup.csv", dtype=str)
    e_lk = d_lk.assign(OA21CD=d_lk["OA21CD"].map(_east), WD23CD=d_lk["WD23CD"].map(_east),
                       WD23NM=d_lk["WD23NM"] + " East", LAD23CD=EAST_LAD, LAD23NM="Demoborough East")
    lookup = pd.concat([t_lk, d_lk, e_lk], ignore_index=True)
    lookup["WD23NMW"], lookup["LAD23NMW"], lookup["ObjectId"] = "", "", range(1, len(lookup) + 1)
    lookup = lookup[LOOKUP_COLUMNS]
    # census tables: every table the area needs that Trafford has
    census = {}
    for table in needed_tables():
        t_file = TRAFFORD / "census2021" / f"census2021-{table}-oa-trafford.csv"
        if not t_file.exists():
            continue
        t = pd.read_csv(t_file, dtype=str, keep_default_na=False)
        d = pd.read_csv(demo_raw / "census2021" / f"census2021-{table}-oa-demo.csv", dtype=str,
                        keep_default_na=False)
        assert list(d.columns) == list(t.columns)
        e = d.assign(**{c: d[c].map(_east) for c in ("geography", "geography code")})
        census[table] = pd.concat([t, d, e], ignore_index=True)
    # postcode directory (ONSPD layout)
    t_pc = pd.read_csv(TRAFFORD / "postcodes" / "onspd_2025_02_trafford_with_oa21_DERIVED.csv", dtype=str,
                       keep_default_na=False)
    live = t_pc["in_codepoint_open_2025_10"].str.lower().eq("true")
    t_pc = pd.DataFrame({"pcds": t_pc["postcode"], "doterm": live.map({True: "", False: "202001"}),
                         "oslaua": t_pc["la_code"], "osward": t_pc["ward_code"], "usertype": "0",
                         "oseast1m": t_pc["easting"], "osnrth1m": t_pc["northing"], "osgrdind": "1",
                         "oa21": t_pc["oa21cd_pip"], "lsoa21": t_pc["lsoa21_from_oa"],
                         "msoa21": t_pc["msoa_code"],
                         "lat": t_pc["lat"], "long": t_pc["lon"], "dointr": "199001"})
    d_pc = pd.read_csv(demo_raw / "postcodes" / "ONSPD_DEMO_2025.csv", dtype=str, keep_default_na=False)
    d_pc = d_pc.rename(columns={"oa21cd": "oa21", "lsoa21cd": "lsoa21", "msoa21cd": "msoa21"})
    e_pc = d_pc[d_pc["oslaua"] == DEMO_LAD].copy()
    e_pc["pcds"] = "DW" + e_pc["pcds"].str[2:]
    for col in ("oa21", "lsoa21", "msoa21", "osward"):
        e_pc[col] = e_pc[col].map(_east)
    e_pc["oslaua"] = EAST_LAD
    e_pc["oseast1m"] = (e_pc["oseast1m"].astype(int) + int(SHIFT)).astype(str)
    directory = pd.concat([t_pc, d_pc, e_pc], ignore_index=True)
    out, inw = directory["pcds"].str.split(" ").str[0], directory["pcds"].str.split(" ").str[1]
    directory["pcd"], directory["pcd2"] = out.str.ljust(4) + inw, out.str.ljust(4) + " " + inw
    directory["ctry"] = "E92000001"
    directory = directory.reindex(columns=ONSPD_COLUMNS).astype(object).fillna("")
    return {"oas": oas, "wards": wards, "lookup": lookup, "census": census, "directory": directory,
            "gazetteer": demo_raw / "gazetteer" / "demo_llpg.csv"}


def _ltla(frame: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """The census table's local-authority file: the sums of its OAs per LAD."""
    lad = frame["geography code"].map(lookup.set_index("OA21CD")["LAD23CD"])
    values = frame.drop(columns=["date", "geography", "geography code"]).apply(pd.to_numeric)
    sums = values.groupby(lad.to_numpy()).sum().reset_index(names="geography code")
    sums.insert(0, "date", "2021")
    sums.insert(1, "geography", sums["geography code"])
    return sums


def write_zipped(nation: dict, folder: Path) -> Path:
    """The nation as downloaded: zips everywhere, the ONSPD as its multi-CSV parts."""
    folder.mkdir(parents=True, exist_ok=True)
    d = nation["directory"]
    with zipfile.ZipFile(folder / "ONSPD_FEB_2025_UK.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for area, rows in d.groupby(d["pcds"].str.extract(r"^([A-Z]+)")[0], sort=True):
            z.writestr(f"Data/multi_csv/ONSPD_FEB_2025_UK_{area}.csv", rows.to_csv(index=False))
        z.writestr("Documents/LA_UA names and codes UK as at 04_23.csv",
                   "LAD23CD,LAD23NM\nE08000009,Trafford\n")
        z.writestr("User Guide/ONSPD User Guide Feb 2025.txt", "user guide\n")
    for table, frame in nation["census"].items():
        with zipfile.ZipFile(folder / f"census2021-{table}.zip", "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(f"census2021-{table}-oa.csv", frame.to_csv(index=False))
            z.writestr(f"census2021-{table}-ltla.csv", _ltla(frame, nation["lookup"]).to_csv(index=False))
    shp = folder / "_shp"
    shp.mkdir()
    nation["oas"].to_file(shp / "OA_2021_EW_BGC_V2.shp")
    with zipfile.ZipFile(folder / "Output_Areas_2021_EW_BGC_V2_-6371128854279904124.zip", "w") as z:
        for part in sorted(shp.iterdir()):
            z.write(part, part.name)
    shutil.rmtree(shp)
    nation["wards"].to_file(folder / "Wards_May_2023_Boundaries_UK_BGC_-2343455.gpkg",
                            layer="WD_MAY_2023_UK_BGC")
    nation["lookup"].to_csv(folder / "OA21_WD23_LAD23_EW_LU.csv", index=False)
    shutil.copy(nation["gazetteer"], folder / "demo_llpg.csv")
    return folder


def write_unpacked(nation: dict, folder: Path) -> Path:
    """The nation unpacked: one national ONSPD CSV, census -oa.csv files, GeoJSON in WGS84."""
    (folder / "ONSPD_FEB_2025_UK" / "Data").mkdir(parents=True, exist_ok=True)
    nation["directory"].to_csv(folder / "ONSPD_FEB_2025_UK" / "Data" / "ONSPD_FEB_2025_UK.csv", index=False)
    for table, frame in nation["census"].items():
        frame.to_csv(folder / f"census2021-{table}-oa.csv", index=False)
    nation["oas"].to_crs(4326).to_file(folder / "Output_Areas_2021_EW_BGC_V2.geojson", driver="GeoJSON")
    nation["wards"].to_crs(4326).to_file(folder / "Wards_May_2023_UK_BGC.geojson", driver="GeoJSON")
    nation["lookup"].to_csv(folder / "OA21_WD23_LAD23_EW_LU.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def nation(demo_data, tmp_path_factory):
    raw, truth = demo_data
    frames = _nation(raw)
    tmp = tmp_path_factory.mktemp("nation")
    return {"frames": frames, "raw": raw, "truth": truth, "tmp": tmp,
            "zipped": write_zipped(frames, tmp / "zipped"),
            "unpacked": write_unpacked(frames, tmp / "unpacked")}


def area(args: list[str], tmp: Path, capsys) -> tuple[int, str, str]:
    """Run `insight area` with its outputs under `tmp`; return (status, stdout, stderr)."""
    rc = main(["area", *args, "--data-dir", str(tmp / "areas"), "--config-dir", str(tmp / "config"),
               "--reference-dir", str(tmp / "reference")])
    out = capsys.readouterr()
    return rc, out.out, out.err


# --- the catalogue ---------------------------------------------------------------------------------


def test_sources_prints_every_product(capsys):
    assert main(["sources"]) == 0
    text = capsys.readouterr().out
    for p in products():
        assert p.name in text and p.tested_release.split(" (")[0] in text
        assert p.publisher in text and p.licence.split(";")[0] in text
        if p.attribution:
            assert " ".join(p.attribution.split()[:6]) in " ".join(text.split())
    assert "census2021-ts*.zip" in text and "ONSPD_*.zip" in text


def test_needed_tables_cover_the_spec_bases_and_equality_views():
    tables = needed_tables()
    assert {"ts041", "ts001", "ts007a", "ts008", "ts021", "ts030", "ts038", "ts054", "ts066"} <= set(tables)
    assert len(tables) == 25
    assert "households" in tables["ts041"] and "equality" in tables["ts008"]


# --- one local authority: Trafford, against the hand-made config of `make trafford` ---------------


def _profiles_equal(a: dict, b: dict) -> int:
    """Assert two runs' profiles (service -> view -> frame) are equal; return the frames compared."""
    assert sorted(a) == sorted(b)
    n = 0
    for service in a:
        assert sorted(a[service]) == sorted(b[service]), service
        for view in a[service]:
            left, right = a[service][view], b[service][view]
            if isinstance(left, pd.DataFrame):
                pd.testing.assert_frame_equal(left.reset_index(drop=True), right.reset_index(drop=True),
                                              obj=f"{service} {view}")
                n += 1
            else:
                assert left == right, (service, view)
    return n


def _same_settings(area_yaml: Path, hand: dict, tmp: Path, name: str) -> Path:
    """The area's config with the hand-made one's services and settings: only the geography and
    census blocks (what `insight area` makes) differ between the two runs."""
    raw = yaml.safe_load(area_yaml.read_text(encoding="utf-8"))
    raw.update({k: v for k, v in hand.items() if k not in ("geography", "census")})
    raw["private_dir"], raw["outputs_dir"] = str(tmp / f"{name}_data"), str(tmp / f"{name}_out")
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def _quick(raw: dict, services: tuple[str, ...], tmp: Path, name: str) -> dict:
    """A config dict cut down for a quick comparison run: some services, fewer k-means starts."""
    raw = dict(raw)
    raw["services"] = [s for s in raw["services"] if s["name"] in services]
    raw["segmentation"] = {**raw.get("segmentation", {}), "n_init": 8}
    raw["private_dir"], raw["outputs_dir"] = str(tmp / f"{name}_data"), str(tmp / f"{name}_out")
    return raw


def _hand_and_area_runs(hand_raw: dict, area_yaml: Path, services: tuple[str, ...], tmp: Path):
    """Run the hand-made config and the area's (with the hand-made one's services and settings) up
    to the profiles; assert at least 10 profile tables equal; return both results."""
    from pipeline.run import run_all

    hand = _quick(hand_raw, services, tmp, "hand")
    (tmp / "hand.yaml").write_text(yaml.safe_dump(hand, sort_keys=False), encoding="utf-8")
    made = _same_settings(area_yaml, hand, tmp, "made")
    by_hand = run_all(load_config(tmp / "hand.yaml"), until="profile", progress=False)
    by_area = run_all(load_config(made), until="profile", progress=False)
    assert _profiles_equal(by_hand.profiles, by_area.profiles) >= 10
    return by_hand, by_area


@pytest.mark.slow  # two whole runs of the pipeline (make test-slow; CI runs it)
def test_one_lad_trafford_profiles_equal_the_hand_made_config(nation, tmp_path, capsys):
    from pipeline.synth.extracts import generate_for_real_area

    rc, out, err = area([TRAFFORD_LAD, "--sources", str(nation["zipped"])], tmp_path, capsys)
    assert rc == 0, err
    assert "738 (738 polygons)" in out and "21 (21 polygons)" in out
    assert "households (TS041)  96,271; the census's own total for E08000009: 96,271 (agrees)" in out
    assert "11,264 in the area (6,472 live) of 18,776 in the national directory" in out
    assert "ONSPD February 2025" in out and "multi_csv" in out
    config = tmp_path / "config" / "trafford.yaml"
    cfg = load_config(config)
    assert cfg.run == "trafford" and cfg.lad_code == TRAFFORD_LAD and cfg.services == []
    assert "services: []\n#  - name: stop_smoking" in config.read_text()
    assert f".venv/bin/insight run {config}" in out
    # the cut census files are the national rows as published: byte for byte Trafford's own
    for table in ("ts041", "ts021", "ts066"):
        cut = tmp_path / "areas" / "trafford" / "census2021" / f"census2021-{table}-oa.csv"
        own = TRAFFORD / "census2021" / f"census2021-{table}-oa-trafford.csv"
        assert cut.read_bytes() == own.read_bytes()
    # a demo gazetteer in the folder belongs to another council: not used for Trafford
    assert "gazetteer (optional)" in out and cfg.geography.gazetteer is None

    extracts = tmp_path / "extracts"
    generate_for_real_area(
        postcodes_csv=TRAFFORD / "postcodes" / "onspd_2025_02_trafford_with_oa21_DERIVED.csv",
        postcode_col="postcode", oa_col="oa21cd_pip", live_col="in_codepoint_open_2025_10",
        households_csv_ts041=TRAFFORD / "census2021" / "census2021-ts041-oa-trafford.csv",
        types_csv=TRAFFORD / "oac2021" / "trafford_oac2021_assignment.csv",
        out_dir=extracts, truth_dir=tmp_path / "truth", seed=2021)
    hand = relocated_raw(Path("config/examples/trafford.yaml"), {
        "data/trafford/raw/extracts": str(extracts), "../shared": str(SHARED),
        "data/reference": str(tmp_path / "hand_reference")})
    by_hand, by_area = _hand_and_area_runs(hand, config, ("stop_smoking", "library"),
                                           tmp_path)
    seg = by_area.profiles["stop_smoking"]["segment"]
    assert seg.loc[seg["segment_code"] == "Total", "base_count"].iloc[0] == 96_271
    pd.testing.assert_frame_equal(by_hand.summary, by_area.summary)


# --- two local authorities: one area -----------------------------------------------------------------


def _hand_made_pair(nation: dict, tmp: Path) -> dict:
    """A config for Demoborough + Demoborough East made by hand with pandas and geopandas from the
    nation's frames and its GeoJSON (no DuckDB, no `insight area`), its postcode directory the
    national ONSPD CSV as published."""
    fr, lads = nation["frames"], {DEMO_LAD, EAST_LAD}
    folder = tmp / "hand_pair"
    (folder / "census").mkdir(parents=True)
    lookup = fr["lookup"][fr["lookup"]["LAD23CD"].isin(lads)]
    oas = set(lookup["OA21CD"])
    lookup.to_csv(folder / "lookup.csv", index=False)
    national = gpd.read_file(nation["unpacked"] / "Output_Areas_2021_EW_BGC_V2.geojson")
    national[national["OA21CD"].isin(oas)].to_file(folder / "oas.gpkg")
    national = gpd.read_file(nation["unpacked"] / "Wards_May_2023_UK_BGC.geojson")
    national[national["WD23CD"].isin(set(lookup["WD23CD"]))].to_file(folder / "wards.gpkg")
    for table, frame in fr["census"].items():
        frame[frame["geography code"].isin(oas)].to_csv(folder / "census" / f"{table}.csv", index=False)
    demo = relocated_raw(Path("config/demo.yaml"), {"data/demo/raw": str(nation["raw"])})
    # the demo's fictional deprivation file and its directory's LSOAs cover Demoborough only; the
    # comparison is of the geography and census blocks `insight area` makes
    demo.pop("deprivation", None)
    return demo | {
        "run": "pair", "area_name": "Demoborough and Demoborough East",
        "geography": {
            "oa_boundaries": {"path": str(folder / "oas.gpkg"), "code_column": "OA21CD"},
            "wards": {"path": str(folder / "wards.gpkg"), "code_column": "WD23CD", "name_column": "WD23NM"},
            "oa_to_ward": {"path": str(folder / "lookup.csv"), "oa_column": "OA21CD", "ward_column": "WD23CD",
                           "ward_name_column": "WD23NM"},
            "postcode_directory": {
                "path": str(nation["unpacked"] / "ONSPD_FEB_2025_UK" / "Data" / "ONSPD_FEB_2025_UK.csv"),
                "columns": {"postcode": "pcds", "oa": "oa21"}},
        },
        "census": {"dir": str(folder / "census"), "pattern": "{table}.csv", "households_table": "ts041"},
    }


@pytest.mark.slow  # a whole run of the pipeline (make test-slow; CI runs it)
def test_two_lads_make_one_area_whose_profiles_equal_the_hand_made_config(nation, tmp_path, capsys):
    rc, out, err = area([DEMO_LAD, EAST_LAD, "--sources", str(nation["unpacked"]), "--name", "pair"],
                        tmp_path, capsys)
    assert rc == 0, err
    assert "Area 'pair': Demoborough (E06009999) + Demoborough East (E06009997)" in out
    assert "800 (800 polygons)" in out and "40 (40 polygons)" in out
    assert "households (TS041)  99,428; no census2021-ts041-ltla.csv" in out
    assert "ONSPD February 2025" in out and "ONSPD_FEB_2025_UK.csv" in out
    config = tmp_path / "config" / "pair.yaml"
    cfg = load_config(config)
    assert cfg.lad_code is None
    assert "an area of 2 local authorities: E06009999, E06009997" in config.read_text()
    assert cfg.geography.gazetteer is None  # none in the unpacked folder
    _, by_area = _hand_and_area_runs(_hand_made_pair(nation, tmp_path), config,
                                     ("stop_smoking", "garden_waste"), tmp_path)
    wards = by_area.profiles["stop_smoking"]["ward"]
    assert len(wards) == 40 + 1  # both authorities' wards and the Total row


# --- what is missing, of the wrong vintage, or not a LAD -------------------------------------------


def _variant(nation: dict, tmp: Path, drop: tuple[str, ...] = ()) -> Path:
    """A copy of the zipped nation without the files named in `drop`."""
    folder = tmp / "sources"
    shutil.copytree(nation["zipped"], folder, ignore=shutil.ignore_patterns(*drop) if drop else None)
    return folder


def test_missing_lookup_names_the_product_its_source_and_what_works_without_it(nation, tmp_path, capsys):
    folder = _variant(nation, tmp_path, drop=("OA21_WD23_LAD23_EW_LU.csv",))
    rc, out, err = area([DEMO_LAD, "--sources", str(folder)], tmp_path, capsys)
    assert rc == 2 and out == ""
    text = " ".join(err.split())
    assert text.startswith(f"error: 1 national product(s) missing or unusable in {folder}:")
    assert ("Output Area (2021) to ward to local authority best-fit lookup: not found in" in text)
    assert ("Output Area (2021) to Electoral Ward (2023) to Local Authority District (2023) Best Fit Lookup "
            "in England and Wales" in text)
    assert "Fix: download it from https://geoportal.statistics.gov.uk/" in text
    assert "Without it: the area cannot be cut" in text and "Open Government Licence v3.0" in text
    assert not (tmp_path / "config" / "demoborough.yaml").exists()
    assert not (tmp_path / "areas" / "demoborough").exists()


def test_missing_households_table_and_postcode_directory_each_named(nation, tmp_path, capsys):
    folder = _variant(nation, tmp_path, drop=("census2021-ts041.zip", "ONSPD_*.zip"))
    rc, _, err = area([DEMO_LAD, "--sources", str(folder)], tmp_path, capsys)
    text = " ".join(err.split())
    assert rc == 2 and "2 national product(s) missing" in text
    assert "census table ts041 (households, the base of every profile)" in text
    assert "Fix: download census2021-ts041.zip from https://www.nomisweb.co.uk/" in text
    assert "ONS Postcode Directory (ONSPD) or National Statistics Postcode Lookup (NSPL): not found" in text
    assert "OS Code-Point Open is accepted instead" in text


def test_missing_classification_table_drops_its_variables_and_says_so(nation, tmp_path, capsys):
    folder = _variant(nation, tmp_path, drop=("census2021-ts030.zip",))
    rc, out, err = area([DEMO_LAD, "--sources", str(folder)], tmp_path, capsys)
    assert rc == 0, err
    assert "census tables not found: ts030" in out and "religion equality view" in out
    cfg = load_config(tmp_path / "config" / "demoborough.yaml")
    assert cfg.segmentation.drop == ["v30", "v31", "v32"]  # the religion variables of the OAC spec
    assert "24 of 25 needed" in out


def test_wrong_vintage_wards_name_the_year_and_the_fix(nation, tmp_path, capsys):
    folder = _variant(nation, tmp_path, drop=("Wards_*.gpkg",))
    old = nation["frames"]["wards"].rename(columns=lambda c: c.replace("WD23", "WD22"))
    old.to_file(folder / "Wards_May_2022_Boundaries_UK_BGC.gpkg")
    rc, _, err = area([DEMO_LAD, "--sources", str(folder)], tmp_path, capsys)
    text = " ".join(err.split())
    assert rc == 2
    assert "Electoral ward boundaries, of the ward year of the lookup" in text
    assert "gives May 2023 wards (WD23CD)" in text and "2022 wards, WD22CD" in text
    assert "Fix: download Wards (May 2023) Boundaries UK BGC from https://geoportal.statistics.gov.uk/" \
        in text


def test_wrong_vintage_postcode_directory_names_the_release_to_fetch(nation, tmp_path, capsys):
    folder = _variant(nation, tmp_path, drop=("ONSPD_*.zip",))
    old = nation["frames"]["directory"].drop(columns=["oa11", "lsoa21", "msoa21"])
    old = old.rename(columns={"oa21": "oa11"})
    old.to_csv(folder / "ONSPD_MAY_2020_UK.csv", index=False)
    rc, _, err = area([DEMO_LAD, "--sources", str(folder)], tmp_path, capsys)
    text = " ".join(err.split())
    assert rc == 2
    assert "ONSPD_MAY_2020_UK.csv has no 2021 Output Area column (oa21), only 2011 ones" in text
    assert "Fix: download the February 2025 release or later" in text


def test_wrong_lad_code_suggests_the_right_one(nation, tmp_path, capsys):
    rc, _, err = area(["E08000099", "--sources", str(nation["zipped"])], tmp_path, capsys)
    text = " ".join(err.split())
    assert rc == 2 and "error: 1 local authority code(s) not found:" in text
    assert "'E08000099' is not a local authority district of the Output Area to ward to LAD lookup" in text
    assert "which lists 3 LADs of 2023. Did you mean E08000009 (Trafford)?" in text
    assert "Fix: give your council's local authority district code as the lookup has it" in text
    rc, _, err = area(["Trafford", "--sources", str(nation["zipped"])], tmp_path, capsys)
    text = " ".join(err.split())
    assert rc == 2 and "'Trafford' is a name, not a code" in text and "insight area E08000009" in text
    assert not (tmp_path / "config").exists()


def test_an_existing_config_is_kept_unless_forced(nation, tmp_path, capsys):
    rc, _, err = area([DEMO_LAD, "--sources", str(nation["zipped"])], tmp_path, capsys)
    assert rc == 0, err
    config = tmp_path / "config" / "demoborough.yaml"
    config.write_text(config.read_text() + "\n# my services\n")
    rc, _, err = area([DEMO_LAD, "--sources", str(nation["zipped"])], tmp_path, capsys)
    assert rc == 2 and "is already there, perhaps with your services mapped in it" in err
    assert config.read_text().endswith("# my services\n")
    rc, out, err = area([DEMO_LAD, "--sources", str(nation["zipped"]), "--force"], tmp_path, capsys)
    assert rc == 0, err
    assert "(reused)" in out  # the national postcode directory was cut once, for both builds
    assert not config.read_text().endswith("# my services\n")
    gz = load_config(config).geography.gazetteer
    assert gz is not None and "49,714 addresses of the area (of 49,714 in the export)" in out


# --- --download, from a local server only ----------------------------------------------------------


class _RangeHandler(SimpleHTTPRequestHandler):
    """Serves a folder, honouring `Range: bytes=N-` (as the publishers' servers do); logs requests."""

    requests: list[tuple[str, str | None]] = []

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        path = Path(self.translate_path(self.path))
        rng = self.headers.get("Range")
        type(self).requests.append((self.path, rng))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        start = int(rng.split("=")[1].rstrip("-")) if rng else 0
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture
def server(nation, tmp_path):
    """A local http.server on 127.0.0.1 serving the nation's census zips and a catalogue pointing at it."""
    from pipeline.area.sources import CATALOGUE

    served = tmp_path / "served"
    served.mkdir()
    for z in nation["zipped"].glob("census2021-*.zip"):
        shutil.copy(z, served / z.name)
    _RangeHandler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_RangeHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    catalogue = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    for p in catalogue["products"]:
        if p["id"] == "census":
            p["download"] = base + "/census2021-{table}.zip"
        elif p.get("download"):
            p["download"] = base + "/not-served/" + p["id"]
    path = tmp_path / "products.yaml"
    path.write_text(yaml.safe_dump(catalogue, sort_keys=False), encoding="utf-8")
    yield served, path
    httpd.shutdown()
    thread.join(5)


def test_download_fetches_the_missing_tables_resumes_and_checks_checksums(nation, server, tmp_path):
    from pipeline.area.download import download_products

    served, catalogue = server
    cache = _variant(nation, tmp_path, drop=("census2021-ts041.zip", "census2021-ts030.zip"))
    whole = (served / "census2021-ts041.zip").read_bytes()
    (cache / "census2021-ts041.zip.part").write_bytes(whole[:1000])  # an interrupted download
    out = io.StringIO()
    assert download_products(cache, catalogue=catalogue, print_to=out) == cache
    text = out.getvalue()
    assert (cache / "census2021-ts041.zip").read_bytes() == whole
    assert "fetched census2021-ts041.zip" in text and "(resumed)" in text
    assert (cache / "census2021-ts030.zip").read_bytes() == (served / "census2021-ts030.zip").read_bytes()
    assert ("/census2021-ts041.zip", "bytes=1000-") in _RangeHandler.requests
    assert {p for p, _ in _RangeHandler.requests} == {"/census2021-ts041.zip", "/census2021-ts030.zip"}
    record = json.loads((cache / "checksums.json").read_text())
    assert record["census2021-ts041.zip"]["sha256"] == hashlib.sha256(whole).hexdigest()
    # the cache then serves `insight area` like any sources folder
    from pipeline.area.build import build_area

    result = build_area([DEMO_LAD], cache, data_root=tmp_path / "areas", config_root=tmp_path / "config",
                        reference_dir=tmp_path / "reference")
    assert result.counts["households"] == 49_714 and result.counts["census_tables"] == 25
    # a second run fetches nothing; a cached file that changed is fetched again
    _RangeHandler.requests = []
    download_products(cache, catalogue=catalogue, print_to=io.StringIO())
    assert _RangeHandler.requests == []
    (cache / "census2021-ts030.zip").write_bytes(b"damaged")
    out = io.StringIO()
    download_products(cache, catalogue=catalogue, print_to=out)
    assert "no longer matches the checksum recorded" in out.getvalue()
    assert (cache / "census2021-ts030.zip").read_bytes() == (served / "census2021-ts030.zip").read_bytes()


def test_download_refuses_a_file_whose_published_checksum_differs(nation, server, tmp_path):
    from pipeline.area import AreaError
    from pipeline.area.download import download_products

    served, catalogue = server
    raw = yaml.safe_load(catalogue.read_text())
    for p in raw["products"]:
        if p["id"] == "census":
            p["sha256"] = {"census2021-ts041.zip": "0" * 64}
    catalogue.write_text(yaml.safe_dump(raw, sort_keys=False))
    cache = _variant(nation, tmp_path, drop=("census2021-ts041.zip",))
    with pytest.raises(AreaError) as err:
        download_products(cache, catalogue=catalogue, print_to=io.StringIO())
    text = " ".join(str(err.value).split())
    assert "census2021-ts041.zip: the download does not match its published checksum" in text
    assert f"but the publisher's is {'0' * 64}" in text
    assert not (cache / "census2021-ts041.zip").exists()
    assert not (cache / "census2021-ts041.zip.part").exists()


def test_code_point_open_is_the_fallback_postcode_directory(nation, tmp_path, capsys):
    """Without an ONSPD or NSPL, OS Code-Point Open as published (codepo_gb.zip: header-less
    Data/CSV/<area>.csv, the names in Doc/) is the directory, its postcodes placed by their points."""
    folder = _variant(nation, tmp_path, drop=("ONSPD_*.zip",))
    d = nation["frames"]["directory"]
    d = d[d["doterm"] == ""]
    cp = pd.DataFrame({"pc": d["pcds"], "pq": "10", "ea": d["oseast1m"], "no": d["osnrth1m"],
                       "cy": "E92000001", "rh": "", "lh": "", "cc": "", "dc": d["oslaua"], "wc": d["osward"]})
    with zipfile.ZipFile(folder / "codepo_gb.zip", "w") as z:
        for letters, rows in cp.groupby(cp["pc"].str.extract(r"^([A-Z]+)")[0]):
            z.writestr(f"Data/CSV/{letters.lower()}.csv", rows.to_csv(index=False, header=False))
        z.writestr("Doc/Code-Point_Open_Column_Headers.csv", "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\n")
    rc, out, err = area([DEMO_LAD, "--sources", str(folder)], tmp_path, capsys)
    assert rc == 0, err
    assert "Code-Point Open: " in out and "(Data/CSV/dm.csv) and 3 more file(s)" in out
    assert "3,431 in the area (3,431 live) of 13,384 in the national directory" in out
    assert "no ONSPD or NSPL was found, so OS Code-Point Open is the postcode directory" in out
    columns = load_config(tmp_path / "config" / "demoborough.yaml").geography.postcode_directory.columns
    assert columns.oa is None and columns.terminated is None and columns.lad == "oslaua"


def test_national_ranges_put_the_area_on_the_national_scale(nation, tmp_path, capsys):
    """--national-ranges: the ranges of every OA in the national files (as a census-wide build takes
    them) become segmentation.reference, and the area is clustered on that scale."""
    import numpy as np

    from pipeline.config import Census, Segmentation
    from segments.build import build_segments, census_profile

    rc, out, err = area([DEMO_LAD, "--sources", str(nation["zipped"]), "--national-ranges"], tmp_path, capsys)
    assert rc == 0, err
    national, _, _ = census_profile(Census(dir=nation["unpacked"], pattern="census2021-{table}-oa.csv"),
                                    Segmentation())
    assert len(national) == 400 + 400 + 738  # Demoborough, Demoborough East, Trafford
    text = " ".join(out.split())
    assert f"national ranges 60 variables over {len(national):,} Output Areas of the national census" in text
    path = tmp_path / "areas" / "demoborough" / "census2021" / "national_ranges.csv"
    ranges = pd.read_csv(path).set_index("variable")
    assert list(ranges.index) == list(national.columns)
    assert np.allclose(ranges["min"], national.min(), rtol=1e-11, atol=0)
    assert np.allclose(ranges["max"], national.max(), rtol=1e-11, atol=0)

    cfg = load_config(tmp_path / "config" / "demoborough.yaml")
    assert Path(cfg.segmentation.reference).resolve() == path.resolve()
    values, matrix, _ = census_profile(cfg.census, cfg.segmentation)
    _, local, _ = census_profile(cfg.census, cfg.segmentation.model_copy(update={"reference": None}))
    assert len(values) == 400
    varying = values.columns[values.nunique() > 1]
    assert (local[varying].max() == 1).all() and (local[varying].min() == 0).all()  # the area's own ends
    assert (matrix[varying].max() < 1 - 1e-9).sum() >= 10  # on the national scale it spans less
    lo, hi = np.arcsinh(ranges["min"]), np.arcsinh(ranges["max"])
    for v in ("v01", "v38", "v42"):  # z = (asinh x - asinh min) / (asinh max - asinh min), weight 1
        assert np.allclose(matrix[v], (np.arcsinh(values[v]) - lo[v]) / (hi[v] - lo[v]))
    result = build_segments(cfg.model_copy(update={"segmentation": cfg.segmentation.model_copy(
        update={"n_init": 5, "k_groups": None})}))
    assert result.assignments["supergroup"].nunique() == 8


@pytest.mark.slow  # a classification build and a run (make test-slow; CI runs it)
def test_a_national_build_loaded_as_the_area_classification(nation, tmp_path, capsys):
    """The other scope of docs/area.md: classify every OA of the national files once (`python -m
    segments`, `scope: census`) and give each area that classification as a lookup."""
    from segments.__main__ import main as segments_main
    from segments.build import build_segments

    national = {"run": "national", "area_name": "The nation", "outputs_dir": str(tmp_path / "out"),
                "private_dir": str(tmp_path / "data"),
                "census": {"dir": str(nation["unpacked"]), "pattern": "census2021-{table}-oa.csv"},
                "segmentation": {"scope": "census", "n_init": 5}}
    (tmp_path / "national.yaml").write_text(yaml.safe_dump(national), encoding="utf-8")
    assert segments_main([str(tmp_path / "national.yaml"), "--no-diagnostics"]) == 0
    assert "1,538 OAs" in capsys.readouterr().out
    seg = tmp_path / "out" / "segments"
    rc, _, err = area([DEMO_LAD, "--sources", str(nation["zipped"])], tmp_path, capsys)
    assert rc == 0, err
    path = tmp_path / "config" / "demoborough.yaml"
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    cfg["segmentation"] = {"method": "lookup", "lookup": {
        "path": str(seg / "segments_oa.csv"), "key": "oa", "key_column": "oa21cd",
        "code_column": "supergroup", "group_column": "group", "subgroup_column": "subgroup",
        "names": str(seg / "names_template.csv")}}
    path.write_text(yaml.safe_dump(cfg, sort_keys=False), encoding="utf-8")
    result = build_segments(load_config(path))
    codes = result.assignments.set_index("oa21cd")
    built = pd.read_csv(seg / "segments_oa.csv", dtype=str).set_index("oa21cd").loc[codes.index]
    assert len(codes) == 400
    for level in ("supergroup", "group", "subgroup"):
        assert (codes[level].astype(str) == built[level]).all()
    names = pd.read_csv(seg / "names_template.csv", dtype=str).set_index("code")["name"]
    mine = result.names[result.names["level"] == "supergroup"].set_index("segment")["segment_name"]
    assert mine.to_dict() == names.loc[mine.index].to_dict()


# --- a gazetteer as published (issue 26) -------------------------------------------------------------


def test_area_flattens_a_zipped_premium_supply_once_and_cuts_it(nation, tmp_path, capsys):
    """A gazetteer in a published layout is recognised by content (AddressBase Premium, zipped as OS
    ships it), flattened once into the reference folder (reused on the next build, private), cut to
    the area by postcode and written into the run config with its class codes."""
    from tests.gazetteer.test_published_layouts import class_of, write_records

    folder = tmp_path / "sources"
    shutil.copytree(nation["unpacked"], folder)
    gaz = pd.read_csv(nation["raw"] / "gazetteer" / "demo_llpg.csv", dtype=str, keep_default_na=False)
    gaz = gaz.head(4000)
    gaz.columns = [c.lower() for c in gaz.columns]
    premium = write_records(gaz, tmp_path / "AddressBasePremium_FULL_2025-11-03_001.csv", dtf=False)
    with zipfile.ZipFile(folder / "AB76GB_CSV.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(premium, "AddressBasePremium_FULL_2025-11-03_001.csv")

    rc, out, err = area([DEMO_LAD, "--sources", str(folder)], tmp_path, capsys)
    assert rc == 0, err
    assert "OS AddressBase Premium, flattened" in out and "4,000 addresses of the area" in out
    cfg = load_config(tmp_path / "config" / "demoborough.yaml")
    g = cfg.geography.gazetteer
    assert g.columns.class_code == "CLASS" and g.columns.parent_uprn == "PARENT_UPRN"
    cut = pd.read_csv(g.path, dtype=str, keep_default_na=False)
    assert sorted(cut["UPRN"]) == sorted(gaz["uprn"])
    want = {u: class_of(i) for i, u in enumerate(gaz["uprn"])}
    assert dict(zip(cut["UPRN"], cut["CLASS"], strict=True)) == want
    national = list((tmp_path / "reference").glob("gazetteer_addressbase_premium_*.csv"))
    assert len(national) == 1 and (national[0].stat().st_mode & 0o077) == 0

    rc, out, err = area([DEMO_LAD, "--sources", str(folder), "--force"], tmp_path, capsys)
    assert rc == 0, err
    assert "flattened (reused)" in out


def test_the_indices_of_deprivation_are_recognised_cut_and_named_in_the_config(nation, tmp_path, capsys):
    """Issue 28: the IoD 2025 File 7 in its published layout, under its published file name, is found
    by its header, cut to the area's authorities and named in the config with its attribution."""
    folder = _variant(nation, tmp_path)
    published = "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
    shutil.copy(next((nation["raw"] / "deprivation").glob("File_7_*.csv")), folder / published)
    rc, out, err = area([DEMO_LAD, "--sources", str(folder)], tmp_path, capsys)
    assert rc == 0, err
    assert "IoD 2025" in out and "LSOAs of " in out and published in out
    cfg = load_config(tmp_path / "config" / "demoborough.yaml")
    assert cfg.deprivation.england.path.name == published and cfg.deprivation.wales is None
    assert "English Indices of Deprivation 2025" in cfg.attribution
