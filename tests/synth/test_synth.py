"""Tests of the synthetic demo borough and service-extract generators (pipeline.synth)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from pipeline.address import postcode
from pipeline.synth.borough import generate_demo
from pipeline.synth.extracts import FILES, SERVICES, generate_for_real_area

SEED = 2021


def _well_formed(pc: str) -> bool:
    """A postcode written as the directory writes it ('DM4 7QX'), legal by the pipeline's one rule."""
    key = pc.replace(" ", "")
    return postcode.is_valid(key) and postcode.display(key) == pc
SHARED = Path(__file__).resolve().parents[3] / "shared" / "ons" / "trafford"
STRUCT = pd.read_csv(
    Path(__file__).resolve().parents[2] / "pipeline" / "synth" / "census_structure.csv",
    keep_default_na=False,
)


@pytest.fixture(scope="session")
def demo(demo_borough):
    """The session's demo borough (seed 2021, tests/conftest.py): (folder, summary)."""
    assert SEED == 2021
    return demo_borough


@pytest.fixture(scope="session")
def demo_again(tmp_path_factory):
    base = tmp_path_factory.mktemp("demo2")
    generate_demo(base / "raw", base / "truth", seed=SEED)
    return base


def _data_rows(path: Path) -> int:
    if path.suffix == ".xlsx":
        return len(pd.read_excel(path, sheet_name="Subscribers"))
    enc = "cp1252" if "council_tax" in path.name else "utf-8"
    return len(pd.read_csv(path, encoding=enc, dtype=str, skip_blank_lines=False))


def test_deterministic(demo, demo_again):
    a, _ = demo
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.suffix == ".csv")
    assert len(files) > 55
    for rel in files:
        assert (a / rel).read_bytes() == (demo_again / rel).read_bytes(), rel
    xlsx = Path("raw/extracts") / FILES["garden_waste"]
    assert (a / xlsx).read_bytes() == (demo_again / xlsx).read_bytes()
    for name in ("demo_oa21", "demo_wards23", "demo_lad"):
        g1 = gpd.read_file(a / "raw/boundaries" / f"{name}.gpkg")
        g2 = gpd.read_file(demo_again / "raw/boundaries" / f"{name}.gpkg")
        assert g1.drop(columns="geometry").equals(g2.drop(columns="geometry"))
        assert list(g1.geometry.to_wkb()) == list(g2.geometry.to_wkb())


def test_sizes_and_types(demo):
    base, s = demo
    assert 380 <= s["output_areas"] <= 420
    assert s["wards"] == 20
    assert 45_000 <= s["households"] <= 55_000
    assert 3_000 <= s["postcodes_live"] <= 4_000
    assert 250 <= s["postcodes_terminated"] <= 350
    assert s["postcodes_out_of_area"] == 50
    assert s["census_tables"] == 46
    assert min(s["types"].values()) >= 25 and len(s["types"]) == 8
    rows = {k: v["rows"] for k, v in s["extracts"].items()}
    assert 6_000 <= rows["stop_smoking"] <= 8_000
    assert 22_000 <= rows["council_tax_dd"] <= 28_000
    assert 10_000 <= rows["garden_waste"] <= 14_000
    assert 8_500 <= rows["library"] <= 12_000
    assert 25_000 <= rows["contact_centre"] <= 35_000
    types = pd.read_csv(base / "truth/oa_types.csv")
    assert list(types.columns) == ["OA21CD", "type", "households"]
    assert types["households"].between(90, 170).all()


def test_census_consistent(demo):
    base, s = demo
    cdir = base / "raw/census2021"
    hh = pd.read_csv(cdir / "census2021-ts041-oa-demo.csv")
    assert hh.iloc[:, 3].sum() == s["households"]
    persons = pd.read_csv(cdir / "census2021-ts001-oa-demo.csv").iloc[:, 3]
    assert 2.2 <= persons.sum() / s["households"] <= 2.6
    for table, st in STRUCT.groupby("table"):
        df = pd.read_csv(cdir / f"census2021-{table}-oa-demo.csv")
        assert list(df.columns[:3]) == ["date", "geography", "geography code"]
        assert list(df.columns[3:]) == st.sort_values("col")["header"].tolist()
        assert len(df) == s["output_areas"]
        vals = df.iloc[:, 3:].to_numpy()
        if table == "ts006":
            assert (vals[:, 0] > 0).all()
            continue
        assert (vals >= 0).all() and np.issubdtype(vals.dtype, np.integer)
        for _, r in st.iterrows():
            kids = st.loc[st["parent"].astype(int) == int(r["col"]), "col"].astype(int).tolist()
            if kids:
                assert (vals[:, int(r["col"])] == vals[:, kids].sum(1)).all(), (table, r["col"])


@pytest.mark.skipif(not SHARED.exists(), reason="real Trafford data (../shared) not present")
def test_headers_match_real_files(demo):
    base, _ = demo
    for real in sorted((SHARED / "census2021").glob("census2021-ts*-oa-trafford.csv")):
        table = real.name.split("-")[1]
        with open(real, encoding="utf-8") as f:
            real_header = f.readline()
        with open(base / "raw/census2021" / f"census2021-{table}-oa-demo.csv", encoding="utf-8") as f:
            assert f.readline() == real_header, table


def test_postcode_directory(demo):
    base, s = demo
    d = pd.read_csv(base / "raw/postcodes/ONSPD_DEMO_2025.csv", dtype=str, keep_default_na=False)
    assert d["pcds"].is_unique
    assert all(_well_formed(p) for p in d["pcds"])
    assert (d["pcd"].str.len() == 7).all() and (d["pcd2"].str.len() == 8).all()
    assert (d["pcd"].str.replace(" ", "") == d["pcds"].str.replace(" ", "")).all()
    oas = set(pd.read_csv(base / "truth/oa_types.csv")["OA21CD"])
    own = d[d["oslaua"] == "E06009999"]
    assert set(own["oa21cd"]) <= oas
    assert not set(d.loc[d["oslaua"] != "E06009999", "oa21cd"]) & oas
    assert own["doterm"].str.fullmatch(r"(\d{6})?").all()
    assert d["usertype"].isin(["0", "1"]).all() and (d["usertype"] == "1").sum() >= 5
    gaz = pd.read_csv(base / "raw/gazetteer/demo_llpg.csv", dtype=str, keep_default_na=False)
    assert list(gaz.columns) == ["UPRN", "SAON", "PAON", "STREET", "LOCALITY", "TOWN", "POSTCODE", "X", "Y"]
    assert len(gaz) == s["households"] and gaz["UPRN"].is_unique
    assert gaz["UPRN"].str.fullmatch(r"99\d{10}").all()
    live = set(own.loc[own["doterm"] == "", "pcds"])
    assert set(gaz["POSTCODE"]) == live


def test_geometry(demo):
    base, _ = demo
    oa = gpd.read_file(base / "raw/boundaries/demo_oa21.gpkg")
    wards = gpd.read_file(base / "raw/boundaries/demo_wards23.gpkg")
    lad = gpd.read_file(base / "raw/boundaries/demo_lad.gpkg")
    assert oa.crs.to_epsg() == 27700 and wards.crs.to_epsg() == 27700
    assert {"OA21CD", "LAD22CD", "LAD22NM"} <= set(oa.columns)
    assert {"WD23CD", "WD23NM", "LAD23CD", "LAD23NM"} <= set(wards.columns)
    assert oa.geometry.is_valid.all() and (oa.geometry.area > 0).all()
    outline = lad.geometry.iloc[0]
    assert abs(oa.geometry.area.sum() - outline.area) / outline.area < 0.001
    assert abs(shapely.union_all(oa.geometry.values).area - outline.area) / outline.area < 0.001
    assert 100e6 < outline.area < 300e6
    lk = pd.read_csv(base / "raw/lookups/demo_oa21_ward23_lookup.csv")
    assert list(lk.columns) == ["OA21CD", "WD23CD", "WD23NM", "LAD23CD", "LAD23NM"]
    assert set(lk["OA21CD"]) == set(oa["OA21CD"]) and set(lk["WD23CD"]) == set(wards["WD23CD"])
    gaz = pd.read_csv(base / "raw/gazetteer/demo_llpg.csv", dtype={"UPRN": str})
    hh = pd.read_csv(base / "truth/households.csv", dtype={"uprn": str})
    pts = gaz.merge(hh, left_on="UPRN", right_on="uprn").sample(2000, random_state=1)
    geo = oa.set_index("OA21CD").geometry
    inside = [
        geo[o].covers(shapely.Point(x, y)) for o, x, y in zip(pts["oa21cd"], pts["X"], pts["Y"], strict=True)
    ]
    assert np.mean(inside) > 0.995


def test_extract_truth(demo):
    base, s = demo
    codes = {
        "clean",
        "typo_o0",
        "lowercase",
        "unspaced",
        "invalid",
        "partial",
        "not_in_directory",
        "terminated",
        "out_of_area",
        "blank_row",
        "duplicate",
        "blank_postcode",
    }
    for service in SERVICES:
        path = base / "raw/extracts" / FILES[service]
        truth = pd.read_csv(base / "truth" / f"{service}_truth.csv", dtype=str, keep_default_na=False)
        assert list(truth.columns) == ["row_number", "household_id", "uprn", "true_oa21cd", "planted"]
        assert _data_rows(path) == len(truth) == s["extracts"][service]["rows"]
        assert (truth["row_number"].astype(int) == np.arange(1, len(truth) + 1)).all()
        assert set(truth["planted"]) <= codes
        counts = truth["planted"].value_counts()
        for c in ("lowercase", "unspaced", "invalid", "terminated", "blank_row", "duplicate"):
            assert counts.get(c, 0) > 0, (service, c)
    # blank rows really are blank and duplicates repeat a row
    df = pd.read_csv(base / "raw/extracts" / FILES["library"], dtype=str, skip_blank_lines=False)
    truth = pd.read_csv(base / "truth/library_truth.csv", dtype=str, keep_default_na=False)
    assert df[truth["planted"].eq("blank_row").to_numpy()].isna().all().all()
    dups = df[truth["planted"].eq("duplicate").to_numpy()]
    assert len(dups.merge(df.drop_duplicates())) == len(dups)
    bad = pd.read_csv(base / "raw/extracts" / FILES["contact_centre"], dtype=str, skip_blank_lines=False)
    tc = pd.read_csv(base / "truth/contact_centre_truth.csv", dtype=str, keep_default_na=False)
    pcs = bad["Customer Postcode"].fillna("")
    clean = tc["planted"].eq("clean").to_numpy()
    assert all(_well_formed(p) for p in pcs[clean])


def test_encodings_and_sheets(demo):
    base, _ = demo
    raw = (base / "raw/extracts" / FILES["council_tax_dd"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "£" in text and "’" in text
    wb = openpyxl.load_workbook(base / "raw/extracts" / FILES["garden_waste"], read_only=True)
    assert wb.sheetnames == ["Subscribers", "Notes"]
    for name in ("stop_smoking", "library", "contact_centre"):
        (base / "raw/extracts" / FILES[name]).read_bytes().decode("utf-8")


def test_planted_take_up_differs_by_type(demo):
    base, _ = demo
    hh = pd.read_csv(base / "truth/households.csv")
    truth = pd.read_csv(base / "truth/garden_waste_truth.csv", dtype=str, keep_default_na=False)
    users = truth.loc[truth["household_id"] != "", "household_id"].unique()
    rate = hh.assign(u=hh["household_id"].isin(users)).groupby("type")["u"].mean()
    assert rate[1] > 3 * rate[3] and rate[2] > 3 * rate[4]


@pytest.mark.skipif(not SHARED.exists(), reason="real Trafford data (../shared) not present")
def test_generate_for_real_area(tmp_path):
    s = generate_for_real_area(
        SHARED / "postcodes/onspd_2025_02_trafford_with_oa21_DERIVED.csv",
        "postcode",
        "oa21cd_pip",
        "in_codepoint_open_2025_10",
        SHARED / "census2021/census2021-ts041-oa-trafford.csv",
        SHARED / "oac2021/trafford_oac2021_assignment.csv",
        tmp_path / "raw",
        tmp_path / "truth",
        seed=SEED,
    )
    assert 90_000 <= s["households"] <= 97_000
    for service in SERVICES:
        path = tmp_path / "raw" / FILES[service]
        truth = pd.read_csv(tmp_path / "truth" / f"{service}_truth.csv", dtype=str, keep_default_na=False)
        assert _data_rows(path) == len(truth) == s[service]["rows"] > 1000
        real = truth[truth["planted"].isin(["clean", "lowercase", "unspaced"])]
        assert real["true_oa21cd"].str.fullmatch(r"E00\d{6}").all()
