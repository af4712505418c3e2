"""Connector for NOVA, the IRB case system."""

from __future__ import annotations

from connectors.base import Connector


class NovaConnector(Connector):
    """NOVA, the IRB case system."""

    database = "nova"
