"""Connector for The ground-truth database of planted defects."""

from __future__ import annotations

from connectors.base import Connector


class GroundTruthConnector(Connector):
    """The ground-truth database of planted defects."""

    database = "ground_truth"
