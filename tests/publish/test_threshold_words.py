"""Every sentence that names the suppression threshold names the one that applies
(`Suppression.min_shown`): 10 under the ons rule, whatever `threshold` says."""

import pytest

from pipeline.privacy import build_manifest, markdown
from pipeline.publish.notes import suppression_note
from tests.helpers import tiny_config

SERVICE = {"name": "svc", "label": "S", "file": "x.csv",
           "columns": {"record_id": "Ref", "postcode": "Postcode"}}


@pytest.mark.parametrize(("suppression", "shown"), [
    ({"rule": "ons"}, 10), ({"rule": "ons", "threshold": 7}, 10), ({}, 5), ({"threshold": 8}, 8)])
def test_manifest_and_notes_name_the_threshold_that_applies(tmp_path, suppression, shown):
    cfg = tiny_config(tmp_path, [SERVICE], suppression=suppression)
    assert cfg.suppression.min_shown == shown
    manifest = build_manifest(None, cfg, {}, status="complete", outputs=None)
    words = manifest.data["outputs"]["suppression"]
    assert f"counts below {shown} hidden" in words
    assert f"counts below {shown} hidden" in markdown(manifest.data)
    assert f"Counts from 1 to {shown - 1} are shown" in suppression_note(cfg)
