"""The one family of user-facing errors: `InsightError` and its subclasses.

An `InsightError` reports a problem with the user's config, files or command, not a bug: the
command line prints it as `error:` and one line per problem, each with its fix, and never a
traceback. Any other exception that reaches the command line is a bug and is shown with its
traceback. The subclasses live beside the stage that raises them (`ConfigError` in
`pipeline.config`, `IngestError` in `pipeline.ingest`, `CensusError` in `segments.census`, ...;
`GeographyError` is here, as `boundaries` and `pipeline.address` below it both raise it); a
subclass may also derive from the built-in type its callers catch (`ValueError`,
`FileExistsError`).

This module imports nothing from the project, so every layer may import it (the import-linter
layers contract in pyproject.toml keeps it at the bottom).
"""

from __future__ import annotations

from typing import Any


class InsightError(Exception):
    """A problem with the user's config, files or command: printed as `error:` lines, never traced.

    `message` is the headline (empty when the problems are the whole message); `problems` lists
    every problem found, each on its own line; `value`, `allowed` and `fix` optionally hold the bad
    value, what is allowed and the fix when the message is about one value."""

    def __init__(self, message: str = "", problems: list[str] | None = None, *, value: Any = None,
                 allowed: Any = None, fix: str | None = None):
        self.headline = message or None
        self.problems = list(problems or [])
        self.value = value
        self.allowed = allowed
        self.fix = fix
        lines = "\n".join(f"  - {p}" for p in self.problems)
        self.text = "\n".join(part for part in (message, lines) if part)
        super().__init__(self.text)

    def __str__(self) -> str:  # the same text when an OSError base would format its args its own way
        return self.text


#: printed to stderr, above its traceback, when an exception that is not an InsightError escapes a command
BUG_NOTE = ("this is a bug in the pipeline, not a problem with your config or files; please report it "
            "with the traceback below and the command you ran")


def format_error(exc: BaseException) -> str:
    """`error:` and a headline, then one `  - ` line per problem (each with its fix)."""
    problems = getattr(exc, "problems", None)
    if not problems:
        return f"error: {exc}"
    headline = getattr(exc, "headline", None) or str(exc).splitlines()[0]
    if headline.lstrip().startswith("- "):  # the message is the list itself
        headline = f"{len(problems)} problem(s):"
    return "\n".join([f"error: {headline}", *(f"  - {p}" for p in problems)])


class GeographyError(InsightError):
    """A geography file (boundaries, OA-to-ward lookup, postcode directory, gazetteer, UPRN lookup)
    that cannot be used; the message lists every problem found. Raised by `boundaries` and by
    `pipeline.address` below it, so defined here (`boundaries.loaders` names it too)."""

    def __init__(self, problems: list[str]):
        super().__init__("", problems)


class UserValueError(InsightError, ValueError):
    """A user's value that cannot be used (k larger than the Output Areas, a names file without
    code,name, ...): a ValueError too, for the callers and tests that catch one."""


class UserFileNotFoundError(InsightError, FileNotFoundError):
    """A file the config names that does not exist: a FileNotFoundError too."""
