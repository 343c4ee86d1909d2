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

from pipeline.profiles.service import ProfileRun, ServiceProfile, profiles_for, run
from pipeline.profiles.table import PROFILE_COLUMNS, format_profile, profile_table, with_uncertainty

__all__ = ["PROFILE_COLUMNS", "ProfileRun", "ServiceProfile", "format_profile", "profile_table",
           "profiles_for", "run", "with_uncertainty"]
