"""The Arrow paths a night's records take: reads, staging, audit inserts, the upsert."""

from __future__ import annotations

import datetime as dt
import glob
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
from sqlalchemy import Boolean, Integer, String, case, func, insert, literal, select, update

from casesync.database import init_all
from connectors import Connectors, arrow_io, capture, contract, dialect, faults, transfer
from schemas import gcms, nova
from schemas.codes import NOVA_TO_GCMS_OUTCOME
from schemas.control import AuditLog
from schemas.interfaces import NOVA_TO_GCMS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from casesync.settings import Settings
    from schemas.interfaces import Stream

pytestmark = pytest.mark.integration

TYPED = dt.datetime(2021, 3, 1, 10, 0)


@pytest.fixture
def connectors(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Connectors]:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # scratch files land here
    init_all(settings)
    made = Connectors.from_settings(settings)
    yield made
    made.dispose()


def _scratch_left() -> list[str]:
    return glob.glob(os.path.join(tempfile.gettempdir(), "casesync-scratch-*"))


def _decisions(connectors: Connectors, count: int) -> None:
    """`count` NOVA RPD final decisions on `count` files, typed at TYPED."""
    with connectors.nova.begin() as conn:
        conn.execute(
            insert(nova.Party),
            [
                {"party_id": i, "uci": f"{1000 + i:04d}-0000", "family_name": "Test",
                 "given_names": "Party", "entered_at": TYPED, "updated_at": TYPED,
                 "entered_by": "TEST"}
                for i in range(count)
            ],
        )  # fmt: skip
        conn.execute(
            insert(nova.CaseFile),
            [
                {"file_number": f"TB1-{i:05d}", "division": "RPD", "proceeding": "CLAIM",
                 "party_id": i, "region": "T", "referred_on": dt.date(2020, 1, 1),
                 "status": "FN", "is_irregular_arrival": False, "entered_at": TYPED,
                 "updated_at": TYPED, "entered_by": "TEST"}
                for i in range(count)
            ],
        )  # fmt: skip
        conn.execute(
            insert(nova.Decision),
            [
                {"decision_id": i, "file_number": f"TB1-{i:05d}", "is_final": True,
                 "outcome_code": "ACC", "decided_on": dt.date(2021, 3, 1), "member_id": "M1",
                 "entered_at": TYPED, "updated_at": TYPED, "entered_by": "TEST"}
                for i in range(count)
            ],
        )  # fmt: skip


def _extract(
    connectors: Connectors, stream: Stream, start: dt.datetime, end: dt.datetime
) -> pa.Table:
    """A stream's records of [start, end), as a night's first extraction reads them."""
    with connectors.nova.begin() as conn:
        through = dialect.advance_epoch(conn)
    statement = capture.own_statement(stream, capture.Window(start, end, through))
    assert statement is not None
    ((records, counted),) = contract.extract(connectors.nova.engine, [(stream, statement)])
    assert records.num_rows == counted
    return records


def test_an_extraction_reads_every_record_of_the_interval(connectors: Connectors) -> None:
    _decisions(connectors, 50)
    stream = NOVA_TO_GCMS.streams[1]
    start, end = TYPED - dt.timedelta(hours=1), TYPED + dt.timedelta(hours=1)
    records = _extract(connectors, stream, start, end)
    outside = _extract(connectors, stream, end, end + dt.timedelta(hours=1))
    with connectors.nova.connect() as conn:
        _, rows = arrow_io.fetch_raw(conn, stream.query())
        fetched = arrow_io.fetch_arrow(conn, stream.query())
    assert records.num_rows == len(rows) == 50
    assert outside.num_rows == 0
    assert sorted(records.column("source_key").to_pylist()) == list(range(50))
    assert records.column("outcome_code").to_pylist() == ["ACC"] * 50
    assert records.column("decided_on").to_pylist() == ["2021-03-01"] * 50
    assert records.schema.field("source_key").type == pa.int64()
    if connectors.nova.backend == "sqlite":  # read through ADBC; PostgreSQL reads rows
        assert fetched is not None
        assert fetched.num_rows == 50
    else:
        assert fetched is None
    assert not _scratch_left()


def test_a_killed_runs_scratch_files_are_removed_by_the_next_run(
    connectors: Connectors,
) -> None:
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    orphan = Path(tempfile.gettempdir()) / f"casesync-scratch-{int(gone.stdout)}-abc"
    orphan.mkdir()
    (orphan / "scratch.db").write_bytes(b"left by kill -9")
    live = Path(tempfile.gettempdir()) / f"casesync-scratch-{os.getpid()}-live"
    live.mkdir()
    _decisions(connectors, 3)
    _extract(connectors, NOVA_TO_GCMS.streams[1], TYPED, TYPED + dt.timedelta(hours=1))
    if connectors.nova.backend == "sqlite":  # PostgreSQL reads need no scratch files
        assert not orphan.exists()
    assert live.exists()  # a live process's scratch directory is left alone
    live.rmdir()


def test_a_column_of_mixed_types_reads_as_text(connectors: Connectors) -> None:
    """SQLite lets one column hold integers and text: such a column reads as text."""
    _decisions(connectors, 30)
    decision = nova.Decision.__table__
    mixed = case((decision.c.decision_id >= 27, literal("x")), else_=decision.c.decision_id)
    query = select(mixed.label("v")).order_by(decision.c.decision_id)
    with connectors.nova.connect() as conn:
        fetched = arrow_io.fetch_arrow(conn, query)
    if connectors.nova.backend == "sqlite":  # PostgreSQL cannot hold such a column at all
        assert fetched is not None
        assert fetched.column("v").to_pylist() == [str(i) for i in range(27)] + ["x"] * 3
    else:
        assert fetched is None
    assert contract._conform(pa.array([1, None]), String()).to_pylist() == ["1", None]
    assert contract._conform(pa.array([1, 0]), Boolean()).to_pylist() == [True, False]
    assert contract._conform(pa.array(["a"]), Integer()).to_pylist() == ["a"]


def test_staging_leaves_the_connection_clean_after_a_commit_and_a_rollback(
    connectors: Connectors,
) -> None:
    target = gcms.IrbDecision.__table__
    rows = pa.table({c.name: pa.nulls(3, pa.string()) for c in target.columns}).set_column(
        0, "decision_ref", pa.array(["N1", "N2", "N3"])
    )
    for outcome in ("commit", "rollback"):
        with (
            connectors.gcms.engine.connect() as conn,
            arrow_io.staging(conn, {"probe": (target, rows)}) as staged,  # type: ignore[dict-item]
        ):
            transaction = conn.begin()
            stage = staged("probe")
            assert conn.execute(select(func.count()).select_from(stage)).scalar() == 3
            getattr(transaction, outcome)()
        with connectors.gcms.engine.connect() as conn:  # the pooled connection is reusable
            assert conn.execute(select(func.count()).select_from(target)).scalar() == 0
            if conn.dialect.name == "sqlite":
                attached = [r[1] for r in conn.exec_driver_sql("PRAGMA database_list")]
                assert arrow_io.STAGE_SCHEMA not in attached
    assert not _scratch_left()


def test_audit_rows_are_written_once_per_record_even_with_an_empty_first_stream(
    connectors: Connectors, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The night's first stream (filings) is empty; its decisions are audited once, and a
    rerun after a crash between the audit and the target's commit adds no audit rows."""
    _decisions(connectors, 12)
    with connectors.nova.begin() as conn:  # the files (and their parties) a night earlier
        conn.execute(update(nova.CaseFile).values(updated_at=TYPED - dt.timedelta(days=1)))
        conn.execute(update(nova.Party).values(updated_at=TYPED - dt.timedelta(days=1)))
    night = dt.date(2021, 3, 1)

    def crash(name: str) -> None:
        if name == "before_commit":
            raise RuntimeError("crashed before_commit")

    with monkeypatch.context() as patched:
        patched.setattr(faults, "point", crash)
        with pytest.raises(RuntimeError, match="before_commit"):
            transfer.run_interface(connectors, settings.batch_dir, NOVA_TO_GCMS, night)
    with connectors.gcms.connect() as conn:  # the target was rolled back
        assert conn.execute(select(func.count()).select_from(gcms.IrbDecision)).scalar() == 0
    result = transfer.run_interface(connectors, settings.batch_dir, NOVA_TO_GCMS, night)
    assert [s.extracted for s in result.streams] == [0, 12]
    with connectors.control.connect() as conn:
        stored = conn.execute(
            select(AuditLog.batch_id, AuditLog.stream, AuditLog.record_key, AuditLog.action)
        ).all()
    assert sorted(stored) == sorted(
        ("nova_to_gcms:2021-03-01", "final_decisions", f"N{i}", "inserted") for i in range(12)
    )


def test_a_changed_indexed_column_is_applied_and_an_unchanged_one_left_alone(
    connectors: Connectors, settings: Settings
) -> None:
    _decisions(connectors, 20)
    night = dt.date(2021, 3, 1)
    transfer.run_interface(connectors, settings.batch_dir, NOVA_TO_GCMS, night)
    later = TYPED + dt.timedelta(days=1)
    with connectors.nova.begin() as conn:
        conn.execute(  # a new outcome only
            update(nova.Decision)
            .where(nova.Decision.decision_id < 5)
            .values(outcome_code="REJ", updated_at=later)
        )
        conn.execute(  # a new file number on the decision: an indexed column in GCMS
            update(nova.Decision)
            .where(nova.Decision.decision_id == 7)
            .values(file_number="TB1-00019", updated_at=later)
        )
    result = transfer.run_interface(
        connectors, settings.batch_dir, NOVA_TO_GCMS, night + dt.timedelta(days=1)
    )
    assert result.total("updated") == 6
    decision = gcms.IrbDecision.__table__
    with connectors.gcms.connect() as conn:
        by_key = {
            r.decision_ref: r
            for r in conn.execute(
                select(decision.c.decision_ref, decision.c.outcome, decision.c.irb_file_no)
            )
        }
        looked_up = conn.execute(  # through the index: it holds the new value
            select(decision.c.decision_ref).where(decision.c.irb_file_no == "TB1-00019")
        ).scalars()
        assert sorted(looked_up) == ["N19", "N7"]
    rejected = NOVA_TO_GCMS_OUTCOME["REJ"]
    assert [by_key[f"N{i}"].outcome for i in range(6)] == [rejected] * 5 + [
        NOVA_TO_GCMS_OUTCOME["ACC"]
    ]
    assert by_key["N7"].irb_file_no == "TB1-00019"
    assert by_key["N3"].irb_file_no == "TB1-00003"
