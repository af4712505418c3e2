"""The ground-truth database: every defect the simulator planted, and the world's options.

Only the simulator writes here; the pipeline never reads it. Scoring compares
the validation findings against it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.base import new_metadata


class GroundTruthBase(DeclarativeBase):
    """Tables of the ground-truth database."""

    metadata = new_metadata()


class PlantedDefect(GroundTruthBase):
    """A manual-entry error the simulator made on purpose as an event was typed."""

    __tablename__ = "planted_defect"

    defect_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    system: Mapped[str] = mapped_column(String(8))
    table_name: Mapped[str] = mapped_column(String(40))
    record_key: Mapped[str] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(40))
    defect_class: Mapped[str] = mapped_column(String(64), index=True)
    planted_value: Mapped[str | None] = mapped_column(Text)
    correct_value: Mapped[str | None] = mapped_column(Text)


class WorldRun(GroundTruthBase):
    """The options a world was seeded with, and the day it has reached."""

    __tablename__ = "world_run"

    world_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seed: Mapped[int] = mapped_column(Integer)
    options: Mapped[str] = mapped_column(Text)  # JSON
    start_on: Mapped[dt.date] = mapped_column(Date)
    simulated_through: Mapped[dt.date] = mapped_column(Date)
