"""The Indices of Deprivation: the English Indices of Deprivation 2025 (MHCLG, File 7: every rank,
score and decile per LSOA 2021) and the Welsh Index of Multiple Deprivation (its ranks by LSOA), and
how each Output Area is placed in its LSOA (docs/profiles.md, 'Take-up by deprivation')."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator

from pipeline.config.base import Strict


class IndexFile(Strict):
    """One publisher's file, read in its published layout (columns recognised by their headers)."""

    path: Path
    sheet: str | int | None = Field(default=None, description="sheet of an .xlsx; default the first")


class OaLsoaLookup(Strict):
    """An Output Area (2021) to LSOA (2021) lookup (ONS 'OA21 to LSOA21 to MSOA21 to LAD' layout)."""

    path: Path
    oa_column: str = "OA21CD"
    lsoa_column: str = "LSOA21CD"


class Deprivation(Strict):
    """Take-up by deprivation: national deciles as published (1 = most deprived), the area's own
    quintiles, each domain's deciles and the slope and relative index of inequality."""

    england: IndexFile | None = Field(
        default=None, description="IoD 2025 File 7 (File_7_IoD2025_All_Ranks_Scores_Deciles_Population_"
                                  "Denominators.csv), LSOA 2021")
    wales: IndexFile | None = Field(default=None, description="WIMD index and domain ranks by small area")
    oa_to_lsoa: OaLsoaLookup | None = Field(
        default=None, description="OA -> LSOA lookup; default: the postcode directory's LSOA column")
    directory_lsoa_column: str = Field(
        default="lsoa21cd", description="the postcode directory's LSOA 2021 column (ONSPD/NSPL: lsoa21cd), "
                                        "read when there is no oa_to_lsoa lookup")

    @model_validator(mode="after")
    def _some_index(self) -> Deprivation:
        if self.england is None and self.wales is None:
            raise ValueError("deprivation: neither england nor wales is given, so the block has no effect. "
                             "Fix: name the IoD 2025 File 7 under england, the WIMD ranks under wales, or "
                             "remove the block")
        return self
