"""The casesync command line. Every command calls the same functions the DAGs call."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from casesync import __version__
from casesync.errors import CasesyncError

if TYPE_CHECKING:
    from collections.abc import Callable

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
            err_console.print(f"casesync {command.__name__.rstrip('_')}: {exc}", markup=False)
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
