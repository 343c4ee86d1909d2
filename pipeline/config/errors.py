"""The errors a run config or a user's files raise: `UserError` (a problem with what the user gave,
reported as `error:` lines with the fix, never a traceback) and `ConfigError` (a run config that
cannot be used)."""

from __future__ import annotations

from pathlib import Path

from pipeline.errors import InsightError


class UserError(InsightError):
    """A problem with the user's config or files (not a bug): reported as `error:` lines with the
    fix, never as a traceback. `problems` lists every problem found, each on its own."""

    def __init__(self, headline: str, problems: list[str]):
        super().__init__(headline, problems)


class ConfigError(UserError):
    """A run config that cannot be used; the message lists every problem found."""

    def __init__(self, path: Path | str, problems: list[str]):
        self.path = str(path)
        super().__init__(f"{self.path}: {len(problems)} problem(s) in the run config:", problems)
