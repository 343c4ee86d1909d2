"""Reading one Nomis bulk census table (`segments.census`): numbers parsed once, every bad cell
named with its row and column, codes kept as text."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.config import Census
from segments.census import CensusError, load_table

HEADER = "date,geography,geography code,Tenure: Total: All households,Tenure: Owned,Tenure: Social rented\n"


def _table(tmp_path: Path, body: str) -> Census:
    (tmp_path / "census2021-ts054-oa-test.csv").write_text(HEADER + body, encoding="utf-8")
    return Census(dir=tmp_path, pattern="census2021-{table}-oa-test.csv")


def test_clean_table_gives_integers_and_codes_as_text(tmp_path):
    t = load_table(_table(tmp_path, "2021,a, 00123 ,10,6,4\n2021,b,E00000002,12,5,7\n"), "ts054")
    assert list(t.index) == ["00123", "E00000002"]  # leading zeros and spaces: text, stripped
    assert t.to_dict("list") == {"Total: All households": [10, 12], "Owned": [6, 5], "Social rented": [4, 7]}
    assert all(str(d) == "int64" for d in t.dtypes)


def test_thousands_commas_and_decimals_are_numbers(tmp_path):
    t = load_table(_table(tmp_path, '2021,a,E1,"1,200",700.5,499.5\n2021,b,E2,12,5,7\n'), "ts054")
    assert t["Total: All households"].tolist() == [1200, 12]
    assert t["Owned"].tolist() == [700.5, 5.0]


@pytest.mark.parametrize("cell", ["", "nan", "n/a", "1_000", "True", "x"])
def test_every_non_numeric_cell_is_named_with_row_and_column(tmp_path, cell):
    body = f"2021,a,E1,10,{cell},4\n2021,b,E2,12,5,7\n2021,c,E3,9,{cell},{cell}\n"
    with pytest.raises(CensusError) as err:
        load_table(_table(tmp_path, body), "ts054")
    (problem,) = err.value.problems
    assert "has 3 non-numeric value(s)" in problem
    assert f"row 2, column 'Tenure: Owned': {cell!r}" in problem
    assert f"row 4, column 'Tenure: Owned': {cell!r}" in problem
    assert f"row 4, column 'Tenure: Social rented': {cell!r}" in problem


def test_repeated_area_codes_are_a_problem(tmp_path):
    with pytest.raises(CensusError, match=r"repeats the area codes \['E1'\]"):
        load_table(_table(tmp_path, "2021,a,E1,10,6,4\n2021,b,E1,12,5,7\n"), "ts054")
