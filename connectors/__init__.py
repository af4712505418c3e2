"""One connector per system, and the transfer machinery between them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors import dialect
from connectors.base import Connector
from connectors.control import ControlConnector
from connectors.gcms import GcmsConnector
from connectors.ground_truth import GroundTruthConnector
from connectors.ncms import NcmsConnector
from connectors.nova import NovaConnector

if TYPE_CHECKING:
    from casesync.settings import Settings

CONNECTOR_CLASSES: dict[str, type[Connector]] = {
    "nova": NovaConnector,
    "gcms": GcmsConnector,
    "ncms": NcmsConnector,
    "control": ControlConnector,
    "ground_truth": GroundTruthConnector,
}


class Connectors:
    """The five connectors of one deployment, created lazily from settings."""

    def __init__(self, urls: dict[str, str]) -> None:
        self._urls = dict(urls)
        self._made: dict[str, Connector] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> Connectors:
        return cls({name: settings.url(name) for name in CONNECTOR_CLASSES})

    def url(self, database: str) -> str:
        """A database's URL with the password hidden, for messages."""
        try:
            return dialect.safe_url(self._urls[database])
        except Exception:
            return "<unparseable URL>"

    def __getitem__(self, database: str) -> Connector:
        if database not in self._made:
            self._made[database] = CONNECTOR_CLASSES[database](self._urls[database])
        return self._made[database]

    @property
    def nova(self) -> NovaConnector:
        return self["nova"]  # type: ignore[return-value]

    @property
    def gcms(self) -> GcmsConnector:
        return self["gcms"]  # type: ignore[return-value]

    @property
    def ncms(self) -> NcmsConnector:
        return self["ncms"]  # type: ignore[return-value]

    @property
    def control(self) -> ControlConnector:
        return self["control"]  # type: ignore[return-value]

    @property
    def ground_truth(self) -> GroundTruthConnector:
        return self["ground_truth"]  # type: ignore[return-value]

    def dispose(self) -> None:
        """Close every engine."""
        for made in self._made.values():
            made.dispose()
        self._made.clear()


__all__ = ["CONNECTOR_CLASSES", "Connector", "Connectors"]
