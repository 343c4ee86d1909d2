"""The ingest stage's one error, `IngestError`: the extracts that cannot be read as configured, every
problem found listed, each naming the file, the row or line where known, and the fix (never a
record's content: it holds personal data)."""

from __future__ import annotations

from pipeline.errors import InsightError


class IngestError(InsightError):
    """Extracts that cannot be read as configured; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        super().__init__("", problems)
