"""How one service's codes of one characteristic map to its categories (`CodeMap`: the service's
own map first, then the built-in lists), and what a code map or an extract holds that is not
recognised (`target_problem`, `unrecognised`)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pipeline.profiles.equality.bands import parse_band
from pipeline.profiles.equality.categories import (
    BROAD_ONLY,
    MISSING,
    PREFER_NOT,
    UNKNOWN,
    aliases_of,
    categories,
    ethnic_group,
    is_blank,
    normalise,
    special_code,
)


class CodeMap:
    """How one service's codes of one characteristic map to its categories: the service's own map
    first (code -> anything the built-in lists recognise), then the built-in lists."""

    def __init__(self, field: str, extra: Mapping[str, str] | None = None):
        self.field = field
        self.extra = {normalise(k): v for k, v in (extra or {}).items()}

    def builtin(self, raw) -> str:
        """Category by the built-in lists alone (an age band's label for age)."""
        if is_blank(raw):
            return MISSING
        n = normalise(raw)
        special = special_code(n)
        if special:
            return special
        if self.field == "age_band":
            band = parse_band(raw)
            return band.label if band else UNKNOWN
        if self.field in ("ethnicity", "ethnicity_detailed"):
            broad, detailed = ethnic_group(raw)
            return broad if self.field == "ethnicity" else detailed
        if self.field == "disability_type":
            return _disability_type(raw)
        return aliases_of(self.field).get(n, UNKNOWN)

    def __call__(self, raw) -> str:
        if not is_blank(raw) and normalise(raw) in self.extra:
            return self.builtin(self.extra[normalise(raw)])
        return self.builtin(raw)


def _disability_type(raw) -> str:
    aliases = aliases_of("disability_type")
    n = normalise(raw)
    if n in aliases:
        return aliases[n]
    parts = [normalise(p) for p in re.split(r"[;|,/+]", str(raw)) if normalise(p)]
    found = {aliases.get(p) for p in parts}
    if len(parts) > 1 and None not in found:
        return found.pop() if len(found) == 1 else "More than one type"
    return UNKNOWN


def map_code(field: str, raw, extra: Mapping[str, str] | None = None) -> str:
    """Standard category of one extract code (the band's label for an age band; the broad group
    for 'ethnicity', the detailed one for 'ethnicity_detailed')."""
    return CodeMap(field, extra)(raw)


def target_problem(field: str, target: str) -> str | None:
    """Why a code map's target is not usable for `field` (None when it is)."""
    got = CodeMap(field).builtin(target)
    if got == UNKNOWN:
        if field == "age_band":
            return (f"{target!r} is not an age band (write e.g. 'Under 18', '25-44', '75+' or "
                    f"'{PREFER_NOT}')")
        names = list(categories(field)["category"]) + [PREFER_NOT, MISSING]
        return f"{target!r} is not a category of {field}; the categories are {names}"
    return None


def unrecognised(field: str, codes: Mapping, extra: Mapping[str, str] | None = None) -> dict[str, int]:
    """The distinct codes of `codes` (code -> records) that are not recognised, with their records,
    most frequent first. For 'ethnicity_detailed': the codes whose broad group is recognised but
    whose detailed group is not ('White: Cornish')."""
    cmap = CodeMap(field, extra)
    out: dict[str, int] = {}
    for code, n in codes.items():
        got = cmap(code)
        if field == "ethnicity_detailed":  # codes not recognised at all are the broad table's
            bad = (got == BROAD_ONLY and normalise(code) not in aliases_of("ethnicity")
                   and normalise(code) not in cmap.extra)
        else:
            bad = got == UNKNOWN
        if bad:
            out[str(code)] = out.get(str(code), 0) + int(n)
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))
