"""Small builders shared by the tests."""

from pathlib import Path

from pipeline.config import RunConfig
from pipeline.escape import FORMULA_PREFIXES


def formula_cells(cells) -> list[str]:
    """The cells a spreadsheet would read as a formula: starting = + - @ tab or CR, and not a plain
    number (a negative count is data). Written independently of `pipeline.escape`'s own test."""
    def number(text: str) -> bool:
        try:
            float(text)
        except ValueError:
            return False
        return True

    return [c for c in cells if c.startswith(FORMULA_PREFIXES) and not number(c)]


def tiny_config(tmp: Path, services: list[dict], **extra) -> RunConfig:
    """A RunConfig whose geography paths are placeholders (for stage tests on hand-made tables)."""
    raw = {
        "run": "t",
        "area_name": "Testshire",
        "private_dir": str(tmp / "private"),
        "outputs_dir": str(tmp / "outputs"),
        "geography": {
            "oa_boundaries": {"path": "x", "code_column": "c"},
            "wards": {"path": "x", "code_column": "c"},
            "postcode_directory": {"path": "x"},
        },
        "census": {"dir": "x"},
        "services": services,
    } | extra
    return RunConfig.model_validate(raw)


def make_ref_postcodes(con, rows: list[tuple]) -> None:
    """Create the geocode stage's `ref_postcodes` (the layout of `boundaries.loaders.postcode_directory_sql`)
    from rows of (pcds, oa21cd, ward_code, is_live[, non_geographic, large_user]); pc_key is derived,
    the point is (1, 2) where the postcode has an OA, and lad_code is the demo borough's."""
    con.execute("""CREATE TABLE ref_postcodes (pc_key VARCHAR, pcds VARCHAR, oa21cd VARCHAR,
                   ward_code VARCHAR, lad_code VARCHAR, easting DOUBLE, northing DOUBLE, is_live BOOLEAN,
                   non_geographic BOOLEAN, large_user BOOLEAN)""")
    for pcds, oa, ward, live, *flags in rows:
        non_geographic, large_user = (*flags, False, False)[:2]
        point = None if oa is None or non_geographic else (1.0, 2.0)
        con.execute("INSERT INTO ref_postcodes VALUES (?, ?, ?, ?, 'E06009999', ?, ?, ?, ?, ?)",
                    [pcds.replace(" ", ""), pcds, oa, ward, *(point or (None, None)), live, non_geographic,
                     large_user])


def ward_choropleth(wards, out: Path, title: str, value_column: str = "penetration_pct", **options) -> Path:
    """One ward layer drawn by the render stage's own map writer (`maps.layered_map`, as the
    service ward maps are), for the tests of what a map holds."""
    from pipeline.render.maps import layered_map

    return layered_map([("Wards", wards, value_column)], out, title, **options)
