"""Tests for the census loader, the variable specs and the segment build (segments/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.config import Census, Lookup, Segmentation
from segments.build import SegmentResult, build_segments_from
from segments.census import CensusError, find_table_file, households, load_table
from segments.variables import CORE_SPEC, DEFAULT_SPEC, compute_percentages, load_spec

SHARED = Path(__file__).parents[2].parent / "shared"
TRAFFORD = SHARED / "ons" / "trafford"
needs_trafford = pytest.mark.skipif(
    not (TRAFFORD / "census2021").is_dir(), reason="real Trafford data (../shared) not present"
)
PATTERN = "census2021-{table}-oa-trafford.csv"


@pytest.fixture(scope="module")
def trafford() -> Census:
    return Census(dir=TRAFFORD / "census2021", pattern=PATTERN)


@pytest.fixture(scope="module")
def official() -> pd.Series:
    table = pd.read_csv(TRAFFORD / "oac2021" / "trafford_oac2021_assignment.csv", dtype=str)
    return table.set_index("Geography_Code")["Supergroup"]


# ---------------------------------------------------------------- tiny fake census folders

OAS = ["E00000001", "E00000002", "E00000003", "E00000004", "E00000005", "E00000006"]


def _write(folder: Path, table: str, title: str, cats: dict[str, list], area="fake") -> None:
    header = ["date", "geography", "geography code"] + [
        f"{title}: {c}; measures: Value" for c in cats
    ]
    lines = [",".join(f'"{h}"' for h in header)]
    for i, oa in enumerate(OAS):
        lines.append(",".join(["2021", oa, oa] + [str(v[i]) for v in cats.values()]))
    (folder / f"census2021-{table}-oa-{area}.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture()
def fake(tmp_path: Path) -> Census:
    """Six OAs: three council-estate-like, three suburban-like."""
    _write(tmp_path, "ts054", "Tenure of household", {
        "Total: All households": [100, 100, 100, 100, 100, 100],
        "Owned": [10, 12, 8, 90, 85, 88],
        "Social rented": [80, 75, 85, 2, 5, 3],
        "Private rented": [10, 13, 7, 8, 10, 9],
    })
    _write(tmp_path, "ts045", "Number of cars or vans", {
        "Total: All households": [100, 100, 100, 100, 100, 100],
        "No cars or vans in household": [70, 65, 72, 5, 8, 4],
        "1 car or van in household": [30, 35, 28, 95, 92, 96],
    })
    _write(tmp_path, "ts041", "Number of households", {
        "Number of households": [100, 100, 100, 100, 100, 100],
    })
    return Census(dir=tmp_path, pattern="census2021-{table}-oa-fake.csv")


def _spec(tmp_path: Path, rows: list[str]) -> Path:
    path = tmp_path / "spec.csv"
    path.write_text("variable,name,table,numerator,denominator\n" + "\n".join(rows) + "\n")
    return path


FAKE_ROWS = [
    "t1,Social rented,ts054,Social rented,Total",
    "t2,Owner occupied,ts054,Owned,Total",
    "t3,No car or van,ts045,No cars or vans in household,Total",
]


# ---------------------------------------------------------------- loader on the real files


@needs_trafford
def test_load_table_trafford(trafford):
    tenure = load_table(trafford, "ts054")
    assert len(tenure) == 738
    assert tenure.index.name == "oa21cd"
    assert tenure.index.str.startswith("E00").all()
    assert "Social rented" in tenure.columns
    assert "Owned: Owns outright" in tenure.columns
    assert not any("measures" in c or c.startswith("Tenure") for c in tenure.columns)
    assert all(pd.api.types.is_integer_dtype(t) for t in tenure.dtypes)
    # rebuilt tables without the measures suffix and with uneven colon spacing are tidied too
    econ = load_table(trafford, "TS066")
    assert "Economically active (excluding full-time students): In employment" in econ.columns
    hh = households(trafford)
    assert len(hh) == 738 and int(hh.sum()) == 96271
    assert find_table_file(trafford, "ts041").name == "census2021-ts041-oa-trafford.csv"


@needs_trafford
def test_missing_table_names_table_folder_and_files_there(trafford):
    with pytest.raises(CensusError) as err:
        load_table(trafford, "ts999")
    msg = str(err.value)
    assert "ts999" in msg and str(trafford.dir) in msg and PATTERN in msg
    assert "census2021-ts041-oa-trafford.csv" in msg


# ---------------------------------------------------------------- errors, on fake folders


def test_missing_tables_and_categories_are_collected(fake, tmp_path):
    spec = _spec(tmp_path, FAKE_ROWS + [
        "x1,Flats,ts044,Flat,Total",
        "x2,Bad category,ts054,Council rented,Total",
        "x3,Another bad,ts045,Two cars,Total",
    ])
    with pytest.raises(CensusError) as err:
        compute_percentages(fake, spec)
    problems = err.value.problems
    assert len(problems) == 3
    msg = str(err.value)
    assert "table ts044" in msg and "census2021-ts044-oa-fake.csv" in msg
    assert "census2021-ts054-oa-fake.csv" in msg  # lists the table files that are there
    assert "'Council rented'" in msg and "available categories" in msg and "'Owned'" in msg
    assert "'Two cars'" in msg and "'No cars or vans in household'" in msg


def test_not_nomis_layout_and_bad_values(fake, tmp_path):
    (tmp_path / "census2021-ts001-oa-fake.csv").write_text("oa,total\nE00000001,5\n")
    path = tmp_path / "census2021-ts045-oa-fake.csv"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(",72,", ",n/a,")
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CensusError) as err:
        compute_percentages(fake, _spec(tmp_path, FAKE_ROWS + ["p,People,ts001,total,Total"]))
    msg = str(err.value)
    assert len(err.value.problems) == 2
    assert "not in the Nomis bulk layout" in msg and "'oa', 'total'" in msg
    assert "census2021-ts045-oa-fake.csv" in msg and "row 4" in msg and "'n/a'" in msg
    assert "No cars or vans in household" in msg


def test_missing_folder(tmp_path):
    cfg = Census(dir=tmp_path / "nowhere", pattern=PATTERN)
    with pytest.raises(CensusError, match="does not exist"):
        load_table(cfg, "ts001")


def test_percentages_and_deterministic_small_build(fake, tmp_path):
    spec = _spec(tmp_path, FAKE_ROWS)
    pct = compute_percentages(fake, spec)
    assert list(pct.columns) == ["t1", "t2", "t3"]
    assert pct.loc["E00000001", "t1"] == pytest.approx(80.0)
    seg = Segmentation(k=2, n_init=5, variables=spec, k_groups=None)
    one = build_segments_from(fake, seg, seed=7)
    two = build_segments_from(fake, seg, seed=7)
    assert isinstance(one, SegmentResult)
    pd.testing.assert_frame_equal(one.assignments, two.assignments)
    assert list(one.assignments.columns) == ["oa21cd", "supergroup", "segment"]
    a = one.assignments.set_index("oa21cd")["segment"]
    assert a.iloc[:3].nunique() == 1 and a.iloc[3:].nunique() == 1 and a.iloc[0] != a.iloc[3]
    assert set(one.names["segment"]) == {"1", "2"}
    assert set(one.names["level"]) == {"supergroup"}
    estate = one.names.set_index("segment").loc[a.iloc[0], "segment_name"]
    assert estate == "Renters with no car"  # plain words from the vocabulary
    assert one.variables.min().min() >= 0 and one.variables.max().max() <= 1


# ---------------------------------------------------------------- specs on Trafford


def test_specs_load():
    oac = load_spec(DEFAULT_SPEC)
    assert len(oac) == 60 and list(oac["variable"][:2]) == ["v01", "v02"]
    core = load_spec(CORE_SPEC)
    assert 20 <= len(core) <= 25


@needs_trafford
@pytest.mark.parametrize("spec", [DEFAULT_SPEC, CORE_SPEC], ids=["oac2021", "core"])
def test_spec_computes_for_trafford(trafford, spec):
    pct = compute_percentages(trafford, spec)
    table = load_spec(spec)
    assert pct.shape == (738, len(table))
    assert not pct.isna().to_numpy().any()
    shares = pct[table.loc[table["transform"] == "percent", "variable"]]
    assert (shares >= 0).all().all() and (shares <= 100 + 1e-9).all().all()
    density = table.loc[table["table"] == "ts006", "variable"].item()
    assert 1 < pct[density].median() < 500  # persons per hectare


@needs_trafford
def test_lookup_official_oac(trafford, official, tmp_path):
    names = tmp_path / "names.csv"
    names.write_text("code,name\n1,Retirees\n3,Multicultural and educated urbanites\n")
    seg = Segmentation(method="lookup", lookup=Lookup(
        path=TRAFFORD / "oac2021" / "trafford_oac2021_assignment.csv",
        key_column="Geography_Code", code_column="Supergroup", names=names))
    result = build_segments_from(trafford, seg, seed=1)
    a = result.assignments.set_index("oa21cd")["segment"]
    assert len(a) == 738 and (a == official.loc[a.index]).all()
    assert list(result.names["segment"]) == [str(i) for i in range(1, 9)]
    named = result.names.set_index("segment")["segment_name"]
    assert named["1"] == "Retirees" and named["2"] == "Owner-occupiers in semi-detached homes"
    assert result.centres.shape == (8, 60) and np.isfinite(result.wcss)


def test_lookup_uprn_needs_a_link(fake, tmp_path):
    path = tmp_path / "lookup.csv"
    path.write_text("uprn,code\n100012345678,1\n")
    seg = Segmentation(method="lookup", lookup=Lookup(
        path=path, key="uprn", key_column="uprn", code_column="code"))
    with pytest.raises(ValueError, match="to_oa"):
        build_segments_from(fake, seg)
