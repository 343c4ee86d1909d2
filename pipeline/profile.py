"""Stage 4, profile: kept as the stage's entry point; the work is in the `pipeline.profiles`
package (table maths, intervals, disclosure control, levels, wards, gaps, equality, channels,
trends, cross-service). See docs/profiles.md."""

from pipeline.profiles import (
    PROFILE_COLUMNS,
    format_profile,
    profile_table,
    profiles_for,
    run,
    shareable,
    suppress,
    with_uncertainty,
)

__all__ = ["PROFILE_COLUMNS", "format_profile", "profile_table", "profiles_for", "run", "shareable",
           "suppress", "with_uncertainty"]
