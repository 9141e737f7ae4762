"""A fake per-AOI scan that takes long enough to be interrupted (for the Ctrl-C test)."""

from __future__ import annotations

import time
from typing import Any

import fake_scan


def slow(aoi: Any, source: str, **kw: Any) -> Any:
    time.sleep(300)  # far longer than the test's wait for the bars, even on a loaded machine
    return fake_scan.fake_scan(aoi, source, **kw)
