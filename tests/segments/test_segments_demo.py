"""The classification on the generated demo borough: planted types recovered, determinism, and a
postcode-keyed (Mosaic-style) lookup loaded and profiled through the pipeline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.metrics import adjusted_rand_score

from pipeline.config import load_config
from pipeline.run import run_all
from segments.build import build_segments
from tests.helpers import relocated_config

LETTERS = "ABCDEFGH"


@pytest.fixture(scope="module")
def demo(demo_data, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("segdemo")
    raw, truth = demo_data
    cfg = relocated_config(Path("config/demo.yaml"), {"data/demo/raw": str(raw)}, tmp)
    types = pd.read_csv(truth / "oa_types.csv", dtype=str).set_index("OA21CD")
    return cfg, raw, types, tmp


@pytest.fixture(scope="module")
def built(demo, demo_run):
    """The classification the session's demo run built, and one built again from the same config."""
    cfg, *_ = demo
    return demo_run[1].segments, build_segments(cfg)


def test_demo_supergroups_recover_the_planted_types(demo, built):
    _, _, types, _ = demo
    result, _ = built
    a = result.assignments.set_index("oa21cd")
    ari = adjusted_rand_score(types.loc[a.index, "type"], a["supergroup"])
    print(f"\ndemo: ARI of the supergroups vs the planted types {ari:.3f}")
    assert len(a) == len(types) == 400
    assert ari >= 0.8
    assert list(result.assignments.columns) == ["oa21cd", "supergroup", "group", "subgroup",
                                                "segment"]
    assert (a["segment"] == a["supergroup"]).all()
    levels = result.names.groupby("level").size().to_dict()
    assert levels == {"supergroup": 8, "group": a["group"].nunique(),
                      "subgroup": a["subgroup"].nunique()}
    # 46 subgroups, not 48: two groups are kept whole, as a second subgroup would have had fewer
    # than segmentation.min_oas (3) OAs or min_households (200); result.notes says which
    assert a["group"].nunique() == 24 and a["subgroup"].nunique() == 46
    assert len(result.notes) == 2 and all("kept whole" in n for n in result.notes)
    pens = result.pen_portraits
    households = int(types["households"].astype(int).sum())
    for level in ("supergroup", "group", "subgroup"):
        rows = pens[pens["level"] == level]
        assert rows["households"].sum() == households and rows["oas"].sum() == 400


def test_demo_build_is_deterministic(built):
    one, two = built
    pd.testing.assert_frame_equal(one.assignments, two.assignments)
    pd.testing.assert_frame_equal(one.names, two.names)
    pd.testing.assert_frame_equal(one.pen_portraits, two.pen_portraits)
    assert one.wcss == two.wcss


def _postcode_lookup(raw: Path, types: pd.DataFrame, folder: Path) -> tuple[Path, Path, dict]:
    """A Mosaic-style lookup: each live postcode's type as a letter, with planted faults."""
    pcd = pd.read_csv(raw / "postcodes" / "ONSPD_DEMO_2025.csv", dtype=str,
                      keep_default_na=False)
    pcd = pcd[pcd["oa21cd"].isin(types.index)]  # the area's postcodes
    rows = pd.DataFrame({"Postcode": pcd["pcds"].to_numpy(),
                         "Mosaic": [LETTERS[int(types.loc[o, "type"]) - 1]
                                    for o in pcd["oa21cd"]]})
    # one postcode in each well-covered OA carries another code: the OA keeps its modal code
    per_oa = pcd.groupby("oa21cd")["pcds"].first()[pcd.groupby("oa21cd").size() >= 6]
    flip = rows["Postcode"].isin(per_oa.to_numpy())
    rows.loc[flip, "Mosaic"] = rows.loc[flip, "Mosaic"].map(
        lambda c: LETTERS[(LETTERS.index(c) + 1) % 8])
    rows.loc[rows.index[:5], "Postcode"] = rows.loc[rows.index[:5], "Postcode"].str.lower() \
        .str.replace(" ", "")
    planted = pd.DataFrame({"Postcode": ["DM98 9ZZ", "DM98 9ZY", "DM97 1AA", rows.iloc[7, 0]],
                            "Mosaic": ["A", "B", "", "C"]})
    rows = pd.concat([rows, planted], ignore_index=True)
    path = folder / "mosaic_by_postcode.csv"
    rows.to_csv(path, index=False)
    names = folder / "mosaic_names.csv"
    names.write_text("code,name\n" + "".join(f"{c},Mosaic group {c}\n" for c in LETTERS))
    expected = {"matched": len(rows) - 4, "key_not_found": 2, "blank_code": 1,
                "duplicate_key": 1}
    return path, names, expected


def test_postcode_keyed_lookup_loads_and_profiles(demo, tmp_path):
    cfg, raw, types, _ = demo
    path, names, expected = _postcode_lookup(raw, types, tmp_path)
    data = cfg.model_dump(mode="json")
    data["segmentation"] = {"method": "lookup", "lookup": {
        "path": str(path), "key": "postcode", "key_column": "Postcode", "code_column": "Mosaic",
        "names": str(names)}}
    data["services"] = [s for s in data["services"] if s["name"] == "stop_smoking"]
    data["outputs_dir"], data["private_dir"] = str(tmp_path / "out"), str(tmp_path / "data")
    conf = tmp_path / "lookup.yaml"
    conf.write_text(yaml.safe_dump(data))
    result = run_all(load_config(conf), until="profile", progress=False)

    seg = pd.read_csv(tmp_path / "out" / "segments" / "segments_oa.csv", dtype=str)
    truth = types.loc[seg["oa21cd"], "type"].map(lambda t: LETTERS[int(t) - 1])
    assert len(seg) == 400 and (seg["segment"].to_numpy() == truth.to_numpy()).all()
    acc = pd.read_csv(tmp_path / "out" / "segments" / "lookup_accounting.csv")
    assert dict(zip(acc["outcome"], acc["rows"], strict=True)) == expected
    named = pd.read_csv(tmp_path / "out" / "segments" / "segment_names.csv", dtype=str)
    assert named.set_index("segment").loc["C", "segment_name"] == "Mosaic group C"

    prof = result.profiles["stop_smoking"]["segment"]
    body = prof[prof["segment_code"] != "Total"]
    assert sorted(body["segment_code"]) == list(LETTERS)
    assert body["base_count"].sum() == int(types["households"].astype(int).sum())
    assert body["index"].astype(float).max() > 150  # the planted take-up shows through
