"""The project's exceptions: each carries a message an operator can act on."""

from __future__ import annotations

from schemas.errors import (
    BatchIntegrityError,
    CasesyncError,
    PipelineCheckFailed,
    RunInProgress,
)

__all__ = [
    "BadInput",
    "BatchIntegrityError",
    "CasesyncError",
    "DatabaseUnavailable",
    "PipelineCheckFailed",
    "RunInProgress",
]


class DatabaseUnavailable(CasesyncError):
    """A database cannot be reached or opened."""

    def __init__(self, database: str, url: str, problem: str) -> None:
        super().__init__(f"database {database!r} at {url}: {problem}")
        self.database = database


class BadInput(CasesyncError):
    """An option or argument a command cannot accept."""
