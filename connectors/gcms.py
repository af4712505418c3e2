"""Connector for GCMS, the IRCC system of record."""

from __future__ import annotations

from connectors.base import Connector


class GcmsConnector(Connector):
    """GCMS, the IRCC system of record."""

    database = "gcms"
