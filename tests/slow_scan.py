"""A fake per-AOI scan that takes long enough to be interrupted (for the Ctrl-C test)."""

from __future__ import annotations

import time
from typing import Any

import fake_scan


def slow(aoi: Any, source: str, **kw: Any) -> Any:
    time.sleep(60)
    return fake_scan.fake_scan(aoi, source, **kw)
