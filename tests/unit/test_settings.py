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


def test_every_setting_has_a_description() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
