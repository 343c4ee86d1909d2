"""The same pipeline on a real borough: Trafford's ONS files in ../shared, synthetic extracts."""

from pathlib import Path

import pandas as pd
import pytest

from boundaries.reference import is_current
from pipeline.run import run_all
from pipeline.synth.extracts import generate_for_real_area
from tests.conftest import SHARED, TRAFFORD
from tests.helpers import relocated_config

pytestmark = [pytest.mark.slow,  # a whole run of its own (make test-slow; CI runs it)
              pytest.mark.skipif(not TRAFFORD.exists(), reason="../shared/ons/trafford is absent")]


@pytest.fixture(scope="module")
def trafford(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("trafford")
    generate_for_real_area(
        postcodes_csv=TRAFFORD / "postcodes" / "onspd_2025_02_trafford_with_oa21_DERIVED.csv",
        postcode_col="postcode", oa_col="oa21cd_pip", live_col="in_codepoint_open_2025_10",
        households_csv_ts041=TRAFFORD / "census2021" / "census2021-ts041-oa-trafford.csv",
        types_csv=TRAFFORD / "oac2021" / "trafford_oac2021_assignment.csv",
        out_dir=tmp / "extracts", truth_dir=tmp / "truth", seed=2021,
    )
    cfg = relocated_config(
        Path("config/examples/trafford.yaml"),
        {"data/trafford/raw/extracts": str(tmp / "extracts"), "../shared": str(SHARED),
         "data/reference": str(tmp / "reference")},
        tmp,
    )
    return cfg, run_all(cfg, progress=False), tmp


def test_trafford_runs_end_to_end(trafford):
    cfg, result, tmp = trafford
    summ = result.summary.set_index("service")
    for s in summ.index:
        truth = pd.read_csv(tmp / "truth" / f"{s}_truth.csv")
        assert summ.loc[s, "rows_read"] == len(truth)
        assert summ.loc[s, "matched"] + summ.loc[s, "rejected"] == len(truth)
        assert summ.loc[s, "match_rate_pct"] > 90
        assert (cfg.outputs / s / f"{s}_ward_map.html").exists()
    seg = result.profiles["stop_smoking"]["segment"]
    total = seg[seg["segment_code"] == "Total"].iloc[0]
    assert total["base_count"] == 96_271  # Trafford's households, Census 2021 TS041
    wards = result.profiles["stop_smoking"]["ward"]
    assert len(wards) == 21 + 1  # 21 wards (May 2023) and the Total row
    # the postcode directory was parsed once into the reusable reference, which the run attached
    spec = cfg.geography.postcode_directory
    assert spec.reference_db.exists() and is_current(spec, spec.reference_db)


def test_official_oac_profiles_like_the_built_one(trafford, tmp_path):
    """The official 2021 OAC, loaded as an OA-keyed lookup, profiles exactly as the built one."""
    import yaml

    cfg, _, tmp = trafford
    raw = cfg.model_dump(mode="json")
    raw["segmentation"] = {
        "method": "lookup",
        "lookup": {"path": str(TRAFFORD / "oac2021" / "trafford_oac2021_assignment.csv"),
                   "key": "oa", "key_column": "Geography_Code", "code_column": "Supergroup"},
    }
    raw["outputs_dir"], raw["private_dir"] = str(tmp_path / "out"), str(tmp_path / "data")
    raw["services"] = [s for s in raw["services"] if s["name"] == "stop_smoking"]
    path = tmp_path / "oac.yaml"
    path.write_text(yaml.safe_dump(raw))
    from pipeline.config import load_config

    result = run_all(load_config(path), until="profile", progress=False)
    prof = result.profiles["stop_smoking"]["segment"]
    body = prof[prof["segment_code"] != "Total"]
    assert sorted(body["segment_code"]) == [str(i) for i in range(1, 9)]
    assert body["base_count"].sum() == 96_271
    # the extracts were planted by OAC supergroup, so its profile must separate them strongly
    assert body["index"].astype(float).max() > 150


def test_trafford_segment_guide(trafford):
    """The segment guide is written for a real area too: every supergroup and group, with pictures."""
    from tests.render.test_accessibility import _guide_checks

    cfg, _, _ = trafford
    _guide_checks(cfg.outputs)
