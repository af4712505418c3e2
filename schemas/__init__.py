"""SQLAlchemy models of the five databases, the shared code sets, and their migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from schemas.control import ControlBase
from schemas.gcms import GcmsBase
from schemas.ground_truth import GroundTruthBase
from schemas.ncms import NcmsBase
from schemas.nova import NovaBase

if TYPE_CHECKING:
    from sqlalchemy import MetaData

#: Each database's declarative base, by database name.
BASES = {
    "nova": NovaBase,
    "gcms": GcmsBase,
    "ncms": NcmsBase,
    "control": ControlBase,
    "ground_truth": GroundTruthBase,
}


def metadata_for(database: str) -> MetaData:
    """The MetaData of one database's tables."""
    return BASES[database].metadata
