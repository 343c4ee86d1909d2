"""The classification: built by k-means from the census, or an external one (the official OAC,
a licensed Mosaic) loaded from a lookup keyed by OA, postcode or UPRN; a setting the chosen method
never reads is an error."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from pipeline.config.base import Strict


class KeyLink(Strict):
    """A CSV linking a lookup's key (postcode or UPRN) to its Output Area."""

    path: Path
    key_column: str
    oa_column: str


class Lookup(Strict):
    """An external classification (official OAC, a licensed Mosaic) keyed by OA, postcode or UPRN."""

    path: Path
    key: Literal["oa", "postcode", "uprn"] = "oa"
    key_column: str
    code_column: str = Field(description="top tier code (supergroup), the profiling segment")
    group_column: str | None = None
    subgroup_column: str | None = None
    to_oa: KeyLink | None = Field(
        default=None, description="key -> OA link; postcodes default to the postcode directory"
    )
    names: Path | None = Field(default=None, description="CSV with columns code,name")


class Segmentation(Strict):
    method: Literal["kmeans", "lookup"] = "kmeans"
    k: int = Field(default=8, ge=2, le=30, description="number of supergroups")
    k_groups: int | dict[str, int] | None = Field(
        default=3, description="groups per supergroup (or code -> k); null: no group tier"
    )
    k_subgroups: int | dict[str, int] | None = Field(
        default=2, description="subgroups per group (or code -> k); null: no subgroup tier"
    )
    n_init: int = Field(default=50, ge=1, description="k-means starts for the supergroups")
    min_oas: int = Field(
        default=3, ge=1, description="fewest Output Areas a segment of any tier may have: a split "
        "that would make a smaller one is made into fewer segments (1: no minimum)")
    min_households: int = Field(
        default=200, ge=0, description="fewest households a segment of any tier may have (census "
        "households table; 0: no minimum)")
    communal_share: float | None = Field(
        default=50.0, gt=0, le=100, description="an Output Area with at least this percentage of "
        "its residents in communal establishments (halls, boarding schools, care homes, prisons, "
        "barracks; census TS001) is not clustered but assigned to its nearest segment and flagged; "
        "null: cluster every Output Area")
    n_init_lower: int | None = Field(default=None, ge=1, description="starts per lower tier")
    variables: Path | None = Field(
        default=None, description="Variable specification CSV; default segments/spec"
    )
    add_variables: Path | None = Field(default=None, description="extra spec rows (same layout)")
    drop: list[str] = Field(default_factory=list, description="variable ids left out")
    weights: dict[str, float] = Field(default_factory=dict, description="variable id -> weight")
    scope: Literal["area", "census"] = Field(
        default="area",
        description="build on the area's OAs (default) or every OA in the census tables",
    )
    reference: Path | None = Field(
        default=None, description="CSV variable,min,max: ranges to standardise against"
    )
    lookup: Lookup | None = None
    names: Path | None = Field(
        default=None, description="CSV code,name[,description] giving segments names"
    )

    def _changed(self, names: tuple[str, ...]) -> list[str]:
        """Those of `names` the config sets to something other than their default."""
        fields = type(self).model_fields
        return [n for n in names if n in self.model_fields_set
                and getattr(self, n) != fields[n].get_default(call_default_factory=True)]

    @model_validator(mode="after")
    def _settings_the_method_uses(self) -> Segmentation:
        """A setting the method never reads is an error, not silently ignored: the k-means settings
        with `method: lookup` (the classification is loaded, not built), a `lookup` block with
        `method: kmeans`."""
        if self.method == "lookup":
            unused = self._changed(KMEANS_ONLY)
            if unused:
                shown = ", ".join(f"{n}: {getattr(self, n)!r}" for n in unused)
                raise ValueError(
                    f"segmentation.{shown} does nothing with method: lookup (the classification is loaded "
                    f"from segmentation.lookup, not built by k-means; {', '.join(KMEANS_ONLY)} are k-means "
                    f"settings). Fix: remove {', '.join(unused)}, or set method: kmeans")
        elif self.lookup is not None:
            raise ValueError("segmentation.lookup does nothing with method: kmeans (the classification is "
                             "built from the census). Fix: set method: lookup to load it, or remove the "
                             "lookup block")
        return self

    @property
    def warnings(self) -> list[str]:
        """Settings that do less than they may seem to: with `method: lookup`, the variable settings
        change only how the loaded classification is described on the census (pen portraits,
        charts), never its segments."""
        if self.method != "lookup":
            return []
        described = self._changed(DESCRIPTION_ONLY)
        if not described:
            return []
        return [f"segmentation.{', '.join(described)} with method: lookup change only how the loaded "
                "classification is described on the census (pen portraits, charts), not which segment an "
                "Output Area is in. Fix: remove them unless that is what you want"]


#: Segmentation settings only k-means reads, and those that with `method: lookup` only describe
KMEANS_ONLY = ("k", "k_groups", "k_subgroups", "n_init", "n_init_lower", "min_oas", "min_households",
               "communal_share")
DESCRIPTION_ONLY = ("variables", "add_variables", "drop", "weights", "scope", "reference")
