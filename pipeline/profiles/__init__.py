"""Stage 4, profile: who uses each service and who does not, with uncertainty, at every level of
the classification, by ward, by equality group, channel and period.

`run(con, cfg)` returns a :class:`ProfileRun`: per service and YES/NO option (sub-service
'<service>__<option>') a :class:`ServiceProfile` of numeric, unsuppressed views and the graph of
their counts. Views: 'segment' (and 'group', 'subgroup' when the classification has them),
'ward', 'ward_segment', 'targets_ward', 'targets_oa', and for the main service where the extract
carries the fields: 'equality_<field>', 'channels', 'trends'. Profile views keep PROFILE_COLUMNS
and add penetration_lower/upper, index_lower/upper, significance and the gap columns.
Nothing here is shareable: the publication step (:mod:`pipeline.publish`) suppresses.
"""

from __future__ import annotations

from importlib import import_module

#: The stage's entry points and the submodule holding each, imported on first use (PEP 562), so
#: that a light submodule (`pipeline.profiles.equality`, which `insight validate` reads) does not
#: load the whole stage and scipy with it.
_EXPORTS = {"ProfileRun": "service", "ServiceProfile": "service", "profiles_for": "service", "run": "service",
            "PROFILE_COLUMNS": "table", "format_profile": "table", "profile_table": "table",
            "with_uncertainty": "table"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(f"pipeline.profiles.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'pipeline.profiles' has no attribute {name!r}")
