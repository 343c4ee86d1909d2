"""One list of what a run reads (pipeline/paths.py): the config checks at load time and the
ownership checks when a run claims its folders refuse the same inputs inside the outputs folder,
segmentation files, service points and ONSUD included."""

import pytest

from pipeline import paths
from pipeline.config import PointsFile, UprnLookup
from pipeline.ownership import NotOwnedError, check_layout
from tests.helpers import tiny_config

SERVICE = {"name": "svc", "label": "S", "file": "x.csv",
           "columns": {"record_id": "Ref", "postcode": "Postcode"}}


def _set(cfg, where, path):
    if where == "segmentation.names":
        cfg.segmentation.names = path
    elif where == "access.points.clinics":
        cfg.access.points["clinics"] = PointsFile(path=path)
    else:
        cfg.geography.uprn_lookup = UprnLookup(path=str(path.parent / "ONSUD_*.csv"))


@pytest.mark.parametrize(("where", "name"), [("segmentation.names", "names.csv"),
                                             ("access.points.clinics", "clinics.csv"),
                                             ("geography.uprn_lookup.path", "ONSUD_TEST.csv")])
def test_an_input_inside_the_outputs_folder_is_refused_by_every_check(tmp_path, where, name):
    cfg = tiny_config(tmp_path, [SERVICE])
    cfg.outputs.mkdir(parents=True)
    inside = cfg.outputs / name
    inside.write_text("x\n", encoding="utf-8")
    _set(cfg, where, inside)
    assert any(k.startswith(where) for k in paths.inputs(cfg))
    assert any(p.startswith(where) and "inside outputs_dir" in p for p in paths.folder_problems(cfg))
    with pytest.raises(NotOwnedError, match=where.replace(".", r"\.")):
        check_layout(cfg)


def test_the_reference_database_is_protected_but_not_an_input(tmp_path):
    cfg = tiny_config(tmp_path, [SERVICE])
    cfg.geography.postcode_directory.reference_db = cfg.outputs / "onspd.duckdb"
    assert "geography.postcode_directory.reference_db" in paths.protected(cfg)
    assert "geography.postcode_directory.reference_db" not in paths.inputs(cfg)
    with pytest.raises(NotOwnedError, match="reference_db"):
        check_layout(cfg)
