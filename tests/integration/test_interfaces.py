"""The one-way nightly interfaces: complete, faithful, idempotent, replayable, crash-safe."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select, text

from casesync.database import init_all
from casesync.seeding import parse_options, seed
from casesync.sync import nightly, run_night
from connectors import Connectors, dialect
from schemas import gcms, ncms, nova
from schemas.calendar import night_interval
from schemas.codes import GCMS_TO_NCMS_OUTCOME, NOVA_TO_GCMS_OUTCOME
from schemas.control import AuditLog, Quarantine
from schemas.errors import BatchIntegrityError
from tests.conftest import settings_env, system_digests

if TYPE_CHECKING:
    from collections.abc import Callable

    from casesync.settings import Settings

pytestmark = pytest.mark.integration

START = dt.date(2020, 1, 6)
DAYS = 12
LAST = START + dt.timedelta(days=DAYS - 1)


def _seed(settings: Settings, **overrides: Any) -> None:
    options = {
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
                nova.Decision.__table__.insert().values(
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
    for row in decisions:
        fed = outcomes[row.decision_ref]
        assert (fed.uci, fed.irb_file_no, fed.decided_on) == (
            row.uci,
            row.irb_file_no,
            row.decided_on,
        )
        assert fed.outcome_code == GCMS_TO_NCMS_OUTCOME[row.outcome]
    for row in litigation:
        key = f"LIT-{row.litigation_id}"
        if key in skipped:
            continue
        fed = matters[key]
        assert (fed.uci, fed.reference_no, fed.filed_on, fed.matter_kind) == (
            row.uci,
            row.court_file_no,
            row.filed_on,
            "LIT",
        )
        assert fed.decision == (row.outcome or row.leave_decision)
    for row in appeals:
        fed = matters[f"APL-{row.irb_file_no}"]
        assert (fed.uci, fed.filed_on, fed.matter_kind) == (row.uci, row.filed_on, "APPEAL")
    for row in prra:
        key = f"PRRA-{row.prra_id}"
        if key in skipped:
            continue
        fed = matters[key]
        assert (fed.uci, fed.filed_on, fed.decision, fed.decided_on) == (
            row.uci,
            row.notified_on,
            row.decision,
            row.decided_on,
        )
    for row in documents:
        key = f"TD-{row.td_id}"
        if key in skipped:
            continue
        fed = infos[key]
        assert (fed.uci, fed.doc_type, fed.country, fed.status, fed.issued_on) == (
            row.uci,
            row.doc_type,
            row.issuing_country,
            row.status,
            row.issued_on,
        )
    assert len(documents) > 100 and len(prra) > 10 and len(litigation) > 5


def test_every_record_moved_is_audited(synced: Settings) -> None:
    connectors = Connectors.from_settings(synced)
    with connectors.control.connect() as conn:
        audited = conn.execute(text("SELECT action, COUNT(*) FROM audit_log GROUP BY action")).all()
        runs = conn.execute(text("SELECT status, COUNT(*) FROM sync_run GROUP BY status")).all()
        batches = conn.execute(text("SELECT COUNT(*) FROM batch")).scalar()
    connectors.dispose()
    assert dict(runs) == {"succeeded": 2 * DAYS}
    assert batches == 2 * DAYS
    assert dict(audited).get("inserted", 0) > 100


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
    with connectors.ncms.begin() as conn:
        conn.execute(
            ncms.TravelDocInfo.__table__.update()
            .where(ncms.TravelDocInfo.source_ref == key)
            .values(status="TAMPERED")
        )
    preview = run_night(synced, night, interface="gcms_to_ncms", replay=True, dry_run=True)[0]
    changed = [e for s in preview.streams for e in s.diff]
    assert changed == [
        {
            "key": key,
            "action": "changed",
            "fields": {
                "status": {"before": "TAMPERED", "after": changed[0]["fields"]["status"]["after"]}
            },
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


@pytest.mark.parametrize("how", ["file", "manifest"])
def test_a_tampered_batch_is_refused_and_nothing_applied(
    make_settings: Callable[..., Settings], how: str
) -> None:
    settings = make_settings()
    _seed(settings, files=800, days=3)
    night = START + dt.timedelta(days=1)
    run_night(settings, night)
    saved = settings.batch_dir / "nova_to_gcms" / night.isoformat()
    backup = settings.home / "backup"
    shutil.copytree(saved, backup)
    connectors = Connectors.from_settings(settings)
    with connectors.gcms.begin() as conn:
        conn.execute(text("DELETE FROM irb_decision WHERE received_via = 'FEED'"))
    before = system_digests(settings)
    corrupted = _copy_batch_and_corrupt(settings, night, how)
    with pytest.raises(BatchIntegrityError) as raised:
        run_night(settings, night, interface="nova_to_gcms", replay=True)
    assert corrupted.split("/")[-1] in str(raised.value) or "manifest" in str(raised.value)
    assert "nothing applied" in str(raised.value)
    assert system_digests(settings) == before
    connectors.dispose()


def test_two_runs_of_the_same_night_never_both_proceed(settings: Settings) -> None:
    _seed(settings, files=800, days=2)
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


@pytest.fixture(scope="module")
def reference(module_world: Callable[..., Settings]) -> tuple[Settings, dict[str, dict[str, str]]]:
    """A small world synced cleanly over three nights: what every crashed run must end equal to."""
    settings = module_world()
    _seed(settings, files=800, days=3, seed=4)
    nightly(settings, START, START + dt.timedelta(days=2))
    return settings, system_digests(settings)


@pytest.mark.parametrize(
    "point",
    ["after_batch_written", "after_upsert", "before_commit", "after_commit"],
)
def test_a_run_killed_anywhere_reruns_to_the_clean_state(
    make_settings: Callable[..., Settings],
    reference: tuple[Settings, dict[str, dict[str, str]]],
    point: str,
) -> None:
    _, clean = reference
    settings = make_settings()
    _seed(settings, files=800, days=3, seed=4)
    nightly(settings, START, START + dt.timedelta(days=1))
    before = system_digests(settings)
    env = {**settings_env(settings), "CASESYNC_FAULT": point}
    killed = subprocess.run(
        [
            sys.executable,
            "-m",
            "casesync",
            "sync",
            "--night",
            "2020-01-08",
            "--interface",
            "nova_to_gcms",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr
    after_kill = system_digests(settings)
    if point == "after_commit":
        assert after_kill["gcms"] == clean["gcms"]  # the batch was applied whole
    else:
        assert after_kill == before  # nothing applied
    env.pop("CASESYNC_FAULT")
    for interface in ("nova_to_gcms", "gcms_to_ncms"):
        rerun = subprocess.run(
            [
                sys.executable,
                "-m",
                "casesync",
                "sync",
                "--night",
                "2020-01-08",
                "--interface",
                interface,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert rerun.returncode == 0, rerun.stderr
    assert system_digests(settings) == clean
    connectors = Connectors.from_settings(settings)
    with connectors.control.connect() as conn:
        statuses = dict(
            conn.execute(text("SELECT status, COUNT(*) FROM sync_run GROUP BY status")).all()
        )
    connectors.dispose()
    assert statuses.get("succeeded") == 6
    assert statuses.get("abandoned", 0) == 1


def test_unknown_interface_and_bad_night_are_explained(settings: Settings) -> None:
    env = settings_env(settings)
    uninitialized = subprocess.run(
        [sys.executable, "-m", "casesync", "sync", "--night", "2020-01-06"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert uninitialized.returncode == 2
    assert "run `casesync init`" in uninitialized.stderr
    init_all(settings)
    for args, message in (
        (["sync", "--night", "2020-02-31"], "--night must be a date"),
        (["sync", "--night", "2020-01-06", "--interface", "ncms_to_nova"], "unknown interface"),
        (["replay", "--night", "2020-01-06", "--interface", "nova_to_gcms"], "no stored batch"),
        (["nightly", "--from", "2020-01-09", "--to", "2020-01-06"], "is before --from"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "casesync", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 2, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr
