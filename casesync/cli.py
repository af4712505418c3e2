"""The casesync command line. Every command calls the same functions the DAGs call."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from casesync import __version__
from casesync.errors import CasesyncError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

app = typer.Typer(
    name="casesync",
    help="Simulate NOVA, GCMS and NCMS, run their interfaces, and validate what they hold.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

P = ParamSpec("P")
R = TypeVar("R")


def explained(command: Callable[P, R]) -> Callable[P, R]:
    """Turn a CasesyncError into one line on stderr and exit status 2."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except CasesyncError as exc:
            name = command.__name__.removesuffix("_command")
            err_console.print(f"casesync {name}: {exc}", markup=False)
            raise typer.Exit(2) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"casesync {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """casesync: NOVA -> GCMS -> NCMS interfaces and the checks on them."""


@app.command()
@explained
def init() -> None:
    """Create or upgrade the five databases (nova, gcms, ncms, control, ground_truth)."""
    from casesync.database import init_all
    from casesync.settings import get_settings

    for result in init_all(get_settings()):
        console.print(result.describe(), markup=False, highlight=False)


@contextlib.contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback drawing a rich bar on stderr (or doing nothing)."""
    if not enabled:
        yield lambda _phase, _done, _total: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def _emit(result: dict[str, Any], as_json: bool, summary: Callable[[dict[str, Any]], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2, default=str) + "\n")
    else:
        summary(result)


def _seed_summary(result: dict[str, Any]) -> None:
    options = result["options"]
    console.print(
        f"Seeded {options['files']:,} files and simulated {options['days']} days "
        f"from {options['start']} in {result['seconds']:.1f} s "
        f"(history {result['history_seconds']:.1f} s)."
    )
    planted = sum(result["defects"].values())
    console.print(
        f"Typed entries: {result['typed_entries']:,}; planted defects: {planted:,} "
        f"({planted / max(1, result['typed_entries']):.2%})."
    )
    for table, shares in result["calibration"].items():
        total = sum(v["count"] for v in shares.values())
        worst = max((abs(v["share"] - v["reference_share"]) for v in shares.values()), default=0.0)
        console.print(
            f"  {table:<9} {total:>7,} events, largest gap to the reference share {worst:.2%}"
        )


@app.command("seed")
@explained
def seed_command(
    files: Annotated[int, typer.Option(help="Standing inventory of files at the start.")] = 2000,
    days: Annotated[int, typer.Option(help="Days of new activity to simulate.")] = 30,
    start: Annotated[str, typer.Option(help="First simulated day, YYYY-MM-DD.")] = "2020-01-06",
    defect_rate: Annotated[
        float, typer.Option(help="Share of typed entries that carry a planted error (0-1).")
    ] = 0.02,
    seed: Annotated[int, typer.Option(help="Random seed: same seed and options, same world.")] = 1,
    replace: Annotated[
        bool, typer.Option(help="Discard a world already in the databases.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Seed a synthetic NOVA/GCMS/NCMS world: back-filled history, then DAYS simulated days."""
    from casesync.seeding import parse_options
    from casesync.seeding import seed as run_seed
    from casesync.settings import get_settings

    settings = get_settings()
    options = parse_options(
        files=files, days=days, start=start, defect_rate=defect_rate, seed=seed,
        mode=settings.interop_mode.value,
    )  # fmt: skip
    with progress_bar(sys.stderr.isatty()) as progress:
        result = run_seed(settings, options, replace=replace, progress=progress)
    _emit(result, as_json, _seed_summary)


@app.command()
@explained
def simulate(
    days: Annotated[int, typer.Option(help="Days to advance the world by.")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Advance the seeded world by DAYS more days (what the demo's simulate_day DAG does)."""
    from casesync.seeding import simulate as run_simulate
    from casesync.settings import get_settings

    result = run_simulate(get_settings(), days)
    _emit(
        result,
        as_json,
        lambda r: console.print(
            f"Simulated through {r['simulated_through']} in {r['seconds']:.1f} s."
        ),
    )


@app.command()
@explained
def demo() -> None:
    """Build the demo world under CASESYNC_HOME and say where to look."""
    from casesync.database import init_all
    from casesync.settings import get_settings

    settings = get_settings()
    console.print("[bold]1. casesync init[/bold]: the five databases")
    for result in init_all(settings):
        console.print("   " + result.describe(), markup=False, highlight=False)
    home = settings.home.resolve()
    console.print(f"\nEverything is under {home}/ (one SQLite file per database).")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="casesync")


if __name__ == "__main__":
    main()
