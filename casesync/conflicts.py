"""The two-way conflict queue, as analysts work it: list, show, resolve.

A resolution keeps the owner's value, the incoming value, the target's value
(its own edit of a field the source owns), or a value typed by the analyst;
it is recorded with who, when and why, and the interface's next run writes
it into the target (connectors/conflicts.py) and audits it.
"""

from __future__ import annotations

import datetime as dt
import getpass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from casesync.errors import BadInput
from connectors import Connectors
from schemas.control import Conflict

if TYPE_CHECKING:
    from casesync.settings import Settings

#: What `list` shows of each conflict (values too: they are codes, dates and UCIs, no names).
SUMMARY = (
    "conflict_id", "interface", "night", "target_table", "record_key", "field", "kind",
    "owner_system", "changed_by_system", "status",
)  # fmt: skip


def _row(conflict: Any, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
    names = fields or tuple(c.name for c in Conflict.__table__.columns)
    out = {}
    for name in names:
        value = getattr(conflict, name)
        out[name] = value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
    return out


def list_conflicts(settings: Settings, *, status: str | None = "open") -> list[dict[str, Any]]:
    """The queue (by default the open conflicts), oldest first."""
    connectors = Connectors.from_settings(settings)
    try:
        query = select(Conflict.__table__).order_by(Conflict.conflict_id)
        if status and status != "all":
            query = query.where(Conflict.status == status)
        with connectors.control.connect() as conn:
            return [_row(r, SUMMARY) for r in conn.execute(query)]
    finally:
        connectors.dispose()


def show_conflict(settings: Settings, conflict_id: int) -> dict[str, Any]:
    """Every column of one conflict (BadInput when there is none)."""
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.connect() as conn:
            found = conn.execute(
                select(Conflict.__table__).where(Conflict.conflict_id == conflict_id)
            ).first()
    finally:
        connectors.dispose()
    if found is None:
        raise BadInput(f"no conflict {conflict_id}; `casesync conflicts list` shows the queue")
    return _row(found)


def resolve_conflict(
    settings: Settings,
    conflict_id: int,
    keep: str,
    *,
    note: str | None = None,
    by: str | None = None,
) -> dict[str, Any]:
    """Record a decision: keep `owner`, `incoming`, `target`, or any other text as the value."""
    if not keep:
        raise BadInput("--keep must be owner, incoming, target or a value")
    current = show_conflict(settings, conflict_id)
    if current["status"] != "open":
        raise BadInput(
            f"conflict {conflict_id} is {current['status']} (resolved by "
            f"{current['resolved_by']} on {current['resolved_at']}); nothing was done"
        )
    resolution = keep if keep in ("owner", "incoming", "target") else "value"
    if resolution == "value":
        _check_value(current, keep)
    connectors = Connectors.from_settings(settings)
    try:
        with connectors.control.begin() as conn:
            conn.execute(
                update(Conflict)
                .where(Conflict.conflict_id == conflict_id, Conflict.status == "open")
                .values(
                    status="resolved", resolution=resolution,
                    resolved_value=keep if resolution == "value" else None,
                    resolved_by=by or _who(), resolved_at=dt.datetime.now(dt.UTC).replace(
                        tzinfo=None), resolution_note=note,
                )
            )  # fmt: skip
    finally:
        connectors.dispose()
    return show_conflict(settings, conflict_id)


def _check_value(conflict: dict[str, Any], value: str) -> None:
    """A typed value must fit the target column (else BadInput: a run never fails on it)."""
    from connectors.conflicts import typed
    from schemas import metadata_for
    from schemas.two_way import ALL_INTERFACES

    interface = ALL_INTERFACES[conflict["interface"]]
    column = (
        metadata_for(interface.target_system).tables[conflict["target_table"]].c[conflict["field"]]
    )
    length = getattr(column.type, "length", None)
    try:
        typed(column, value)
    except ValueError:
        raise BadInput(
            f"--keep {value!r} does not fit {conflict['target_table']}.{conflict['field']} "
            f"({column.type}); nothing was done"
        ) from None
    if length is not None and len(value) > length:
        raise BadInput(f"--keep {value!r} is longer than {length} characters; nothing was done")


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
