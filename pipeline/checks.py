"""What a stage's `check(cfg)` returns, and the helpers the checks share.

Each stage keeps its own check beside its code (`geography.check`, `ingest.check`,
`geocode.check`, `segments.check.check`, `profiles.check.check`; the run's folders are checked by
`ownership.check`), so the rule that reads a file and the rule that checks it first are the same
code. `insight validate` (`pipeline.validate`) runs them in the order of the stage queue
(`pipeline.run.STAGES`) and reports every problem at once.

A `Problem` is one line a council analyst can act on: it names the config key and the file (and
row or column), repeats the bad value, lists what is allowed and ends with `Fix: ...`.
"""

from __future__ import annotations

import re
from pathlib import Path

#: One problem: "<config key>: <file>: <what is wrong, the value, the allowed set>. Fix: <the fix>"
Problem = str

_FIX = re.compile(r"\bfix:", re.IGNORECASE)


class Unreadable(Exception):
    """A setting under which a file cannot be read; the message says why and the fix."""


def with_fix(problems: list[str], fix: str, where: str = "") -> list[Problem]:
    """Problems from a stage's own checks, each led by `where` (the config key) and given a fix
    unless it says one already: the stage's closing 'fix: ...' line when it has one, else `fix`."""
    fixes = [p for p in problems if p.lower().startswith("fix:")]
    if fixes:
        fix = fixes[0][4:].strip()
    lead = f"{where}: " if where else ""
    return [lead + (p if _FIX.search(p) else f"{p.rstrip('. ')}. Fix: {fix}")
            for p in problems if p not in fixes]


def csv_columns(path: Path, encoding: str | None = None, strip: bool = False) -> list[str]:
    """The header of a plain CSV as pandas reads it (header row only)."""
    import pandas as pd

    columns = [str(c) for c in pd.read_csv(path, nrows=0, dtype=str, encoding=encoding).columns]
    return [c.strip() for c in columns] if strip else columns


def need_columns(key: str, path: Path, have: list[str], need: dict[str, str | None]) -> list[Problem]:
    """One problem per configured column (config key -> column) the file lacks."""
    return [f"{key}.{field}: {path} has no column {col!r}; its columns are {have}. Fix: set "
            f"{key}.{field} to one of them" for field, col in need.items() if col and col not in have]
