"""Connector for NCMS, CBSA enforcement case tracking."""

from __future__ import annotations

from connectors.base import Connector


class NcmsConnector(Connector):
    """NCMS, CBSA enforcement case tracking."""

    database = "ncms"
