"""The one-way nightly interfaces: complete, faithful, idempotent, replayable, crash-safe."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import insert, select, text, update

from casesync.database import init_all
from casesync.seeding import parse_options, seed
from casesync.sync import nightly, run_night
from connectors import Connectors, dialect, faults
from schemas import gcms, ncms, nova
from schemas.calendar import night_interval
from schemas.codes import GCMS_TO_NCMS_OUTCOME, NOVA_TO_GCMS_OUTCOME
from schemas.control import AuditLog, Batch, Quarantine
from schemas.errors import BatchIntegrityError
from tests.conftest import copy_world, drop_world, invoke, settings_env, system_digests, type_claim

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)
DAYS = 12
LAST = START + dt.timedelta(days=DAYS - 1)


def _seed(settings: Settings, **overrides: Any) -> None:
    options: dict[str, Any] = {
        "files": 2500,
        "days": DAYS,
        "start": START.isoformat(),
        "seed": 21,
        "defect_rate": 0.02,
    }
    options.update(overrides)
    seed(settings, parse_options(mode="one_way", **options))


@pytest.fixture(scope="module")
def synced(module_world: Callable[..., Settings]) -> Settings:
    """A world with planted defects, every night of it synced once."""
    settings = module_world()
    _seed(settings)
    nightly(settings, START, LAST)
    return settings


def _quarantined(connectors: Connectors, stream: str) -> dict[str, str]:
    with connectors.control.connect() as conn:
        rows = conn.execute(
            select(Quarantine.record_key, Quarantine.rule).where(Quarantine.stream == stream)
        ).all()
    return {key: rule for key, rule in rows}


def test_every_nova_final_decision_reached_gcms_field_for_field(synced: Settings) -> None:
    connectors = Connectors.from_settings(synced)
    d, c, p = nova.Decision, nova.CaseFile, nova.Party
    query = (
        select(d.decision_id, d.file_number, c.division, p.uci, d.outcome_code, d.decided_on)
        .join(c, c.file_number == d.file_number)
        .join(p, p.party_id == c.party_id)
        .where(d.is_final.is_(True), c.division.in_(("RPD", "RAD")))
    )
    with connectors.nova.connect() as conn:
        decisions = conn.execute(query).all()
    with connectors.gcms.connect() as conn:
        fed = {r.decision_ref: r for r in conn.execute(select(gcms.IrbDecision)).all()}
    quarantined = _quarantined(connectors, "final_decisions")
    connectors.dispose()
    assert len(decisions) > 300
    checked = 0
    for decision in decisions:
        key = f"N{decision.decision_id}"
        if key in quarantined:
            assert key not in fed
            continue
        row = fed[key]
        assert (row.uci, row.irb_file_no, row.division) == (
            decision.uci,
            decision.file_number,
            decision.division,
        )
        assert row.outcome == NOVA_TO_GCMS_OUTCOME[decision.outcome_code]
        assert row.decided_on == decision.decided_on
        assert row.received_via == "FEED" and row.entered_by == "FEED:NOVA"
        checked += 1
    assert checked == len(decisions) - len(quarantined)
    assert all(
        rule.split(":")[0] in ("unknown_code", "missing_mandatory") for rule in quarantined.values()
    )


def test_records_breaking_the_contract_are_quarantined_and_the_rest_load(
    settings: Settings,
) -> None:
    _seed(settings, files=800, days=2, defect_rate=0.0)
    night = START + dt.timedelta(days=1)
    connectors = Connectors.from_settings(settings)
    _, end = night_interval(night)
    typed = end - dt.timedelta(hours=12)
    with connectors.nova.begin() as conn:
        file_number = (
            conn.execute(select(nova.CaseFile.file_number).where(nova.CaseFile.division == "RPD"))
            .scalars()
            .first()
        )
        for decision_id, outcome, decided in (
            (9_000_001, "ZZZ", night),
            (9_000_002, "REJ", None),
            (9_000_003, "ACC", night),
        ):
            conn.execute(
                insert(nova.Decision).values(
                    decision_id=decision_id,
                    file_number=file_number,
                    is_final=True,
                    outcome_code=outcome,
                    decided_on=decided,
                    reasons_on=None,
                    member_id="M1",
                    entered_at=typed,
                    updated_at=typed,
                    entered_by="IRB-T-001",
                )
            )
    result = run_night(settings, night, interface="nova_to_gcms")[0]
    quarantined = _quarantined(connectors, "final_decisions")
    assert quarantined == {
        "N9000001": "unknown_code:outcome_code",
        "N9000002": "missing_mandatory:decided_on",
    }
    with connectors.gcms.connect() as conn:
        loaded = conn.execute(
            select(gcms.IrbDecision.outcome).where(gcms.IrbDecision.decision_ref == "N9000003")
        ).scalar()
        missing = conn.execute(
            select(gcms.IrbDecision).where(
                gcms.IrbDecision.decision_ref.in_(["N9000001", "N9000002"])
            )
        ).all()
    with connectors.control.connect() as conn:
        payload = conn.execute(
            select(Quarantine.payload, Quarantine.reason).where(Quarantine.record_key == "N9000001")
        ).one()
    connectors.dispose()
    assert loaded == "RPD-POS" and missing == []
    assert json.loads(payload.payload)["outcome_code"] == "ZZZ" and "'ZZZ'" in payload.reason
    assert result.total("quarantined") == 2


def test_every_fed_gcms_item_reached_ncms_field_for_field(synced: Settings) -> None:
    connectors = Connectors.from_settings(synced)
    with connectors.gcms.connect() as conn:
        decisions = conn.execute(
            select(gcms.IrbDecision).where(gcms.IrbDecision.division.in_(("RPD", "RAD")))
        ).all()
        litigation = conn.execute(select(gcms.Litigation)).all()
        appeals = conn.execute(
            select(gcms.IrbProceeding).where(gcms.IrbProceeding.division == "RAD")
        ).all()
        prra = conn.execute(select(gcms.PrraApplication)).all()
        documents = conn.execute(select(gcms.TravelDocument)).all()
    with connectors.ncms.connect() as conn:
        outcomes = {r.source_ref: r for r in conn.execute(select(ncms.IrbOutcome)).all()}
        matters = {r.source_ref: r for r in conn.execute(select(ncms.LegalMatter)).all()}
        infos = {r.source_ref: r for r in conn.execute(select(ncms.TravelDocInfo)).all()}
    skipped = {
        **_quarantined(connectors, "refugee_decisions"),
        **_quarantined(connectors, "litigation"),
        **_quarantined(connectors, "prra"),
        **_quarantined(connectors, "travel_documents"),
        **_quarantined(connectors, "appeals"),
    }
    connectors.dispose()
    for decision in decisions:
        fed_decision = outcomes[decision.decision_ref]
        assert (fed_decision.uci, fed_decision.irb_file_no, fed_decision.decided_on) == (
            decision.uci,
            decision.irb_file_no,
            decision.decided_on,
        )
        assert fed_decision.outcome_code == GCMS_TO_NCMS_OUTCOME[decision.outcome]
    for lit in litigation:
        key = f"LIT-{lit.litigation_id}"
        if key in skipped:
            continue
        fed_lit = matters[key]
        assert (fed_lit.uci, fed_lit.reference_no, fed_lit.filed_on, fed_lit.matter_kind) == (
            lit.uci,
            lit.court_file_no,
            lit.filed_on,
            "LIT",
        )
        assert fed_lit.decision == (lit.outcome or lit.leave_decision)
    for appeal in appeals:
        fed_appeal = matters[f"APL-{appeal.irb_file_no}"]
        assert (fed_appeal.uci, fed_appeal.filed_on, fed_appeal.matter_kind) == (
            appeal.uci,
            appeal.filed_on,
            "APPEAL",
        )
    for application in prra:
        key = f"PRRA-{application.prra_id}"
        if key in skipped:
            continue
        fed_application = matters[key]
        assert (
            fed_application.uci,
            fed_application.filed_on,
            fed_application.decision,
            fed_application.decided_on,
        ) == (
            application.uci,
            application.notified_on,
            application.decision,
            application.decided_on,
        )
    for document in documents:
        key = f"TD-{document.td_id}"
        if key in skipped:
            continue
        fed_document = infos[key]
        assert (
            fed_document.uci,
            fed_document.doc_type,
            fed_document.country,
            fed_document.status,
            fed_document.issued_on,
        ) == (
            document.uci,
            document.doc_type,
            document.issuing_country,
            document.status,
            document.issued_on,
        )
    assert len(documents) > 100 and len(prra) > 10 and len(litigation) > 5


def test_every_record_moved_is_audited(synced: Settings) -> None:
    """Per batch and stream, the audit rows are the records the batch file holds, less the
    quarantined ones: nothing extracted goes unaccounted for."""
    connectors = Connectors.from_settings(synced)
    try:
        with connectors.control.connect() as conn:
            runs = conn.execute(text("SELECT status, COUNT(*) FROM sync_run GROUP BY status")).all()
            recorded = conn.execute(select(Batch.batch_id, Batch.interface, Batch.path)).all()
            audited = audit_keys(conn)
            refused = quarantined_keys(conn)
    finally:
        connectors.dispose()
    assert dict(runs) == {"succeeded": 2 * DAYS}
    assert len(recorded) == 2 * DAYS
    extracted = extracted_keys(recorded)
    assert sum(len(keys) for keys in extracted.values()) > 100
    assert unaudited_records(extracted, audited, refused) == {}
    # The comparison catches one record a batch carried but never audited.
    (batch, stream), keys = next((k, v) for k, v in sorted(audited.items()) if v)
    dropped = sorted(keys)[0]
    lossy = {**audited, (batch, stream): keys - {dropped}}
    assert unaudited_records(extracted, lossy, refused) == {(batch, stream): {dropped}}


def audit_keys(conn: Any) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for batch, stream, key in conn.execute(
        select(AuditLog.batch_id, AuditLog.stream, AuditLog.record_key)
    ):
        out.setdefault((batch, stream), set()).add(key)
    return out


def quarantined_keys(conn: Any) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for batch, stream, key in conn.execute(
        select(Quarantine.batch_id, Quarantine.stream, Quarantine.record_key)
    ):
        out.setdefault((batch, stream), set()).add(key)
    return out


def extracted_keys(recorded: Any) -> dict[tuple[str, str], set[str]]:
    """The record keys each batch's files hold, per stream, as the target keys them."""
    import pyarrow.parquet as pq

    from schemas.interfaces import INTERFACES

    out: dict[tuple[str, str], set[str]] = {}
    for batch_id, interface, path in recorded:
        for stream in INTERFACES[interface].streams:
            table = pq.read_table(f"{path}/{stream.name}.parquet", columns=["source_key"])
            out[(batch_id, stream.name)] = {
                stream.key_format.format(k) for k in table.column("source_key").to_pylist()
            }
    return out


def unaudited_records(
    extracted: dict[tuple[str, str], set[str]],
    audited: dict[tuple[str, str], set[str]],
    refused: dict[tuple[str, str], set[str]],
) -> dict[tuple[str, str], set[str]]:
    """Per batch and stream, the keys on which the batch file and the audit disagree."""
    out = {}
    for where in extracted.keys() | audited.keys():
        expected = extracted.get(where, set()) - refused.get(where, set())
        differ = expected ^ audited.get(where, set())
        if differ:
            out[where] = differ
    return out


def test_running_the_same_nights_again_changes_nothing(synced: Settings) -> None:
    before = system_digests(synced)
    connectors = Connectors.from_settings(synced)
    with connectors.control.connect() as conn:
        audit_before = conn.execute(select(AuditLog.record_key, AuditLog.action)).all()
    results = nightly(synced, START, LAST)
    assert all(r.reused_batch for r in results)
    assert sum(r.total("inserted") + r.total("updated") for r in results) == 0
    assert system_digests(synced) == before
    with connectors.control.connect() as conn:
        assert sorted(conn.execute(select(AuditLog.record_key, AuditLog.action)).all()) == sorted(
            audit_before
        )
    connectors.dispose()


def test_replay_restores_a_record_and_dry_run_shows_it(synced: Settings) -> None:
    before = system_digests(synced)
    night = START + dt.timedelta(days=3)
    connectors = Connectors.from_settings(synced)
    with connectors.control.connect() as conn:
        key = (
            conn.execute(
                select(AuditLog.record_key).where(
                    AuditLog.batch_id == f"gcms_to_ncms:{night}",
                    AuditLog.stream == "travel_documents",
                )
            )
            .scalars()
            .first()
        )
    assert key is not None
    with connectors.gcms.connect() as conn:  # the source: what the replay must restore
        source = conn.execute(
            select(gcms.TravelDocument.status).where(
                gcms.TravelDocument.td_id == int(key.removeprefix("TD-"))
            )
        ).scalar_one()
    with connectors.ncms.connect() as conn:
        loaded = conn.execute(
            select(ncms.TravelDocInfo.status).where(ncms.TravelDocInfo.source_ref == key)
        ).scalar_one()
    assert loaded == source and source != "TAMPERED"
    with connectors.ncms.begin() as conn:
        conn.execute(
            update(ncms.TravelDocInfo)
            .where(ncms.TravelDocInfo.source_ref == key)
            .values(status="TAMPERED")
        )
    preview = run_night(synced, night, interface="gcms_to_ncms", replay=True, dry_run=True)[0]
    changed = [e for s in preview.streams for e in s.diff]
    assert changed == [
        {
            "key": key,
            "action": "changed",
            "fields": {"status": {"before": "TAMPERED", "after": source}},
        }
    ]
    with connectors.ncms.connect() as conn:  # the dry run wrote nothing
        status = conn.execute(
            select(ncms.TravelDocInfo.status).where(ncms.TravelDocInfo.source_ref == key)
        ).scalar()
    assert status == "TAMPERED"
    replayed = run_night(synced, night, interface="gcms_to_ncms", replay=True)[0]
    assert replayed.total("updated") == 1
    assert system_digests(synced) == before
    connectors.dispose()


@pytest.fixture(scope="module")
def small(module_world: Callable[..., Settings]) -> Settings:
    """A small world with planted defects, seeded once: tests below work on copies of it."""
    settings = module_world()
    _seed(settings, files=800, days=3, seed=4)
    return settings


@pytest.fixture
def small_copy(
    small: Settings, tmp_path_factory: pytest.TempPathFactory, backend: str
) -> Iterator[Settings]:
    copy = copy_world(small, tmp_path_factory.mktemp("copy"), backend)
    yield copy
    drop_world(copy, backend)


def _copy_batch_and_corrupt(settings: Settings, night: dt.date, how: str) -> str:
    path = settings.batch_dir / "nova_to_gcms" / night.isoformat()
    target = path / ("manifest.json" if how == "manifest" else "final_decisions.parquet")
    target.chmod(0o644)
    data = bytearray(target.read_bytes())
    if how == "manifest":
        body = json.loads(data)
        body["streams"][0]["records"] += 1
        target.write_text(json.dumps(body))
    else:
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
    return str(target)


TAMPERED = {
    "file": r"batch file \S+/final_decisions\.parquet: checksum [0-9a-f]{12} does not match "
    r"the manifest's [0-9a-f]{12}; nothing applied",
    "manifest": r"batch \S+/manifest\.json: manifest checksum [0-9a-f]{12} does not match the "
    r"recorded [0-9a-f]{12}; nothing applied",
}


@pytest.mark.parametrize("how", sorted(TAMPERED))
def test_a_tampered_batch_is_refused_and_nothing_applied(small_copy: Settings, how: str) -> None:
    settings = small_copy
    night = START + dt.timedelta(days=1)
    run_night(settings, night)
    connectors = Connectors.from_settings(settings)
    with connectors.gcms.begin() as conn:
        conn.execute(text("DELETE FROM irb_decision WHERE received_via = 'FEED'"))
    before = system_digests(settings)
    corrupted = _copy_batch_and_corrupt(settings, night, how)
    with pytest.raises(BatchIntegrityError) as raised:
        run_night(settings, night, interface="nova_to_gcms", replay=True)
    assert re.fullmatch(TAMPERED[how], str(raised.value)), str(raised.value)
    assert corrupted.rsplit("/", 1)[-1] in str(raised.value)
    assert system_digests(settings) == before
    connectors.dispose()


def test_two_runs_of_the_same_night_never_both_proceed(small_copy: Settings) -> None:
    """The installed entry point, in other processes: the lock is a process's."""
    settings = small_copy
    connectors = Connectors.from_settings(settings)
    lock = "sync-nova_to_gcms"
    with dialect.exclusive_lock(connectors.control.engine, lock, wait=False) as held:
        assert held
        done = subprocess.run(
            [sys.executable, "-m", "casesync", "sync", "--night", "2020-01-06"],
            capture_output=True,
            text=True,
            env=settings_env(settings),
            timeout=300,
            check=False,
        )
    assert done.returncode == 2
    assert "already running in another process" in done.stderr
    with connectors.control.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM batch")).scalar() == 0
    connectors.dispose()
    after = subprocess.run(
        [sys.executable, "-m", "casesync", "sync", "--night", "2020-01-06"],
        capture_output=True,
        text=True,
        env=settings_env(settings),
        timeout=300,
        check=False,
    )
    assert after.returncode == 0, after.stderr


KILLED_NIGHT = dt.date(2020, 1, 8)


@pytest.fixture(scope="module")
def two_nights(small: Settings, tmp_path_factory: pytest.TempPathFactory, backend: str) -> Any:
    """The small world with its first two nights synced, and the clean state after the third.

    The clean state is a copy run on through the third night in order, as one clean
    `casesync nightly` of the three nights would leave it.
    """
    synced = copy_world(small, tmp_path_factory.mktemp("two"), backend)
    nightly(synced, START, START + dt.timedelta(days=1))
    # The small world types no final decision on its third day: clerks type a few, so the
    # killed run carries records (a kill of an empty night would prove nothing).
    connectors = Connectors.from_settings(synced)
    typed_at = night_interval(KILLED_NIGHT)[0] + dt.timedelta(hours=12)
    for number in range(3):
        type_claim(connectors, number, typed_at, outcome=("REJ", "ACC", "REJ")[number])
    connectors.dispose()
    clean = copy_world(synced, tmp_path_factory.mktemp("clean"), backend)
    (carried, _) = nightly(clean, KILLED_NIGHT, KILLED_NIGHT)
    assert carried.total("inserted") == 6  # three claims and their three decisions
    yield synced, system_digests(clean)
    drop_world(synced, backend)
    drop_world(clean, backend)


#: Where a kill leaves the target: nothing applied, or the batch applied whole.
KILLED_AFTER_COMMIT = {"after_commit", "after_finish"}


KILL_POINTS = [
    "after_extract", "after_batch_written", "after_upsert", "after_audit", "before_commit",
    "after_commit", "after_finish",
]  # fmt: skip


def test_the_kill_test_covers_every_fault_point() -> None:
    """A fault point added to connectors/faults.py must be added to the kill test too."""
    assert sorted(KILL_POINTS) == sorted(faults.POINTS)
    assert KILLED_BY_THE_CLI in KILL_POINTS


@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_run_killed_anywhere_reruns_to_the_clean_state(
    two_nights: Any, tmp_path_factory: pytest.TempPathFactory, backend: str, point: str
) -> None:
    base, clean = two_nights
    settings = copy_world(base, tmp_path_factory.mktemp("killed"), backend)
    try:
        _kill_and_rerun(settings, clean, point)
    finally:
        drop_world(settings, backend)


#: The point killed in `casesync sync` itself (the installed entry point, a new process); the
#: others are killed in a forked child running the same night (no interpreter to start).
KILLED_BY_THE_CLI = "after_upsert"


def _run_with_fault(settings: Settings, point: str) -> None:
    os.environ["CASESYNC_FAULT"] = point
    run_night(settings, KILLED_NIGHT, interface="nova_to_gcms")


def _kill_and_rerun(settings: Settings, clean: dict[str, dict[str, str]], point: str) -> None:
    before = system_digests(settings)
    if point == KILLED_BY_THE_CLI:
        env = {**settings_env(settings), "CASESYNC_FAULT": point}
        killed = subprocess.run(
            [sys.executable, "-m", "casesync", "sync", "--night", KILLED_NIGHT.isoformat(),
             "--interface", "nova_to_gcms"],
            capture_output=True, text=True, env=env, timeout=300, check=False,
        )  # fmt: skip
        assert killed.returncode == -9, killed.stderr
    else:
        child = multiprocessing.get_context("fork").Process(
            target=_run_with_fault, args=(settings, point)
        )
        child.start()
        child.join(300)
        assert child.exitcode == -9, child.exitcode
    after_kill = system_digests(settings)
    if point in KILLED_AFTER_COMMIT:
        assert after_kill["gcms"] == clean["gcms"]  # the batch was applied whole
        assert after_kill["gcms"] != before["gcms"]
    else:
        assert after_kill == before  # nothing applied
    for interface in ("nova_to_gcms", "gcms_to_ncms"):  # the next run, in a clean process
        run_night(settings, KILLED_NIGHT, interface=interface)
    assert system_digests(settings) == clean
    connectors = Connectors.from_settings(settings)
    with connectors.control.connect() as conn:
        statuses: dict[str, int] = dict(
            conn.execute(text("SELECT status, COUNT(*) FROM sync_run GROUP BY status")).all()
        )
        batches = conn.execute(
            select(Batch.batch_id, Batch.applied_at).where(Batch.night == KILLED_NIGHT)
        ).all()
    connectors.dispose()
    # Four runs of the first two nights, the two of the third; a run killed before it
    # finished is found abandoned by the next one.
    if point == "after_finish":
        assert statuses == {"succeeded": 7}
    else:
        assert statuses == {"succeeded": 6, "abandoned": 1}
    assert batches and all(applied is not None for _, applied in batches)


def test_unknown_interface_and_bad_night_are_explained(settings: Settings) -> None:
    uninitialized = invoke(settings, "sync", "--night", "2020-01-06")
    assert uninitialized.exit_code == 2
    assert "run `casesync init`" in uninitialized.output
    init_all(settings)
    for args, message in (
        (["sync", "--night", "2020-02-31"], "is not a date on the calendar"),
        (["sync", "--night", "2020-01-06", "--interface", "ncms_to_nova"], "unknown interface"),
        (["replay", "--night", "2020-01-06", "--interface", "nova_to_gcms"], "no stored batch"),
        (["nightly", "--from", "2020-01-09", "--to", "2020-01-06"], "is before --from"),
    ):
        done = invoke(settings, *args)
        assert done.exit_code == 2, (args, done.output)
        assert message in done.output, (args, done.output)
        assert "Traceback" not in done.output
