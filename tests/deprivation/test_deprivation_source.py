"""The Indices of Deprivation read as published: the IoD 2025 File 7 header (the literal column
names MHCLG publishes), the WIMD ranks, the LSOA vintage check, local quintiles, and `insight area`
recognising the file."""

import pandas as pd
import pytest

from pipeline.area.find import find
from pipeline.config.deprivation import IndexFile
from pipeline.profiles import deprivation_source as src

# IoD 2025 File 7 as published (File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv),
# the columns up to the domains (the supplementary indices and denominators follow)
FILE7 = [
    "LSOA code (2021)", "LSOA name (2021)", "Local Authority District code (2024)",
    "Local Authority District name (2024)", "Index of Multiple Deprivation (IMD) Score",
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Income Score (rate)", "Income Rank (where 1 is most deprived)",
    "Income Decile (where 1 is most deprived 10% of LSOAs)", "Employment Score (rate)",
    "Employment Rank (where 1 is most deprived)", "Employment Decile (where 1 is most deprived 10% of LSOAs)",
    "Education, Skills and Training Score", "Education, Skills and Training Rank (where 1 is most deprived)",
    "Education, Skills and Training Decile (where 1 is most deprived 10% of LSOAs)",
    "Health Deprivation and Disability Score",
    "Health Deprivation and Disability Rank (where 1 is most deprived)",
    "Health Deprivation and Disability Decile (where 1 is most deprived 10% of LSOAs)", "Crime Score",
    "Crime Rank (where 1 is most deprived)", "Crime Decile (where 1 is most deprived 10% of LSOAs)",
    "Barriers to Housing and Services Score",
    "Barriers to Housing and Services Rank (where 1 is most deprived)",
    "Barriers to Housing and Services Decile (where 1 is most deprived 10% of LSOAs)",
    "Living Environment Score", "Living Environment Rank (where 1 is most deprived)",
    "Living Environment Decile (where 1 is most deprived 10% of LSOAs)", "Total population: mid 2022",
]


def _file7(path, rows, lsoa_header="LSOA code (2021)"):
    def decile(rank):
        return (rank - 1) * 10 // 33755 + 1

    frame = pd.DataFrame([[code, f"Area {code}", "E06000001", "Area", "30.1", rank, decile(rank), "0.2", rank,
                           decile(rank), "0.1", rank, 1, "20", rank, 1, "1.0", rank, 1, "0.5", rank, 1, "25",
                           rank, 1, "30", rank, 1, "1500"] for code, rank in rows],
                         columns=[lsoa_header, *FILE7[1:]])
    frame.to_csv(path, index=False)
    return path


def test_the_published_file7_header_is_recognised_and_read(tmp_path):
    assert src.recognise(FILE7) == "england"
    path = _file7(tmp_path / "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
                  [("E01000001", 1), ("E01000002", 33755)])
    t = src.read_index(IndexFile(path=path), "england")
    assert t.vintage == "2021" and "IoD 2025" in t.release
    assert list(t.frame["imd_decile"]) == [1, 10]  # as published, never re-ranked
    assert {"income_decile", "housing_services_rank", "living_environment_decile"} <= set(t.frame.columns)


def test_iod_2019_on_lsoa_2011_is_refused_for_the_2021_geography_with_the_fix(tmp_path):
    path = _file7(tmp_path / "File_7_IoD2019.csv", [("E01000001", 5)], lsoa_header="LSOA code (2011)")
    t = src.read_index(IndexFile(path=path), "england")
    assert t.vintage == "2011"
    with pytest.raises(src.DeprivationError, match=r"LSOA 2011 boundaries.*Fix: use the release on LSOA"):
        src.check_vintage([t], ["E01035000"])


def test_a_rank_that_is_not_a_whole_number_is_named_by_row_and_column(tmp_path):
    path = _file7(tmp_path / "f7.csv", [("E01000001", 5), ("E01000002", 7)])
    frame = pd.read_csv(path, dtype=str)
    frame.loc[1, "Crime Rank (where 1 is most deprived)"] = "n/a"
    frame.to_csv(path, index=False)
    with pytest.raises(src.DeprivationError, match=r"row 3, column 'Crime Rank \(where 1 is most"):
        src.read_index(IndexFile(path=path), "england")


def test_wimd_ranks_give_the_welsh_governments_deciles_of_all_1917_lsoas(tmp_path):
    path = tmp_path / "wimd-2025-index-and-domain-ranks-by-small-area.csv"
    pd.DataFrame({"LSOA code": ["W01000001", "W01000002"], "LSOA name (Eng)": ["a", "b"],
                  "WIMD 2025 ": [1, 1917], "Income": [192, 1725]}).to_csv(path, index=False)
    t = src.read_index(IndexFile(path=path), "wales")
    assert t.vintage == "2021" and list(t.frame["imd_decile"]) == [1, 10]
    assert list(t.frame["income_decile"]) == [2, 9]  # ceil(10 x 192 / 1917) = 2 even in a file cut to 2 rows


def test_local_quintiles_rank_the_areas_own_lsoas():
    index = pd.DataFrame({"lsoa21cd": [f"E0{i}" for i in range(10)], "imd_rank": [50, 10, 90, 30, 70, 20, 80,
                                                                                   40, 60, 100]})
    q = dict(zip(index["lsoa21cd"], src.local_quintiles(index), strict=True))
    assert q["E01"] == 1 and q["E05"] == 1 and q["E09"] == 5 and q["E02"] == 5
    assert sorted(pd.Series(list(q.values())).value_counts()) == [2] * 5


def test_insight_area_recognises_the_iod_2025_file_and_names_an_iod_2019_one(tmp_path):
    good, old = tmp_path / "good", tmp_path / "old"
    good.mkdir(), old.mkdir()
    _file7(good / "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv", [("E01000001", 3)])
    _file7(old / "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
           [("E01000001", 3)], lsoa_header="LSOA code (2011)")
    found = find(good, [])
    assert "iod_england" in found.found
    assert found.found["iod_england"].columns["lsoa"] == "LSOA code (2021)"
    wrong = dict(find(old, []).wrong)
    assert "2011 LSOAs" in wrong["iod_england"]


def test_insight_validate_lists_every_deprivation_problem_at_once(tmp_path):
    from types import SimpleNamespace

    from pipeline.config.deprivation import Deprivation

    wrong = tmp_path / "lookup.csv"
    pd.DataFrame({"OA21CD": ["E00000001"], "WD23CD": ["E05000001"]}).to_csv(wrong, index=False)
    dep = Deprivation(england={"path": wrong}, wales={"path": tmp_path / "absent.csv"})
    found = src.problems(SimpleNamespace(deprivation=dep))
    assert len(found) == 2
    assert found[0].startswith("deprivation.england:") and "is not the IoD 2025 File 7 layout" in found[0]
    assert "E00000001" not in found[0]  # the file's contents are not echoed
    assert found[1].startswith("deprivation.wales:") and "not found" in found[1]
    assert src.problems(SimpleNamespace(deprivation=None)) == []


def test_a_deprivation_block_with_no_file_has_no_effect_and_is_refused():
    from pipeline.config.deprivation import Deprivation

    with pytest.raises(ValueError, match="has no effect"):
        Deprivation()


def test_insight_area_cuts_the_file_to_the_areas_authorities_headers_as_published(tmp_path):
    from pipeline.area.build import cut_deprivation

    folder = tmp_path / "sources"
    folder.mkdir()
    path = _file7(folder / "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv",
                  [("E01000001", 3), ("E01000002", 9000), ("E01000003", 20000)])
    frame = pd.read_csv(path, dtype=str)
    frame.loc[2, "Local Authority District code (2024)"] = "E06000002"
    frame.to_csv(path, index=False)
    found = find(folder, []).found["iod_england"]
    n, total, name = cut_deprivation(found, ["E06000001"], tmp_path / "cut")
    assert (n, total) == (2, 3)
    cut = pd.read_csv(tmp_path / "cut" / name, dtype=str)
    assert list(cut.columns) == FILE7 and list(cut["LSOA code (2021)"]) == ["E01000001", "E01000002"]
    again = src.read_index(IndexFile(path=tmp_path / "cut" / name), "england")
    assert again.frame["imd_decile"].tolist() == [1, 3]  # deciles as published, not re-ranked in the cut
