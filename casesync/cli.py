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
            from typer._click.globals import get_current_context  # typer's own click

            context = get_current_context(silent=True)
            name = context.command_path if context else "casesync"
            err_console.print(f"{name}: {exc}", markup=False)
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
def init(
    create_databases: Annotated[
        bool,
        typer.Option(help="Create PostgreSQL databases that do not exist yet (else refused)."),
    ] = False,
) -> None:
    """Create or upgrade the five databases (nova, gcms, ncms, control, ground_truth)."""
    from casesync.database import init_all
    from casesync.settings import get_settings

    for result in init_all(get_settings(), create_databases=create_databases):
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
    create_databases: Annotated[
        bool,
        typer.Option(help="Create PostgreSQL databases that do not exist yet (else refused)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Seed a synthetic NOVA/GCMS/NCMS world: back-filled history, then DAYS simulated days."""
    from casesync.seeding import parse_options
    from casesync.seeding import seed as run_seed
    from casesync.settings import get_settings

    settings = get_settings()
    options = parse_options(
        files=files,
        days=days,
        start=start,
        defect_rate=defect_rate,
        seed=seed,
        mode=settings.interop_mode.value,
    )
    with progress_bar(sys.stderr.isatty()) as progress:
        result = run_seed(
            settings, options, replace=replace, progress=progress,
            create_databases=create_databases,
        )  # fmt: skip
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


def _run_table(results: list[Any]) -> None:
    from rich.table import Table

    columns = ("night", "interface", "kind", "records", "new", "changed", "same", "quarantined")
    table = Table(*columns)
    for result in results:
        table.add_row(
            result.night.isoformat(),
            result.interface,
            result.kind,
            *(str(result.total(k)) for k in ("extracted", "inserted", "updated")),
            str(result.total("unchanged") + result.total("older")),
            str(result.total("quarantined")),
        )
    console.print(table)
    for result in results:
        console.print(
            f"batch {result.batch_id}: {result.batch_path}", markup=False, highlight=False
        )
        queued = result.total("conflicts") + result.edits_queued
        if queued:
            console.print(
                f"{result.interface}: {queued} conflict(s) queued; see `casesync conflicts list`",
                markup=False, highlight=False,
            )  # fmt: skip


@app.command()
@explained
def sync(
    night: Annotated[
        str, typer.Option(help="The night to run, YYYY-MM-DD (named by its first day).")
    ],
    interface: Annotated[
        str | None, typer.Option(help="Run only this interface (default: every active one).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run one night of the interfaces: extract, write the batch, load it into the target."""
    from casesync import sync as jobs
    from casesync.settings import get_settings

    settings = get_settings()
    results = jobs.run_night(settings, jobs.parse_night(night), interface=interface)
    _emit({"runs": [r.as_dict() for r in results]}, as_json, lambda _r: _run_table(results))
    for result in results:
        jobs.check_run(settings, result)


@app.command()
@explained
def nightly(
    first: Annotated[str, typer.Option("--from", help="First night, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last night, YYYY-MM-DD (inclusive).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run every active interface for each night from --from to --to, in order."""
    from casesync import sync as jobs
    from casesync.settings import get_settings

    settings = get_settings()
    start, end = jobs.parse_night(first, "--from"), jobs.parse_night(last, "--to")
    with progress_bar(sys.stderr.isatty() and not as_json) as progress:
        results = jobs.nightly(settings, start, end, progress=progress)
    _emit({"runs": [r.as_dict() for r in results]}, as_json, lambda _r: _nightly_summary(results))


def _nightly_summary(results: list[Any]) -> None:
    nights = sorted({r.night for r in results})
    if not nights:
        return
    console.print(
        f"Ran {len(results)} interface runs over {len(nights)} nights "
        f"({nights[0]} to {nights[-1]})."
    )
    for name in sorted({r.interface for r in results}):
        mine = [r for r in results if r.interface == name]
        totals = {
            k: sum(r.total(k) for r in mine)
            for k in ("extracted", "inserted", "updated", "quarantined")
        }
        console.print(
            f"  {name}: {totals['extracted']:,} records, {totals['inserted']:,} inserted, "
            f"{totals['updated']:,} updated, {totals['quarantined']:,} quarantined"
        )


@app.command()
@explained
def replay(
    night: Annotated[
        str, typer.Option(help="The night whose stored batch to re-apply, YYYY-MM-DD.")
    ],
    interface: Annotated[str, typer.Option(help="The interface (nova_to_gcms, gcms_to_ncms...).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what the replay would change; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Re-apply a night's stored batch (checked against its manifest first)."""
    from casesync import sync as jobs
    from casesync.settings import get_settings

    settings = get_settings()
    results = jobs.run_night(
        settings, jobs.parse_night(night), interface=interface, replay=True, dry_run=dry_run
    )
    _emit({"runs": [r.as_dict() for r in results]}, as_json, lambda _r: _replay_summary(results))


def _replay_summary(results: list[Any]) -> None:
    for result in results:
        verb = "would add" if result.kind == "dry-run" else "added"
        console.print(
            f"{result.interface} night {result.night} ({result.kind}, batch {result.batch_path}): "
            f"{verb} {result.total('inserted')}, changed {result.total('updated')}, "
            f"left {result.total('unchanged') + result.total('older')} unchanged, "
            f"quarantined {result.total('quarantined')}"
        )
        for stream in result.streams:
            for entry in stream.diff[:50]:
                if entry["action"] == "added":
                    console.print(f"  + {stream.target_table} {entry['key']}", markup=False)
                else:
                    console.print(f"  ~ {stream.target_table} {entry['key']}", markup=False)
                    for name, change in entry["fields"].items():
                        console.print(
                            f"      {name}: {change['before']!r} -> {change['after']!r}",
                            markup=False,
                        )
            if len(stream.diff) > 50:
                console.print(
                    f"  ... {len(stream.diff) - 50} more in {stream.name} (use --json for all)"
                )


@app.command()
@explained
def trace(
    key: Annotated[str, typer.Argument(help="A record's key: N5000003, TB1-00012, LIT-6000001.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the trace as JSON.")] = False,
) -> None:
    """What happened to one record: its copies, each batch and run, quarantine, findings."""
    from casesync.settings import get_settings
    from casesync.trace import trace as run

    _emit(run(get_settings(), key), as_json, _trace_summary)


def _trace_summary(result: dict[str, Any]) -> None:
    console.print(f"record {result['key']}", markup=False, highlight=False)
    for where, values in result["copies"].items():
        shown = ", ".join(f"{k}={v}" for k, v in values.items())
        console.print(f"  now in {where}: {shown}", markup=False, highlight=False)
    for step in result["carried"]:
        changed = "; ".join(
            f"{k} {c['before']!r} -> {c['after']!r}" for k, c in step["changed"].items()
        )
        console.print(
            f"  {step['batch_applied_at'] or 'not applied'}  {step['interface']}/{step['stream']} "
            f"night {step['night']} batch {step['batch']}: {step['action']} "
            f"(run {step['run']} {step['run_kind'] or ''})" + (f": {changed}" if changed else ""),
            markup=False, highlight=False,
        )  # fmt: skip
    for entry in result["quarantine"]:
        console.print(
            f"  quarantined by {entry['batch_id']} ({entry['stream']}): {entry['rule']}: "
            f"{entry['reason']}",
            markup=False, highlight=False,
        )  # fmt: skip
    for finding in result["findings"]:
        console.print(
            f"  finding {finding['rule']} on {finding['system']}.{finding['table_name']} "
            f"({finding['scope']}): {finding['state']}, first seen {finding['first_seen_on']}, "
            f"last seen {finding['last_seen_on']}"
            + (f", resolved {finding['resolved_on']}" if finding["resolved_on"] else ""),
            markup=False, highlight=False,
        )  # fmt: skip
    for conflict in result["conflicts"]:
        console.print(f"  conflict {conflict}", markup=False, highlight=False)


@app.command()
@explained
def validate(
    night: Annotated[
        str | None, typer.Option(help="Validate this night's changes, YYYY-MM-DD.")
    ] = None,
    full: Annotated[
        bool, typer.Option("--full", help="Validate everything, as of the latest night.")
    ] = False,
    engine: Annotated[
        str, typer.Option(help="gx (Great Expectations) or sql (the same rules as plain SQL).")
    ] = "gx",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Run the validation rules; write one finding per failing record per rule, and Data Docs."""
    from casesync import sync as jobs
    from casesync.errors import BadInput
    from casesync.settings import get_settings
    from casesync.validation import validate as run

    if (night is None) == (not full):
        raise BadInput("give exactly one of --night YYYY-MM-DD or --full")
    if engine not in ("gx", "sql"):
        raise BadInput(f"--engine must be gx or sql (got {engine!r})")
    chosen = jobs.parse_night(night) if night else None
    result = run(get_settings(), night=chosen, engine=engine)
    _emit(result, as_json, _validation_summary)


def _validation_summary(result: dict[str, Any]) -> None:
    console.print(
        f"{result['scope']}: {result['rules']} rules in {result['rule_seconds']:.1f} s "
        f"({result['engine']}); {result['errors']:,} error and {result['warnings']:,} "
        f"warning findings from {result['rules_failed']} rules."
    )
    for rule, count in sorted(result["failed_rules"].items(), key=lambda kv: -kv[1]):
        console.print(f"  {count:>7,}  {rule}", markup=False)
    if result.get("data_docs"):
        console.print(f"Data Docs: {result['data_docs']}", markup=False)


@app.command()
@explained
def score(
    scope: Annotated[
        str | None, typer.Option(help="Only findings of one validation: full or night:YYYY-MM-DD.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Compare findings with the defects the simulator planted: recall and precision per class."""
    from casesync.settings import get_settings
    from casesync.validation import score as run

    result = run(get_settings(), scope=scope)
    if as_json:
        shown = {k: result[k] for k in ("classes", "overall", "clean_findings")}
        sys.stdout.write(json.dumps(shown, indent=2) + "\n")
        return
    from rich.table import Table

    table = Table("defect class", "planted", "found", "recall", "precision")
    for name, entry in result["classes"].items():
        table.add_row(
            name,
            str(entry["planted"]),
            str(entry["found"]),
            "-" if entry["recall"] is None else f"{entry['recall']:.3f}",
            "-" if entry["precision"] is None else f"{entry['precision']:.3f}",
        )
    console.print(table)
    overall = result["overall"]
    console.print(
        f"overall recall {overall['recall']}, precision {overall['precision']}; "
        f"error findings matching no planted defect: {result['clean_findings']}"
    )
    console.print(
        "recall: the share of a class's planted defects that a rule meant for it found; "
        "precision: the share of those rules' findings that name a planted record (or the "
        "related one). Findings of rules with no planted class, and warnings (files that "
        "need attention, not typing errors), are outside both: the first are counted above.",
        markup=False,
        highlight=False,
    )


@app.command()
@explained
def report(
    night: Annotated[str, typer.Option(help="The night to report on, YYYY-MM-DD.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Write the night's analyst report (offline HTML) and its work queue per region (CSV)."""
    from casesync import sync as jobs
    from casesync.report import build_report
    from casesync.settings import get_settings

    result = build_report(get_settings(), jobs.parse_night(night))
    _emit(result, as_json, _report_summary)


def _report_summary(result: dict[str, Any]) -> None:
    console.print(
        f"night {result['night']}: {result['open']:,} open findings "
        f"({result['new']:,} new, {result['resolved']:,} resolved)"
    )
    console.print(f"report      {result['report']}", markup=False)
    for path in result["work_queues"]:
        console.print(f"work queue  {path}", markup=False)


@app.command()
@explained
def stats(
    year: Annotated[
        int | None, typer.Option(help="Calendar year (default: the latest with reports).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """The reference's Tables 1-3 and removals by priority from GCMS and NCMS (CSV and HTML)."""
    from casesync.settings import get_settings
    from casesync.stats import stats as run

    _emit(run(get_settings(), year=year), as_json, _stats_summary)


def _stats_summary(result: dict[str, Any]) -> None:
    sections = [(f"{k} {result['year']}", t) for k, t in result["tables"].items()]
    sections += [(f"removals {k}", t) for k, t in result["removals_by_priority"].items()]
    for name, table in sections:
        console.print(
            f"{name:<30} {table['total']:>8,} records; largest difference from the "
            f"reference {table['max_difference_pp']:.2f} points",
            markup=False,
        )
    console.print(f"CSV   {result['csv']}\nHTML  {result['html']}", markup=False)


bench_app = typer.Typer(help="Benchmarks, each against a baseline run in the same process.")
app.add_typer(bench_app, name="bench")


def _check_bench_backend(backend: str) -> None:
    """A benchmark's --backend: sqlite or postgresql."""
    from casesync.errors import BadInput

    if backend not in ("sqlite", "postgresql"):
        raise BadInput(f"--backend must be sqlite or postgresql (got {backend!r})")


def _check_bench_world(files: int, days: int, backend: str, *, least_days: int) -> None:
    """A benchmark world's size and backend: at least one file and `least_days` days."""
    from casesync.errors import BadInput

    if files < 1 or days < least_days:
        raise BadInput(
            f"--files must be at least 1 and --days at least {least_days} (got {files}, {days})"
        )
    _check_bench_backend(backend)


@bench_app.command("sync")
@explained
def bench_sync_command(
    rows: Annotated[int, typer.Option(help="Records to generate and move (>= 1,000).")] = 1_000_000,
    backend: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Interface throughput against a raw INSERT ... SELECT and pandas, on the same records.

    Then a night with 1% of the records changed, against the raw SQL upsert of
    the same records.
    """
    from casesync.bench import bench_sync
    from casesync.errors import BadInput

    if rows < 1000:
        raise BadInput(f"--rows must be at least 1000 (got {rows})")
    _check_bench_backend(backend)
    say = (lambda m: err_console.print(m)) if not as_json else None
    result = bench_sync(rows, backend, progress=say)
    _emit(result, as_json, lambda r: console.print_json(data=r))


@bench_app.command("seed")
@explained
def bench_seed_command(
    files: Annotated[int, typer.Option(help="Standing inventory of files.")] = 220_000,
    days: Annotated[int, typer.Option(help="Days to simulate.")] = 365,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Time and peak memory of a seed, against the time to write the same rows alone."""
    from casesync.bench import bench_seed

    result = bench_seed(files, days)
    _emit(result, as_json, lambda r: console.print_json(data=r))


@bench_app.command("validate")
@explained
def bench_validate_command(
    files: Annotated[int, typer.Option(help="Standing inventory of files.")] = 220_000,
    days: Annotated[int, typer.Option(help="Days to simulate and sync.")] = 365,
    backend: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Full and nightly validation time, Great Expectations against the same rules as SQL."""
    from casesync.bench import bench_validate

    _check_bench_backend(backend)
    result = bench_validate(files, days, backend)
    _emit(result, as_json, lambda r: console.print_json(data=r))


@bench_app.command("catchup")
@explained
def bench_catchup_command(
    files: Annotated[int, typer.Option(help="Standing inventory of files.")] = 22_000,
    days: Annotated[int, typer.Option(help="Days to simulate, then sync night by night.")] = 120,
    backend: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Seconds per night of a catch-up, its last nights against its first ones."""
    from casesync.bench import bench_catchup

    _check_bench_world(files, days, backend, least_days=10)
    result = bench_catchup(files, days, backend)
    _emit(result, as_json, lambda r: console.print_json(data=r))


@bench_app.command("engines")
@explained
def bench_engines_command(
    files: Annotated[int, typer.Option(help="Standing inventory of files.")] = 600,
    days: Annotated[int, typer.Option(help="Days to simulate, then sync night by night.")] = 30,
    backend: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Nights run in new engines: a statement cache per engine against one per process."""
    from casesync.bench_engines import bench_engines

    _check_bench_world(files, days, backend, least_days=1)
    say = (lambda m: err_console.print(m)) if not as_json else None
    result = bench_engines(files, days, backend, progress=say)
    _emit(result, as_json, lambda r: console.print_json(data=r))


@bench_app.command("trace")
@explained
def bench_trace_command(
    files: Annotated[int, typer.Option(help="Standing inventory of files.")] = 220_000,
    days: Annotated[int, typer.Option(help="Days to simulate and sync.")] = 365,
    backend: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Seconds per `casesync trace KEY` on a world this size, against the indexed look-up."""
    from casesync.bench_trace import bench_trace

    _check_bench_world(files, days, backend, least_days=1)
    say = (lambda m: err_console.print(m)) if not as_json else None
    result = bench_trace(files, days, backend, progress=say)
    _emit(result, as_json, lambda r: console.print_json(data=r))


@app.command()
@explained
def demo() -> None:
    """Build the demo: seed a world, run its nights through Airflow, validate, score."""
    import datetime as dt
    from pathlib import Path

    from casesync.orchestrate import demo as run
    from casesync.report import build_report, latest_report
    from casesync.settings import get_settings

    settings = get_settings()
    run(settings, lambda line: console.print(line, markup=False, highlight=False))
    page = latest_report(settings)  # each night's report is built by the nightly DAG
    if page is not None:  # again, now that the full validation's findings are in
        night = dt.date.fromisoformat(page.parent.name)
        page = Path(build_report(settings, night)["report"])
        console.print(f"Report of the last night: {page}", markup=False, highlight=False)


@app.command("airflow")
@explained
def airflow_command(
    port: Annotated[int, typer.Option(help="Port of the Airflow UI and API.")] = 8080,
) -> None:
    """Start the Airflow UI on the embedded default (prints the login); Ctrl-C stops it."""
    from casesync.orchestrate import serve
    from casesync.settings import get_settings

    serve(
        get_settings(), lambda line: console.print(line, markup=False, highlight=False), port=port
    )


@app.command()
@explained
def backfill(
    first: Annotated[str, typer.Option("--from", help="First night, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="Last night, YYYY-MM-DD (inclusive).")],
    reprocess_behavior: Annotated[
        str, typer.Option(help="none, completed or failed: which nights already run to run again.")
    ] = "none",
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """Backfill nights through Airflow's scheduler (the one `casesync airflow` runs, or its own)."""
    from casesync import sync as jobs
    from casesync.orchestrate import backfill as run
    from casesync.settings import get_settings

    start, end = jobs.parse_night(first, "--from"), jobs.parse_night(last, "--to")
    say = None if as_json else (lambda line: err_console.print(line, markup=False))
    runs = run(get_settings(), start, end, reprocess=reprocess_behavior, progress=say)
    shown = [
        {"run": r["dag_run_id"], "state": r["state"], "night_start": r["data_interval_start"]}
        for r in runs
    ]

    def table(_result: dict[str, Any]) -> None:
        for run_row in shown:
            console.print(f"{run_row['run']}: {run_row['state']}")

    _emit({"runs": shown}, as_json, table)


def _two_way_commands() -> None:
    from casesync.cli_two_way import compare_modes_command, conflicts_app

    for command in conflicts_app.registered_commands:
        command.callback = explained(command.callback)  # type: ignore[arg-type]
    app.add_typer(conflicts_app, name="conflicts")
    app.command("compare-modes")(explained(compare_modes_command))


_two_way_commands()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="casesync")


if __name__ == "__main__":
    main()
