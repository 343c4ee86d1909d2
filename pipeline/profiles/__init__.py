"""Stage 4, profile: who uses each service and who does not, with uncertainty and disclosure
control, at every level of the classification, by ward, by equality group, channel and period.

`run(con, cfg)` returns {name: {view: numeric DataFrame}} for every service and YES/NO option
(sub-service '<service>__<option>'). Views: 'segment' (and 'group', 'subgroup' when the
classification has them), 'ward', 'ward_segment', 'targets_ward', 'targets_oa', and for the
main service where the extract carries the fields: 'equality_<field>', 'channels', 'trends'.
Profile views keep PROFILE_COLUMNS and add penetration_lower/upper, index_lower/upper,
significance, the gap columns and `suppressed`. Shareable CSVs go to
outputs/<run>/<service>/<name>_profile_<view>.csv, unsuppressed ones to data/<run>/profiles/;
the cross-service matrix to outputs/<run>/cross_service/.
"""

from __future__ import annotations

from pipeline.profiles.service import profiles_for, run, shareable, suppress
from pipeline.profiles.table import PROFILE_COLUMNS, format_profile, profile_table, with_uncertainty

__all__ = ["PROFILE_COLUMNS", "format_profile", "profile_table", "profiles_for", "run", "shareable",
           "suppress", "with_uncertainty"]
