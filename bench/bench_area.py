"""Benchmark `insight area` on national-size products: prints wall time and peak memory.

A synthetic nation in the national layouts is made once into bench/.cache/area/ (git-ignored):
a 2.7M-row postcode directory in the ONSPD column layout, zipped as ONSPD publishes it
(Data/ONSPD_FEB_2025_UK.csv); the 25 census tables `insight area` needs as Nomis bulk zips, each
holding census2021-tsNNN-oa.csv of 188,880 Output Areas with the real tables' headers (taken from
../shared/ons/trafford) and census2021-tsNNN-ltla.csv; an OA21 -> ward -> LAD best-fit lookup of
188,880 rows (331 LADs, 7,870 wards); and OA and ward boundaries (squares) as GeoPackages.

Then `insight area` cuts it for one LAD of 571 Output Areas, in a child process whose peak
resident memory is read from the operating system: once from cold (the national postcode
directory reduced and its reference database built) and once more for another LAD, reusing the
national postcode reference as a second area made from the same downloads would; then a third
with `--national-ranges` (every OA of the 25 national tables read for the variables' ranges).
Target (issue 13): <= 60 s and <= 4 GB. Run: .venv/bin/python bench/bench_area.py
"""

from __future__ import annotations

import csv
import resource
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import duckdb
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.area.build import needed_tables  # noqa: E402

CACHE = REPO / "bench" / ".cache" / "area"
SOURCES = CACHE / "sources"
TRAFFORD = REPO.parent / "shared" / "ons" / "trafford" / "census2021"
N_OA, N_POSTCODES, OA_PER_LAD, OA_PER_WARD = 188_880, 2_700_000, 571, 24
ONSPD_COLUMNS = ("pcd pcd2 pcds dointr doterm oscty ced oslaua osward parish usertype oseast1m osnrth1m "
                 "osgrdind oshlthau nhser ctry rgn streg pcon eer teclec ttwa pct itl statsward oa01 "
                 "casward npark lsoa01 msoa01 ur01ind oac01 oa11 lsoa11 msoa11 wz11 sicbl bua24 ru11ind "
                 "oac11 lat long lep1 lep2 pfa imd calncv icb oa21 lsoa21 msoa21").split()
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _zip(target: Path, members: dict[str, Path]) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, path in members.items():
            z.write(path, name)


def make_nation() -> None:
    """Write the synthetic national products into SOURCES (once)."""
    if (CACHE / ".complete").exists():
        return
    shutil.rmtree(CACHE, ignore_errors=True)
    SOURCES.mkdir(parents=True)
    tmp = CACHE / "tmp"
    tmp.mkdir()
    t0 = time.perf_counter()
    con = duckdb.connect()
    code = "'{p}' || lpad(CAST({x} + 1 AS VARCHAR), 6, '0')"
    oa, ward, lad = (code.format(p="E00", x="i"), code.format(p="E05", x=f"i // {OA_PER_WARD}"),
                     code.format(p="E06", x=f"i // {OA_PER_LAD}"))
    con.execute(f"CREATE TABLE oa AS SELECT i, {oa} AS oa, {ward} AS ward, {lad} AS lad "
                f"FROM range({N_OA}) t(i)")
    con.execute(f"""COPY (SELECT oa AS OA21CD, ward AS WD23CD, 'Ward ' || ward AS WD23NM, '' AS WD23NMW,
                         lad AS LAD23CD, 'Authority ' || lad AS LAD23NM, '' AS LAD23NMW, i + 1 AS ObjectId
                         FROM oa ORDER BY i) TO '{SOURCES / "OA21_WD23_LAD23_EW_LU.csv"}' (HEADER)""")
    # the postcode directory: ~14 postcodes per OA, valid and distinct
    letters = "[" + ", ".join(f"'{c}'" for c in LETTERS) + "]"
    areas = "['AB', 'AL', 'BA', 'BB', 'BD', 'BH', 'BL', 'BN']"
    pcds = (f"{areas}[i // 400000 + 1] || CAST((i // 4000) % 100 + 1 AS VARCHAR) || ' ' || "
            f"CAST((i // 400) % 10 AS VARCHAR) || {letters}[(i % 400) // 20 + 1] || {letters}[i % 20 + 1]")
    cols = {c: "''" for c in ONSPD_COLUMNS}
    cols.update(pcds="pcds", pcd="replace(pcds, ' ', '')", pcd2="pcds", dointr="'199001'",
                doterm="CASE WHEN i % 7 = 0 THEN '201905' ELSE '' END", oslaua="lad", osward="ward",
                usertype="CASE WHEN i % 97 = 0 THEN '1' ELSE '0' END",
                oseast1m="CAST(300000 + (o % 400) * 250 + i % 200 AS VARCHAR)",
                osnrth1m="CAST(200000 + (o // 400) * 250 + i % 150 AS VARCHAR)", osgrdind="'1'",
                ctry="'E92000001'", oa21="oa", lat="'53.4'", long="'-2.3'")
    select = ", ".join(f"{v} AS {c}" for c, v in cols.items())
    directory = tmp / "ONSPD_FEB_2025_UK.csv"
    con.execute(f"""COPY (SELECT {select} FROM (SELECT i, {pcds} AS pcds, o, oa, ward, lad
                         FROM (SELECT p.i, o.i AS o, o.oa, o.ward, o.lad FROM range({N_POSTCODES}) p(i)
                               JOIN oa o ON o.i = p.i % {N_OA})) ORDER BY pcds)
                    TO '{directory}' (HEADER)""")
    _zip(SOURCES / "ONSPD_FEB_2025_UK.zip", {"Data/ONSPD_FEB_2025_UK.csv": directory})
    directory.unlink()
    # the census tables, with the real headers
    tables = [t for t in needed_tables() if (TRAFFORD / f"census2021-{t}-oa-trafford.csv").exists()]
    for n, table in enumerate(tables):
        with open(TRAFFORD / f"census2021-{table}-oa-trafford.csv", encoding="utf-8") as f:
            names = next(csv.reader([f.readline().strip()]))
        values = [f"CAST(hash(i, {n}, {j}) % 400 AS INTEGER) AS \"{c}\"" for j, c in enumerate(names[3:])]
        oa_csv, lad_csv = tmp / f"census2021-{table}-oa.csv", tmp / f"census2021-{table}-ltla.csv"
        con.execute(f"""COPY (SELECT 2021 AS "date", oa AS "geography", oa AS "geography code",
                             {', '.join(values)} FROM oa ORDER BY i) TO '{oa_csv}' (HEADER)""")
        sums = ", ".join(f'sum("{c}") AS "{c}"' for c in names[3:])
        con.execute(f"""COPY (SELECT 2021 AS "date", lad AS "geography", lad AS "geography code", {sums}
                             FROM read_csv('{oa_csv}') t JOIN oa ON oa.oa = t."geography code"
                             GROUP BY lad ORDER BY lad) TO '{lad_csv}' (HEADER)""")
        _zip(SOURCES / f"census2021-{table}.zip", {oa_csv.name: oa_csv, lad_csv.name: lad_csv})
        oa_csv.unlink()
        lad_csv.unlink()
    # boundaries: a square per OA, a square per ward (EPSG:27700)
    import geopandas as gpd
    import shapely

    i = np.arange(N_OA)
    x0, y0 = 300000 + (i % 400) * 250.0, 200000 + (i // 400) * 250.0
    oas = gpd.GeoDataFrame({"OA21CD": con.execute("SELECT oa FROM oa ORDER BY i").fetchnumpy()["oa"]},
                           geometry=shapely.box(x0, y0, x0 + 250, y0 + 250), crs=27700)
    oas.to_file(SOURCES / "Output_Areas_2021_EW_BGC_V2.gpkg", layer="OA_2021_EW_BGC_V2")
    wards = oas.assign(WD23CD=con.execute("SELECT ward FROM oa ORDER BY i").fetchnumpy()["ward"])
    wards = wards.dissolve("WD23CD").reset_index()[["WD23CD", "geometry"]]
    wards["WD23NM"] = "Ward " + wards["WD23CD"]
    wards.to_file(SOURCES / "Wards_May_2023_Boundaries_UK_BGC.gpkg", layer="WD_MAY_2023_UK_BGC")
    shutil.rmtree(tmp)
    (CACHE / ".complete").write_text("done\n")
    print(f"synthetic nation written to {SOURCES} in {time.perf_counter() - t0:.0f} s")


def timed_area(lad: str, out: Path, *extra: str) -> tuple[float, float, str]:
    """Run `insight area` for `lad` in a child process: (wall seconds, peak RSS GB, its output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "area", lad, "--sources", str(SOURCES), "--data-dir",
         str(out / "areas"), "--config-dir", str(out / "config"), "--reference-dir", str(out / "reference"),
         *extra],
        cwd=REPO, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"insight area failed:\n{proc.stdout}\n{proc.stderr}")
    return wall, max(peak, before) / 1024 / 1024, proc.stdout


def main() -> None:
    make_nation()
    size = sum(p.stat().st_size for p in SOURCES.iterdir()) / 1e9
    n_tables = len(list(SOURCES.glob("census2021-*.zip")))
    print(f"national products: {len(list(SOURCES.iterdir()))} files, {size:.2f} GB zipped "
          f"({N_POSTCODES:,} postcodes, {N_OA:,} Output Areas x {n_tables} census tables)")
    out = CACHE / "out"
    shutil.rmtree(out, ignore_errors=True)
    wall, peak, text = timed_area("E06000100", out)
    print(text)
    print(f"insight area, one LAD from cold (national directory reduced, reference built): "
          f"{wall:.1f} s wall, peak memory {peak:.2f} GB (target <= 60 s, <= 4 GB)")
    wall2, peak2, _ = timed_area("E06000200", out)
    print(f"insight area, another LAD reusing the national postcode reference: {wall2:.1f} s wall, "
          f"peak memory {peak2:.2f} GB (peak of both runs)")
    wall3, peak3, _ = timed_area("E06000300", out, "--national-ranges")
    print(f"insight area --national-ranges, a third LAD (the 60 variables' ranges over all {N_OA:,} OAs): "
          f"{wall3:.1f} s wall, peak memory {peak3:.2f} GB (peak of the three runs)")
    shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
