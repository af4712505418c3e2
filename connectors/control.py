"""Connector for The control database: the pipeline's own state."""

from __future__ import annotations

from connectors.base import Connector


class ControlConnector(Connector):
    """The control database: the pipeline's own state."""

    database = "control"
