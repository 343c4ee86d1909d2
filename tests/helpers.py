"""Small builders shared by the tests."""

from pathlib import Path

from pipeline.config import RunConfig


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
