"""`insight area` on hostile and broken downloads folders (issue 23): each a clear `error:` (or a
note), never a traceback, in bounded time and memory, and never a byte of the secret key.

The folder is a tiny nation made here in milliseconds (one authority of four Output Areas in two
wards: lookup, ONSPD, TS041, OA and ward boundaries), so each case changes one file of a folder
that otherwise builds. The zip bomb and the wide header and row are run as a separate process
whose peak memory (ru_maxrss) is measured.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from pipeline.cli import main
from tests.helpers import REPO

LAD = "E06009999"
OAS = [("E00900001", "E05900001"), ("E00900002", "E05900001"), ("E00900003", "E05900002"),
       ("E00900004", "E05900002")]
ONSPD_HEADER = "pcds,dointr,doterm,oslaua,osward,usertype,oseast1m,osnrth1m,osgrdind,oa21"
TS041_HEADER = "date,geography,geography code,Number of households: Number of households; measures: Value"
#: The fake installation secret planted in the tests (64 hex characters, as pipeline.secret writes)
SECRET = "5ec2e7" * 10 + "cafe"
MB = 10**6


def tiny_nation(folder: Path) -> Path:
    """One authority (Tinytown, E06009999): four OAs, two wards, eight postcodes, unpacked."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "OA21_WD23_LAD23_EW_LU.csv").write_text(
        "OA21CD,WD23CD,WD23NM,LAD23CD,LAD23NM\n"
        + "".join(f"{oa},{wd},Ward {wd[-1]},{LAD},Tinytown\n" for oa, wd in OAS), encoding="utf-8")
    rows = []
    for i, (oa, wd) in enumerate(OAS):
        for j in range(2):
            rows.append(f"TT1 {i}{'AB'[j]}A,199001,,{LAD},{wd},0,{380050 + 100 * i},{395050 + 10 * j},1,{oa}")
    (folder / "ONSPD_FEB_2025_UK.csv").write_text("\n".join([ONSPD_HEADER, *rows]) + "\n", encoding="utf-8")
    (folder / "census2021-ts041-oa.csv").write_text(
        TS041_HEADER + "\n" + "".join(f"2021,{oa},{oa},{100 + i}\n" for i, (oa, _) in enumerate(OAS)),
        encoding="utf-8")
    squares = [box(380000 + 100 * i, 395000, 380100 + 100 * i, 395100) for i in range(len(OAS))]
    gpd.GeoDataFrame({"OA21CD": [oa for oa, _ in OAS]}, geometry=squares, crs=27700).to_file(
        folder / "Output_Areas_2021_EW_BGC_V2.gpkg", layer="OA_2021_EW_BGC_V2")
    wards = [box(380000, 395000, 380200, 395100), box(380200, 395000, 380400, 395100)]
    gpd.GeoDataFrame({"WD23CD": ["E05900001", "E05900002"], "WD23NM": ["Ward 1", "Ward 2"]}, geometry=wards,
                     crs=27700).to_file(folder / "Wards_May_2023_Boundaries_UK_BGC.gpkg", layer="WD_MAY_2023")
    return folder


def area(sources: Path, tmp: Path, capsys, *extra: str) -> tuple[int, str, str]:
    rc = main(["area", LAD, "--sources", str(sources), "--data-dir", str(tmp / "areas"),
               "--config-dir", str(tmp / "config"), "--reference-dir", str(tmp / "reference"), *extra])
    out = capsys.readouterr()
    return rc, out.out, out.err


def area_process(sources: Path, tmp: Path, *extra: str) -> tuple[int, str, str, float, float]:
    """`insight area` in its own process: (status, stdout, stderr, seconds, peak memory in MB)."""
    code = ("import resource, sys\nfrom pipeline.cli import main\nrc = main(sys.argv[1:])\n"
            "print(f'PEAK_KB={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', file=sys.stderr)\n"
            "sys.exit(rc)\n")
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "area", LAD, "--sources", str(sources), "--data-dir",
                           str(tmp / "areas"), "--config-dir", str(tmp / "config"), "--reference-dir",
                           str(tmp / "reference"), *extra], capture_output=True, text=True, cwd=REPO,
                          timeout=300)
    seconds = time.perf_counter() - t0
    err, mark, peak = done.stderr.rpartition("PEAK_KB=")
    if not mark:  # the process died before it could say (a traceback): its whole stderr
        return done.returncode, done.stdout, done.stderr, seconds, float("inf")
    return done.returncode, done.stdout, err, seconds, int(peak.strip()) / 1024


def no_traceback(err: str) -> None:
    assert "Traceback" not in err and "this is a bug in the pipeline" not in err, err
    assert err.startswith("error: "), err


@pytest.fixture
def sources(tmp_path) -> Path:
    return tiny_nation(tmp_path / "sources")


def test_the_tiny_nation_builds(sources, tmp_path, capsys):
    rc, out, err = area(sources, tmp_path, capsys)
    assert rc == 0, err
    assert "Area 'tinytown': Tinytown (E06009999)" in out
    assert (tmp_path / "areas" / "tinytown" / "census2021" / "census2021-ts041-oa.csv").is_file()


# --- 1. links and the secret -----------------------------------------------------------------------


def _everything_written(tmp: Path, *skip: Path) -> bytes:
    out = b""
    for path in tmp.rglob("*"):
        if path.is_file() and not path.is_symlink() and not any(path.is_relative_to(s) for s in skip):
            out += path.read_bytes()
    return out


@pytest.mark.parametrize("how", ["symlink", "hardlink", "symlink_inside"])
def test_the_secret_is_never_read_or_shown(sources, tmp_path, capsys, caplog, monkeypatch, how):
    """The probe of issue 23: a link named census2021-ts041-oa.csv to the installation's secret put
    the key on the terminal (the first line of a file not in the Nomis layout was quoted)."""
    secret = (sources if how == "symlink_inside" else tmp_path / "private") / ".insight-secret"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    monkeypatch.setenv("INSIGHT_SECRET_FILE", str(secret))
    (sources / "census2021-ts041-oa.csv").unlink()
    planted = sources / "census2021-ts041-oa.csv"
    if how == "hardlink":  # the secret's own inode under a product's name
        os.link(secret, planted)
    else:  # a link to it, out of the folder or inside it
        planted.symlink_to(secret)
    caplog.set_level("DEBUG")
    rc, out, err = area(sources, tmp_path, capsys)
    no_traceback(err)
    assert rc == 2 and "census table ts041" in err
    logs = caplog.text
    for text in (out, err, logs):
        for fragment in (SECRET, SECRET[:16], SECRET[-16:]):
            assert fragment not in text
    written = _everything_written(tmp_path, secret.parent, sources)
    assert SECRET[:16].encode() not in written
    assert "never read" in " ".join(err.split()) or "not followed" in " ".join(err.split())


def test_an_unrecognised_file_is_described_by_size_and_kind_never_its_contents(sources, tmp_path, capsys):
    (sources / "census2021-ts041-oa.csv").write_text("PRIVATE-LINE-ONE,abc\nsecond\n", encoding="utf-8")
    rc, _, err = area(sources, tmp_path, capsys)
    no_traceback(err)
    assert rc == 2 and "PRIVATE-LINE-ONE" not in err
    assert "(a 28 bytes text file) is not in the Nomis bulk layout" in " ".join(err.split())


def test_a_link_out_of_the_folder_is_not_followed(sources, tmp_path, capsys):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (sources / "OA21_WD23_LAD23_EW_LU.csv").rename(outside / "lookup.csv")
    (sources / "OA21_WD23_LAD23_EW_LU.csv").symlink_to(outside / "lookup.csv")
    (sources / "dev").symlink_to("/dev/zero")
    rc, _, err = area(sources, tmp_path, capsys)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2 and "Best-fit lookup" in text or "best-fit lookup: not found" in text
    # a link inside the folder to a regular file in it is read
    (sources / "OA21_WD23_LAD23_EW_LU.csv").unlink()
    (outside / "lookup.csv").rename(sources / "lookup-real.csv")
    (sources / "OA21_WD23_LAD23_EW_LU.csv").symlink_to(sources / "lookup-real.csv")
    rc, out, err = area(sources, tmp_path, capsys)
    assert rc == 0, err
    assert "/dev/zero" not in out and "not a regular file" in out


# --- 2. zip bombs ----------------------------------------------------------------------------------


def _deflated(member: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(member)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _bomb(path: Path, member: str, header: str, size: int) -> Path:
    """A zip whose member is `header` and then `size` bytes of zeros ('0', deflated about 1,000 to 1)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, \
            z.open(_deflated(member), "w", force_zip64=True) as f:
        f.write((header + "\n").encode())
        block = b"0" * MB
        for _ in range(size // MB):
            f.write(block)
    return path


def test_a_zip_bomb_is_refused_before_it_is_unzipped(sources, tmp_path):
    (sources / "census2021-ts041-oa.csv").unlink()
    bomb = _bomb(sources / "census2021-ts041.zip", "census2021-ts041-oa.csv", TS041_HEADER, 200 * MB)
    assert bomb.stat().st_size < 1 * MB
    rc, out, err, seconds, peak = area_process(sources, tmp_path)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2
    assert f"{bomb} (census2021-ts041-oa.csv): it declares 200 MB unzipped from" in text
    assert "over the limit of 200 to 1" in text and "nothing was unzipped" in text and "Fix:" in text
    assert seconds < 60 and peak < 1000, (seconds, peak)
    assert not any(p.name.endswith("ts041-oa.csv") for p in tmp_path.rglob("*") if p.is_file()
                   and not p.is_relative_to(sources))


def test_a_bomb_let_through_by_a_raised_limit_is_stopped_at_its_first_over_long_line(sources, tmp_path):
    (sources / "census2021-ts041-oa.csv").unlink()
    bomb = _bomb(sources / "census2021-ts041.zip", "census2021-ts041-oa.csv", TS041_HEADER, 200 * MB)
    rc, _, err, seconds, peak = area_process(sources, tmp_path, "--max-zip-ratio", "5000")
    no_traceback(err)
    text = " ".join(err.split())
    start = len(TS041_HEADER) + 1
    assert rc == 2 and f"{bomb} (census2021-ts041-oa.csv): the line starting at byte {start} is" in text
    assert "the copy out of the zip was stopped and deleted" in text
    assert seconds < 60 and peak < 1000, (seconds, peak)


def test_the_unzipped_size_limit_is_an_option(sources, tmp_path, capsys):
    ts041 = sources / "census2021-ts041-oa.csv"
    with zipfile.ZipFile(sources / "census2021-ts041.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(ts041, ts041.name)
    ts041.unlink()
    rc, _, err = area(sources, tmp_path, capsys, "--max-unzipped-gb", "0.0000001")
    no_traceback(err)
    assert rc == 2 and "over the limit of 100 bytes per file" in err
    rc, _, err = area(sources, tmp_path, capsys)
    assert rc == 0, err


def _lying_zip(path: Path, member: str, header: str, real: int, declared: int) -> Path:
    """A zip whose member holds `real` bytes (the header, then one short row over and over) but
    whose central directory declares `declared`."""
    row = f"2021,{OAS[0][0]},{OAS[0][0]},100\n".encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z, \
            z.open(_deflated(member), "w") as f:
        f.write((header + "\n").encode())
        block = row * (MB // len(row))
        for _ in range(real // MB):
            f.write(block)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)  # the central directory's uncompressed size
    path.write_bytes(bytes(data))
    with zipfile.ZipFile(path) as z:
        assert z.getinfo(member).file_size == declared
    return path


def test_a_zip_that_lies_about_a_size_is_stopped_at_the_size_it_declares(sources, tmp_path):
    (sources / "census2021-ts041-oa.csv").unlink()
    liar = _lying_zip(sources / "census2021-ts041.zip", "census2021-ts041-oa.csv", TS041_HEADER, 150 * MB,
                      50 * MB)
    rc, _, err, seconds, peak = area_process(sources, tmp_path)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2 and f"{liar} (census2021-ts041-oa.csv): its content does not match what the zip" in text
    assert "the copy was stopped and deleted" in text
    assert seconds < 60 and peak < 1000, (seconds, peak)
    assert not [p for p in (tmp_path / "areas").rglob("*") if p.is_file() and p.stat().st_size > 10 * MB]


def test_a_zip_listing_too_many_files_is_not_opened(sources, tmp_path, capsys):
    from pipeline.area.find import find
    from pipeline.area.guard import Limits

    many = sources / "Output_Areas_many.zip"
    with zipfile.ZipFile(many, "w") as z:
        for i in range(50):
            z.writestr(f"part-{i:03d}.csv", "x\n")
    src = find(sources, ["ts041"], Limits(max_members=20))
    assert [p for p in src.refused if p.startswith(f"{many}: the zip lists 50 files")]
    assert "OA21CD" not in str(src.refused) and "oa_boundaries" in src.found
    assert not find(sources, ["ts041"]).refused  # within the default of 100,000


# --- 3. broken national CSVs -----------------------------------------------------------------------


def test_a_row_of_the_wrong_width_names_the_file_and_line(sources, tmp_path, capsys):
    onspd = sources / "ONSPD_FEB_2025_UK.csv"
    lines = onspd.read_text().splitlines()
    lines[4] = lines[4].rsplit(",", 2)[0]  # two columns short
    onspd.write_text("\n".join(lines) + "\n")
    rc, _, err = area(sources, tmp_path, capsys)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2
    assert f"{onspd}, line 5: the row has 8 columns; every row must have the header's 10" in text


def test_a_nul_byte_in_the_lookup_header_is_named_not_not_found(sources, tmp_path, capsys):
    lookup = sources / "OA21_WD23_LAD23_EW_LU.csv"
    lookup.write_bytes(lookup.read_bytes().replace(b"WD23CD", b"WD23\0CD", 1))
    rc, _, err = area(sources, tmp_path, capsys)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2 and "its header holds a NUL byte (column 2)" in text and "not found" not in text


def test_a_header_of_200000_columns_is_refused_in_bounded_memory(sources, tmp_path):
    onspd = sources / "ONSPD_FEB_2025_UK.csv"
    lines = onspd.read_text().splitlines()
    onspd.write_text(lines[0] + ",x" * 200_000 + "\n" + "\n".join(lines[1:]) + "\n")
    rc, _, err, seconds, peak = area_process(sources, tmp_path)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2 and "its header has 200,010 columns, over the limit of 1,000" in text
    assert seconds < 60 and peak < 1000, (seconds, peak)


def test_a_row_of_200000_columns_is_refused_in_bounded_memory(sources, tmp_path):
    census = sources / "census2021-ts041-oa.csv"
    lines = census.read_text().splitlines()
    lines[2] = lines[2] + ",7" * 200_000
    census.write_text("\n".join(lines) + "\n")
    rc, _, err, seconds, peak = area_process(sources, tmp_path)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2 and f"{census}, line 3: the row has more than 4 columns" in text
    assert seconds < 60 and peak < 1000, (seconds, peak)


def test_an_over_long_line_names_the_limit(sources, tmp_path, capsys):
    census = sources / "census2021-ts041-oa.csv"
    lines = census.read_text().splitlines()
    lines[3] = lines[3] + "9" * (2 * MB)
    census.write_text("\n".join(lines) + "\n")
    rc, _, err = area(sources, tmp_path, capsys)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2 and f"{census}, line 4: the line is longer than the limit of 1.05 MB" in text


@pytest.mark.parametrize("row, says", [
    (b'2021,"E00900002,E00900002,101', "a value opens a double quote it does not close"),
    ("2021,E00900002,Caf\u00e9,101".encode("cp1252"), "the file is not UTF-8 encoded"),
])
def test_a_malformed_row_names_the_file_and_line_without_its_contents(sources, tmp_path, capsys, row, says):
    census = sources / "census2021-ts041-oa.csv"
    lines = census.read_bytes().splitlines()
    lines[2] = row
    census.write_bytes(b"\n".join(lines) + b"\n")
    rc, _, err = area(sources, tmp_path, capsys)
    no_traceback(err)
    text = " ".join(err.split())
    assert rc == 2 and f"{census}, line 3: {says}" in text and "Caf" not in text
