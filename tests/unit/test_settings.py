"""Settings: defaults under CASESYNC_HOME, environment overrides, and their documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pydantic
import pytest

from casesync.settings import DATABASES, InteropMode, Settings, env_variables

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]


def test_every_database_defaults_to_a_sqlite_file_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in env_variables():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CASESYNC_HOME", str(tmp_path))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for name in DATABASES:
        assert settings.url(name) == f"sqlite:///{tmp_path / f'{name}.db'}"
    assert settings.airflow_home == tmp_path / "airflow"
    assert settings.interop_mode is InteropMode.ONE_WAY


def test_environment_overrides_one_url_and_the_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASESYNC_HOME", str(tmp_path))
    monkeypatch.setenv("CASESYNC_GCMS_URL", "postgresql://postgres@127.0.0.1:5432/gcms")
    monkeypatch.setenv("CASESYNC_INTEROP_MODE", "two_way")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.url("gcms") == "postgresql://postgres@127.0.0.1:5432/gcms"
    assert settings.url("nova").endswith("nova.db")
    assert settings.interop_mode is InteropMode.TWO_WAY


def test_unknown_mode_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASESYNC_INTEROP_MODE", "sideways")
    with pytest.raises(pydantic.ValidationError, match="one_way"):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_unknown_database_name_is_refused() -> None:
    with pytest.raises(KeyError, match="unknown database"):
        Settings(_env_file=None).url("cognos")  # type: ignore[call-arg]


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^(CASESYNC_[A-Z_]+)=", text, flags=re.M))
    assert listed == env_variables()
    for name in listed:
        # every variable has a comment line somewhere above it
        assert re.search(rf"#.*\n(?:#.*\n|\w+=.*\n)*{name}=", text), name


#: Packages and DAGs whose environment reads must all be documented.
SOURCES = ("casesync", "connectors", "schemas", "expectations", "seed", "dags")


def read_outside_settings(root: Path = ROOT) -> dict[str, str]:
    """CASESYNC_* variables the code names as literals (read outside Settings), and where."""
    found: dict[str, str] = {}
    for package in SOURCES:
        for path in sorted((root / package).rglob("*.py")):
            for name in re.findall(r"[\"'](CASESYNC_[A-Z_]+)[\"']", path.read_text()):
                found.setdefault(name, str(path.relative_to(root)))
    return {name: where for name, where in found.items() if name not in env_variables()}


def documented_outside_settings(text: str) -> set[str]:
    """Variables .env.example documents as commented-out lines: not settings, but read."""
    return set(re.findall(r"^#\s*(CASESYNC_[A-Z_]+)=", text, flags=re.M))


def test_every_variable_read_outside_settings_is_documented() -> None:
    """An environment variable read with os.environ, not through Settings, is in .env.example."""
    outside = read_outside_settings()
    assert {"CASESYNC_FAULT", "CASESYNC_BENCH_PG_URL"} <= set(outside)
    documented = documented_outside_settings((ROOT / ".env.example").read_text())
    assert {name: where for name, where in outside.items() if name not in documented} == {}


def test_an_undocumented_variable_read_outside_settings_is_caught(tmp_path: Path) -> None:
    (tmp_path / "connectors").mkdir()
    (tmp_path / "connectors" / "new.py").write_text(
        'import os\nTRACE = os.environ.get("CASESYNC_TRACE_SQL")\n'
    )
    outside = read_outside_settings(tmp_path)
    assert outside == {"CASESYNC_TRACE_SQL": "connectors/new.py"}
    text = (ROOT / ".env.example").read_text()
    assert "CASESYNC_TRACE_SQL" not in documented_outside_settings(text)


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
