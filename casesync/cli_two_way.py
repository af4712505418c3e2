"""The two-way commands of the casesync CLI: `conflicts list|show|resolve` and `compare-modes`."""

from __future__ import annotations

import json
import sys
from pathlib import Path  # noqa: TC003 (typer reads the annotations at run time)
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console(soft_wrap=True)
conflicts_app = typer.Typer(help="The two-way conflict queue: list, show, resolve.")


def _json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


@conflicts_app.command("list")
def list_command(
    status: Annotated[str, typer.Option(help="open, resolved, applied or all")] = "open",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The conflicts queued by the two-way feeds (open ones by default)."""
    from casesync.conflicts import list_conflicts
    from casesync.settings import get_settings

    rows = list_conflicts(get_settings(), status=status)
    if as_json:
        _json(rows)
        return
    table = Table("id", "night", "interface", "record", "field", "kind", "owner", "from", "status")
    for r in rows:
        table.add_row(
            str(r["conflict_id"]), r["night"], r["interface"],
            f"{r['target_table']} {r['record_key']}", r["field"], r["kind"] or "",
            r["owner_system"], r["changed_by_system"], r["status"],
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(rows)} conflict(s)")


@conflicts_app.command("show")
def show_command(
    conflict_id: int, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """Every detail of one conflict: the values, who wrote each, its resolution."""
    from casesync.conflicts import show_conflict
    from casesync.settings import get_settings

    row = show_conflict(get_settings(), conflict_id)
    if as_json:
        _json(row)
        return
    for name, value in row.items():
        console.print(f"{name:>20}: {value}", markup=False)


@conflicts_app.command("resolve")
def resolve_command(
    conflict_id: int,
    keep: Annotated[
        str, typer.Option(help="owner, incoming, target (its own edit), or the value to keep")
    ],
    note: Annotated[str | None, typer.Option(help="why (kept with the decision)")] = None,
) -> None:
    """Record a decision; the interface's next night writes it into the target and audits it."""
    from casesync.conflicts import resolve_conflict
    from casesync.settings import get_settings

    row = resolve_conflict(get_settings(), conflict_id, keep, note=note)
    console.print(
        f"conflict {conflict_id} resolved ({row['resolution']}) by {row['resolved_by']}: "
        "the next night applies it",
        markup=False,
    )


def compare_modes_command(
    files: Annotated[int, typer.Option(help="standing inventory of the world")] = 2_000,
    days: Annotated[int, typer.Option(help="simulated days (each night run)")] = 30,
    seed: Annotated[int, typer.Option(help="random seed, the same for both modes")] = 1,
    start: Annotated[str, typer.Option(help="first simulated day")] = "2020-01-06",
    defect_rate: Annotated[float, typer.Option(help="share of entries typed wrong")] = 0.02,
    home: Annotated[
        Path | None, typer.Option(help="where the two worlds go (default $CASESYNC_HOME/compare)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The same seeded world in one_way and two_way mode, side by side (SQLite worlds)."""
    from casesync.compare import compare_modes
    from casesync.settings import get_settings

    where = home or get_settings().home / "compare"
    result = compare_modes(
        where, files=files, days=days, seed_value=seed, start=start, defect_rate=defect_rate
    )
    if as_json:
        _json(result)
        return
    table = Table("figure", "one_way", "two_way")
    for name in result["one_way"]:
        one, two = result["one_way"][name], result["two_way"][name]
        table.add_row(name, json.dumps(one, default=str), json.dumps(two, default=str))
    console.print(table)
