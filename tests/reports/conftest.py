"""Fixtures of the reports tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from alert_builders import alert, collection, scenes_every


@pytest.fixture
def alerts_kit() -> dict[str, Callable[..., Any]]:
    return {"scenes": scenes_every, "alert": alert, "collection": collection}
