"""The base of every block of the run config: a pydantic model that refuses keys it does not know
(a misspelt key is an error, never silently ignored)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
