"""Crash points for testing what a killed run leaves behind.

`CASESYNC_FAULT=<point>` makes the process kill itself (SIGKILL, no cleanup)
when a transfer reaches that point. Unset, a point costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "after_extract",
    "after_batch_written",
    "after_upsert",
    "after_audit",
    "before_commit",
    "after_commit",
    "after_finish",
)


def point(name: str) -> None:
    """Die here if CASESYNC_FAULT names this point."""
    if os.environ.get("CASESYNC_FAULT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
