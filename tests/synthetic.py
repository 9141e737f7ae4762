"""Synthetic stacks for tests, importable as ``from synthetic import make_stack``.

Kept out of ``conftest.py``: several folders have a conftest, so ``import conftest`` is ambiguous.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import xarray as xr
from affine import Affine
from odc.geo.geobox import GeoBox

from sitewatch.providers.local import stack_to_dataarray
from sitewatch.types import Scene


def make_stack(
    data: np.ndarray,
    *,
    bands: Sequence[str] = ("B02", "B03", "B04", "B08", "B11", "B12"),
    dates: Sequence[str] = ("2024-05-01",),
    crs: str = "EPSG:32637",
    origin: tuple[float, float] = (500_000.0, 4_060_000.0),
    resolution: float = 10.0,
) -> xr.DataArray:
    """A ``(time, band, y, x)`` stack in sitewatch conventions from a plain array."""
    if data.ndim == 3:
        data = data[np.newaxis]
    h, w = data.shape[-2:]
    x0, y0 = origin
    gbox = GeoBox((h, w), Affine(resolution, 0.0, x0, 0.0, -resolution, y0), crs)
    scenes = [
        Scene(
            id=f"synthetic_{d}",
            datetime=dt.datetime.fromisoformat(d).replace(tzinfo=dt.timezone.utc),
            bands=tuple(bands),
            provider="synthetic",
            location="memory",
        )
        for d in dates
    ]
    return stack_to_dataarray(data.astype(np.float32), gbox, scenes, list(bands), provider="synthetic")
