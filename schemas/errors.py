"""The root of casesync's exceptions, importable from every layer."""

from __future__ import annotations


class CasesyncError(Exception):
    """A failure casesync explains in one line (the CLI prints it and exits non-zero)."""


class BatchIntegrityError(CasesyncError):
    """A batch file or manifest does not match what was recorded; nothing was applied."""


class RunInProgress(CasesyncError):
    """Another run of the same interface and night holds the lock."""


class PipelineCheckFailed(CasesyncError):
    """A blocking pipeline-level check failed (counts, quarantine share, lag).

    `rules` lists each failed check with its count, for the message and XCom.
    """

    def __init__(self, scope: str, rules: dict[str, str]) -> None:
        listed = "; ".join(f"{rule}: {detail}" for rule, detail in rules.items())
        super().__init__(f"{scope}: {len(rules)} blocking check(s) failed: {listed}")
        self.scope = scope
        self.rules = rules
