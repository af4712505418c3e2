"""The nightly interfaces, as the CLI and the DAGs run them."""

from __future__ import annotations

import contextlib
import datetime as dt
from functools import partial
from typing import TYPE_CHECKING

from casesync.database import require_current
from casesync.errors import BadInput, PipelineCheckFailed
from casesync.settings import DATABASES, InteropMode
from connectors import Connectors, transfer
from schemas.two_way import ALL_INTERFACES

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings
    from connectors.transfer import RunResult
    from schemas.interfaces import Interface

#: A quarantine below this many records never blocks a night, whatever its share.
QUARANTINE_MIN_RECORDS = 20


#: Why two_way is refused until its interfaces exist.
TWO_WAY_NOT_BUILT = (
    "CASESYNC_INTEROP_MODE=two_way is not available yet: no interface carries NCMS's warrants, "
    "removal information and R240(3) departures to GCMS, and in that mode the simulated "
    "officers stop re-keying them, so they would be lost; use one_way (nothing was done)"
)
#: two_way works end to end: its interfaces carry what the officers no longer re-key, and no
#: change to a field its owner did not make is applied silently (connectors/conflicts.py).
TWO_WAY_READY = True


@contextlib.contextmanager
def two_way_trial() -> Iterator[None]:
    """Allow two_way within the block (compare-modes on its own scratch worlds, the tests)."""
    global TWO_WAY_READY
    before, TWO_WAY_READY = TWO_WAY_READY, True
    try:
        yield
    finally:
        TWO_WAY_READY = before


def require_supported_mode(mode: InteropMode | str) -> None:
    """Refuse a mode whose interfaces do not exist yet (BadInput, naming what would be lost)."""
    if InteropMode(mode) is InteropMode.TWO_WAY and not (
        TWO_WAY_READY and any(i.two_way_only for i in ALL_INTERFACES.values())
    ):
        raise BadInput(TWO_WAY_NOT_BUILT)


def active_interfaces(settings: Settings) -> list[Interface]:
    """The interfaces a night runs in the configured mode, in order."""
    require_supported_mode(settings.interop_mode)
    return [
        interface
        for interface in ALL_INTERFACES.values()
        if not interface.two_way_only or settings.interop_mode is InteropMode.TWO_WAY
    ]


def interface_named(settings: Settings, name: str) -> Interface:
    known = {i.name: i for i in active_interfaces(settings)}
    if name not in known:
        choices = ", ".join(known)
        raise BadInput(
            f"unknown interface {name!r} in {settings.interop_mode} mode; choose from {choices}"
        )
    return known[name]


def parse_night(text: str, option: str = "--night") -> dt.date:
    import re

    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        raise BadInput(f"{option} must be a date written YYYY-MM-DD (got {text!r})")
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise BadInput(
            f"{option} must be a date on the calendar, written YYYY-MM-DD: "
            f"{text!r} is not a date on the calendar ({exc})"
        ) from None


def run_night(
    settings: Settings,
    night: dt.date,
    *,
    interface: str | None = None,
    replay: bool = False,
    dry_run: bool = False,
    connectors: Connectors | None = None,
    check: bool = False,
) -> list[RunResult]:
    """Run one night of every active interface (or one), in order.

    With `check`, each run's blocking checks (check_run) are part of the run:
    a failed one records the run as `blocked` and raises PipelineCheckFailed.
    """
    own = connectors is None
    connectors = connectors or Connectors.from_settings(settings)
    chosen = [interface_named(settings, interface)] if interface else active_interfaces(settings)
    checks = partial(check_run, settings) if check else None
    try:
        require_current(connectors, DATABASES)
        if not (replay or dry_run):
            require_simulated(connectors, night)
        return [
            transfer.run_interface(
                connectors, settings.batch_dir, item, night, replay=replay, dry_run=dry_run,
                check=checks, two_way=settings.interop_mode is InteropMode.TWO_WAY,
            )
            for item in chosen
        ]  # fmt: skip
    finally:
        if own:
            connectors.dispose()


def require_simulated(connectors: Connectors, night: dt.date) -> None:
    """Refuse a night the world has not reached: its batch would miss the days still to come."""
    from sqlalchemy import select

    from schemas.ground_truth import WorldRun

    with connectors.ground_truth.connect() as conn:
        world = conn.execute(select(WorldRun.start_on, WorldRun.simulated_through)).first()
    if world is None:
        return  # databases filled by other means than casesync seed: nothing to compare with
    if night > world.simulated_through:
        raise BadInput(
            f"night {night} is after the world's last simulated day ({world.simulated_through}): "
            f"run `casesync simulate --days {(night - world.simulated_through).days}` first, "
            "or pick an earlier night; nothing was done"
        )
    if night < world.start_on:
        raise BadInput(
            f"night {night} is before the world's first night ({world.start_on}): what came "
            "before was loaded with the world's history; nothing was done"
        )


def check_run(settings: Settings, result: RunResult) -> None:
    """The blocking checks of a run: every record accounted for, quarantine under the threshold."""
    failed: dict[str, str] = {}
    for stream in result.streams:
        accounted = (
            stream.inserted + stream.updated + stream.unchanged + stream.older + stream.quarantined
        )
        if accounted != stream.extracted:
            failed[f"counts_reconcile:{stream.name}"] = (
                f"{stream.extracted} extracted, {accounted} loaded or quarantined"
            )
    quarantined = result.total("quarantined")
    if (
        quarantined >= QUARANTINE_MIN_RECORDS
        and result.quarantine_share > settings.quarantine_threshold
    ):
        failed["quarantine_share"] = (
            f"{quarantined} of {result.total('extracted')} records ({result.quarantine_share:.1%}) "
            f"quarantined, above {settings.quarantine_threshold:.1%}"
        )
    if failed:
        raise PipelineCheckFailed(f"{result.interface} night {result.night}", failed)


def nightly(
    settings: Settings,
    first: dt.date,
    last: dt.date,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> list[RunResult]:
    """Every active interface for each night from `first` to `last`, in order."""
    if last < first:
        raise BadInput(f"--to ({last}) is before --from ({first})")
    nights = (last - first).days + 1
    results: list[RunResult] = []
    connectors = Connectors.from_settings(settings)
    try:
        for offset in range(nights):
            night = first + dt.timedelta(days=offset)
            results.extend(run_night(settings, night, connectors=connectors, check=True))
            if progress:
                progress("nights", offset + 1, nights)
    finally:
        connectors.dispose()
    return results
