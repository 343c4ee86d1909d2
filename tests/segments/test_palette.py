"""One palette (segments/palette.py) for every figure, map, guide and workbook: supergroup k has
the same colour in the classification's own outputs, the segment guide, the segment map and the
workbook's Segments sheet."""

import pandas as pd
import pytest

from pipeline.render import guide
from pipeline.render.segment_info import load_segments
from pipeline.render.tables import segments_sheet
from segments.palette import supergroup_colours
from tests.helpers import tiny_config


@pytest.mark.parametrize("own_colours", [False, True])
def test_supergroup_has_one_colour_everywhere(tmp_path, own_colours):
    """A classification without a colour column (a lookup's, say) is coloured by the same palette
    as one the build wrote colours for; the guide once took Paul Tol's muted palette (supergroup 1
    indigo) while the classification's figures took Okabe-Ito (supergroup 1 orange)."""
    cfg = tiny_config(tmp_path, [{"name": "svc", "label": "S", "file": "x.csv",
                                  "columns": {"record_id": "Ref", "postcode": "Postcode"}}])
    seg = cfg.outputs / "segments"
    seg.mkdir(parents=True)
    codes = [str(k) for k in range(1, 11)]
    figures = supergroup_colours(codes)  # the colours segments.describe writes into its outputs
    pd.DataFrame({"oa21cd": [f"E0000{k:04d}" for k in range(1, 11)], "segment": [f"{k}a" for k in codes],
                  "supergroup": codes, "group": [f"{k}a" for k in codes]}
                 ).to_csv(seg / "segments_oa.csv", index=False)
    names = pd.DataFrame({"level": ["supergroup"] * 10 + ["group"] * 10,
                          "segment": codes + [f"{k}a" for k in codes],
                          "segment_name": [f"Name {c}" for c in codes] * 2, "description": ""})
    if own_colours:
        names["colour"] = [figures[c] for c in codes] * 2
    names.to_csv(seg / "segment_names.csv", index=False)

    entries, _ = guide._entries(seg, None)
    in_guide = {e.code: e.colour for e in entries}
    in_guide_groups = {c.code: c.colour for e in entries for c in e.children}
    _, on_map = load_segments(seg)  # the segment map's layer takes its colours from these
    map_colour = dict(zip(on_map["supergroup"], on_map["colour"], strict=True))
    sheet = segments_sheet(cfg)
    in_workbook = dict(zip(sheet["Segment"].astype(str), sheet["Colour"], strict=True))
    for k in codes:
        assert in_guide[k] == map_colour[k] == in_workbook[k] == in_workbook[f"{k}a"] == figures[k], k
        assert in_guide_groups[f"{k}a"] == figures[k]
    assert figures["1"] == "#E69F00"  # Okabe-Ito orange
