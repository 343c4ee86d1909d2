"""A service's equality options (config `services[].equality`): its own code maps, with the
built-in code lists it names beneath them, its age bands and its incomplete share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from pipeline.profiles.equality.categories import code_list
from pipeline.profiles.equality.frame import INCOMPLETE_SHARE


@dataclass
class Options:
    """A service's equality options (config `services[].equality`)."""

    codes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    age_bands: list[str] = field(default_factory=list)
    incomplete_share: float = INCOMPLETE_SHARE

    @classmethod
    def of(cls, service) -> Options:
        eq = getattr(service, "equality", None)
        if eq is None:
            return cls()
        codes = {f: dict(m) for f, m in eq.codes.items()}
        for name in eq.code_lists:  # a built-in list of another scheme; the service's own map wins
            field, table = code_list(name)
            codes[field] = {**table, **codes.get(field, {})}
        return cls(codes, list(eq.age_bands), float(eq.incomplete_share))
