"""Shared fixtures: where the real samples are, and tiny synthetic scenes written on the fly."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sitewatch.providers.local import write_scene
from synthetic import make_stack

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


@pytest.fixture
def scene_writer(tmp_path: Path) -> Callable[..., Path]:
    """Write a synthetic multi-band scene (see :func:`make_stack`) into ``tmp_path`` and return its path."""

    def write(
        data: np.ndarray, *, directory: Path | None = None, name: str | None = None, **kwargs: object
    ) -> Path:
        stack = make_stack(data, **kwargs)  # type: ignore[arg-type]
        return write_scene(stack, directory or tmp_path, name=name)

    return write
