"""The run summary: every input row accounted for, per service.

rows_read = matched (by match level) + rejected (by reason); the run stops with an error if
the sums disagree for any service, since that would mean a row was lost or counted twice.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from pipeline.escape import spreadsheet_frame
from pipeline.geocode import MATCH_LEVELS, REJECT_REASONS
from pipeline.paths import private_folder, private_writes

logger = logging.getLogger(__name__)


def account(rows_read: dict[str, int], outcomes: dict[str, dict[str, int]]) -> pd.DataFrame:
    """One row per service: rows read, matched and rejected, by level and by reason."""
    records = []
    for service, read in rows_read.items():
        o = outcomes[service]
        matched = sum(o[m] for m in MATCH_LEVELS)
        rejected = sum(o[r] for r in REJECT_REASONS)
        if matched + rejected != read:
            raise RuntimeError(
                f"{service}: {read} rows read but {matched} matched + {rejected} rejected; "
                "a row was lost or counted twice"
            )
        records.append(
            {"service": service, "rows_read": read, "matched": matched,
             "match_rate_pct": round(100 * matched / read, 2) if read else 0.0}
            | {m: o[m] for m in MATCH_LEVELS}
            | {"rejected": rejected}
            | {r: o[r] for r in REJECT_REASONS}
        )
    return pd.DataFrame(records)


def unmatched_warnings(summary: pd.DataFrame) -> list[str]:
    """A warning per service none of whose rows matched: its profile will show zero users."""
    out = []
    for r in summary.itertuples():
        if r.matched == 0 and r.rows_read:
            out.append(f"{r.service}: none of its {r.rows_read:,} rows was matched, so its profile shows "
                       "zero users; check the postcode (or address) columns mapped in the config and the "
                       "reasons in the run summary")
            logger.warning(out[-1])
    return out


def write(summary: pd.DataFrame, private: Path) -> Path:
    """The unsuppressed run summary, `run_summary.csv` in the private folder (0600)."""
    path = private_folder(private) / "run_summary.csv"
    with private_writes(path):
        spreadsheet_frame(summary).to_csv(path, index=False)
    return path


def as_text(summary: pd.DataFrame) -> str:
    """A short plain-text table for the terminal."""
    cols = ["service", "rows_read", "matched", "rejected", "match_rate_pct"]
    lines = [summary[cols].to_string(index=False), "", "Rejected rows by reason:"]
    reasons = summary.set_index("service")[list(REJECT_REASONS)]
    lines.append(reasons.loc[:, reasons.sum() > 0].to_string())
    return "\n".join(lines)
