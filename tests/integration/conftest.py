"""Fixtures shared by the integration modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from casesync.database import init_all
from connectors import Connectors

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from casesync.settings import Settings


@pytest.fixture(scope="module")
def databases(module_world: Callable[..., Settings]) -> Iterator[Connectors]:
    """Empty databases of every system (schemas only), one set per module."""
    settings = module_world()
    init_all(settings)
    connectors = Connectors.from_settings(settings)
    yield connectors
    connectors.dispose()
