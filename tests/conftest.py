"""Shared fixtures: where the real samples are, and tiny synthetic scenes written on the fly."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from affine import Affine
from odc.geo.geobox import GeoBox

from sitewatch.providers.local import stack_to_dataarray, write_scene
from sitewatch.types import Scene

REPO = Path(__file__).resolve().parents[1]


def _shared_dir() -> Path:
    return Path(os.environ.get("SITEWATCH_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repository (read-only); tests using it skip when absent."""
    path = _shared_dir()
    if not path.is_dir():
        pytest.skip(f"shared data folder {path} is absent (set SITEWATCH_SHARED)")
    return path


@pytest.fixture(scope="session")
def oscd_dir(shared_dir: Path) -> Path:
    path = shared_dir / "data" / "oscd"
    if not path.is_dir():
        pytest.skip(f"OSCD samples not found at {path}")
    return path


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the user's real cache and config."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("SITEWATCH_CACHE", str(home / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg-config"))


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


@pytest.fixture
def scene_writer(tmp_path: Path) -> Callable[..., Path]:
    """Write a synthetic multi-band scene (see :func:`make_stack`) into ``tmp_path`` and return its path."""

    def write(
        data: np.ndarray, *, directory: Path | None = None, name: str | None = None, **kwargs: object
    ) -> Path:
        stack = make_stack(data, **kwargs)  # type: ignore[arg-type]
        return write_scene(stack, directory or tmp_path, name=name)

    return write
