"""Every setting casesync reads, declared once, from CASESYNC_* environment variables."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The five databases, in the order `casesync init` creates them.
DATABASES: tuple[str, ...] = ("nova", "gcms", "ncms", "control", "ground_truth")


class InteropMode(StrEnum):
    """Today's one-way overnight feeds, or the planned two-way interoperability."""

    ONE_WAY = "one_way"
    TWO_WAY = "two_way"


class Settings(BaseSettings):
    """casesync's settings. Each database URL defaults to a SQLite file under `home`."""

    model_config = SettingsConfigDict(
        env_prefix="CASESYNC_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(
        default=Path("var"),
        description="Directory of the embedded databases, batches, reports and Airflow's home.",
    )
    nova_url: str = Field(default="", description="NOVA (IRB) database URL.")
    gcms_url: str = Field(default="", description="GCMS (IRCC) database URL.")
    ncms_url: str = Field(default="", description="NCMS (CBSA) database URL.")
    control_url: str = Field(
        default="", description="Control database URL: sync runs, batches, quarantine, findings."
    )
    ground_truth_url: str = Field(
        default="", description="Ground-truth database URL: the defects the simulator planted."
    )
    interop_mode: InteropMode = Field(
        default=InteropMode.ONE_WAY,
        description="one_way (today's NOVA->GCMS->NCMS feeds) or two_way (planned).",
    )
    quarantine_threshold: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Share of a batch that may be quarantined before the night's run fails.",
    )
    data_docs_nights: int = Field(
        default=30,
        ge=1,
        description="Nights of GX Data Docs kept (each validation's site; older ones removed).",
    )

    @model_validator(mode="after")
    def _default_urls(self) -> Settings:
        self.home = self.home.expanduser()
        for name in DATABASES:
            if not getattr(self, f"{name}_url"):
                setattr(self, f"{name}_url", f"sqlite:///{(self.home / f'{name}.db').resolve()}")
        return self

    def url(self, database: str) -> str:
        """The URL of one of the five databases."""
        if database not in DATABASES:
            raise KeyError(f"unknown database {database!r}; expected one of {', '.join(DATABASES)}")
        return str(getattr(self, f"{database}_url"))

    @property
    def airflow_home(self) -> Path:
        return (self.home / "airflow").resolve()

    @property
    def batch_dir(self) -> Path:
        return (self.home / "batches").resolve()

    @property
    def reports_dir(self) -> Path:
        return (self.home / "reports").resolve()

    @property
    def data_docs_dir(self) -> Path:
        return (self.home / "gx").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


def env_variables() -> set[str]:
    """Names of every environment variable the settings read."""
    prefix = Settings.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in Settings.model_fields}
