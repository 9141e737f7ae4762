"""Run directories: what one batch scan wrote, how to lock it, and what the next run starts from.

A run directory holds everything one ``scan_all`` produced, so it can be reproduced,
compared with another run and opened by ``sitewatch brief``::

    runs/2025-11-30/
      manifest.json            versions, settings, AOIs (with a hash of each file), status, times
      summary.json summary.csv one row per AOI: scenes used/dropped, alerts by type, new/updated, time
      alerts.geojson           every AOI's alerts merged (quicklook paths relative to the run)
      claims.json links.json   report claims and their links to alerts (when reports were given)
      state.json               what this run saw per AOI (last scene date, alert fingerprints)
      aois/<name>/alerts.geojson, quicklooks/*.png, links.json, error.txt
      .sitewatch.lock          held while a run writes (removed when it ends); a second run refuses

Every file is written atomically (a temporary file in the same folder, fsync, rename), so a
crash or a full disk never leaves a half-written file behind, and a run never writes outside
its own directory: earlier runs stay as they were.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import sitewatch.fileio as fileio
from sitewatch.errors import (
    ConfigError,
    DiskFullError,
    RunDiskFullError,
    RunError,
    RunLockedError,
    WriteError,
)

__all__ = [
    "LOCK_NAME",
    "MANIFEST_NAME",
    "RUN_FORMAT",
    "AOIState",
    "RunStatus",
    "alert_fingerprint",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "find_previous_run",
    "lock_run",
    "read_manifest",
    "read_state",
    "versions",
]

#: Version of the run directory layout written into every manifest.
RUN_FORMAT = 1
MANIFEST_NAME = "manifest.json"
STATE_NAME = "state.json"
LOCK_NAME = ".sitewatch.lock"

RunStatus = Literal["running", "complete", "partial", "failed", "aborted"]
#: Run statuses whose state a later ``--since-last`` run may start from.
FINISHED = ("complete", "partial")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    See :func:`sitewatch.fileio.atomic_write_bytes`; failures are run errors here.

    Parameters
    ----------
    path : path-like
        Target file; its folder is created.
    data : bytes
        The content.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    RunError
        If the disk is full (:class:`~sitewatch.errors.RunDiskFullError`) or the file
        cannot be written; the target is left as it was and no temporary file remains.

    Examples
    --------
    >>> atomic_write_bytes("out/x.bin", b"abc")  # doctest: +SKIP
    """
    try:
        return fileio.atomic_write_bytes(path, data)
    except DiskFullError as exc:
        raise RunDiskFullError(
            f"{exc} (files already written are complete; earlier runs are untouched)"
        ) from None
    except WriteError as exc:
        raise RunError(str(exc)) from None


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write JSON (indented, UTF-8, no NaN) atomically (see :func:`atomic_write_bytes`)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n"
    return atomic_write_text(path, text)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist: is this a sitewatch run directory?") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} cannot be read as JSON: {exc}") from None


def read_manifest(run_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the manifest of a run directory.

    Parameters
    ----------
    run_dir : path-like
        A directory written by :func:`sitewatch.batch.scan_all`.

    Returns
    -------
    dict

    Raises
    ------
    ConfigError
        If the directory holds no readable manifest.
    """
    manifest = _read_json(Path(run_dir) / MANIFEST_NAME)
    if not isinstance(manifest, dict) or manifest.get("sitewatch_run") is None:
        raise ConfigError(f"{Path(run_dir) / MANIFEST_NAME} is not a sitewatch run manifest")
    return manifest


@contextmanager
def lock_run(run_dir: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold the lock of a run directory for the duration of a ``with`` block.

    The lock is an OS file lock (``fcntl.flock``) on ``.sitewatch.lock``: it dies with the
    process, so a crashed run never leaves a stale lock, and a second run on the same
    directory, in this process or another, refuses at once.

    Parameters
    ----------
    run_dir : path-like
        The run directory (created if missing).

    Yields
    ------
    pathlib.Path
        The lock file.

    Raises
    ------
    RunLockedError
        If another run holds the lock.
    RunError
        If the directory cannot be created.
    """
    folder = Path(run_dir)
    fd = _acquire_lock(folder)
    try:
        info = f"pid {os.getpid()} on {socket.gethostname()} since {_now()}"
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
    except OSError:
        pass  # the lock holds even when the note about it cannot be written (disk full)
    try:
        yield folder / LOCK_NAME
    finally:
        # Removed while still held, so a finished run directory holds no lock file; a run
        # that opened the old file meanwhile sees it is gone and takes a new one (_acquire_lock).
        with suppress(OSError):
            os.unlink(folder / LOCK_NAME)
        os.close(fd)


def _acquire_lock(folder: Path) -> int:
    """Open and lock ``folder/LOCK_NAME``; the descriptor, once it is the file at that path."""
    while True:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(folder / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RunError(f"cannot create run directory {folder}: {exc.strerror or exc}") from exc
        try:
            try:
                import fcntl

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # pragma: no cover - Windows: fall back on msvcrt's byte lock
                import msvcrt

                try:
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
                except OSError:
                    raise BlockingIOError from None
        except (BlockingIOError, PermissionError):
            holder = ""
            with suppress(OSError):
                holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise RunLockedError(
                f"run directory {folder} is in use by another run ({holder or 'unknown holder'}); "
                "wait for it to finish or choose another --out-dir"
            ) from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(folder / LOCK_NAME))
        except OSError:
            same = False
        if same:
            return fd
        os.close(fd)  # the run that held it finished and removed it: lock the new file


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AOIState:
    """What one run saw of one AOI, for the next ``--since-last`` run.

    Parameters
    ----------
    aoi : str
        AOI name.
    last_scene_date : str or None
        ISO date of the latest scene used so far (None when no scene was ever used).
    alerts : mapping
        Alert id to its fingerprint (see :func:`alert_fingerprint`).
    run : str
        The run directory (name) that last scanned the AOI.
    """

    aoi: str
    last_scene_date: str | None
    alerts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    run: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the state as a JSON-able mapping."""
        return {
            "last_scene_date": self.last_scene_date,
            "alerts": {k: dict(v) for k, v in sorted(self.alerts.items())},
            "run": self.run,
        }

    @classmethod
    def from_json(cls, name: str, data: Mapping[str, Any]) -> AOIState:
        """Build a state from :meth:`to_json` output."""
        return cls(
            aoi=name,
            last_scene_date=data.get("last_scene_date"),
            alerts=dict(data.get("alerts") or {}),
            run=str(data.get("run") or ""),
        )


def alert_fingerprint(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Return the parts of an alert that make a later sighting an *update*.

    Two sightings of the same alert id are the same news when these agree: status,
    change type, confidence (2 decimals) and area (to 10 m²).

    Parameters
    ----------
    properties : mapping
        Feature properties of an alert.

    Returns
    -------
    dict

    Examples
    --------
    >>> props = {"status": "new", "confidence": 0.8123, "area_m2": 1234.0, "change_type": "new_pad"}
    >>> alert_fingerprint(props)
    {'status': 'new', 'change_type': 'new_pad', 'confidence': 0.81, 'area_m2': 1230.0}
    """
    conf = properties.get("confidence")
    area = properties.get("area_m2")
    return {
        "status": properties.get("status"),
        "change_type": properties.get("change_type"),
        "confidence": None if conf is None else round(float(conf), 2),
        "area_m2": None if area is None else round(float(area), -1),
    }


def read_state(run_dir: str | os.PathLike[str]) -> dict[str, AOIState]:
    """Return the per-AOI state a finished run recorded.

    Parameters
    ----------
    run_dir : path-like

    Returns
    -------
    dict of str to AOIState

    Raises
    ------
    ConfigError
        If the run has no readable state file.
    """
    data = _read_json(Path(run_dir) / STATE_NAME)
    aois = data.get("aois") if isinstance(data, dict) else None
    if not isinstance(aois, dict):
        raise ConfigError(f"{Path(run_dir) / STATE_NAME} is not a sitewatch state file")
    return {name: AOIState.from_json(name, value) for name, value in aois.items()}


def find_previous_run(
    run_dir: str | os.PathLike[str],
    *,
    aois: Iterable[str] | None = None,
    source: Any = None,
) -> Path | None:
    """Return the latest finished run beside ``run_dir`` (its sibling folders) of the same sites, or None.

    "Finished" means the manifest says ``complete`` or ``partial`` and a state file
    exists; runs that were aborted (disk full, interrupted) or are still running are
    skipped, so a broken run never becomes the baseline. With ``aois`` and ``source``, only
    runs that covered every one of these AOIs, from the same source, qualify: a run of
    another registry or source beside it (a partial test run, say) is never the baseline.

    Parameters
    ----------
    run_dir : path-like
        The new run's directory (it need not exist yet).
    aois : iterable of str, optional
        Names of the AOIs the new run scans.
    source : str or dict, optional
        The new run's source as its manifest records it (``settings.source``).

    Returns
    -------
    pathlib.Path or None
    """
    target = Path(run_dir).resolve()
    parent = target.parent
    if not parent.is_dir():
        return None
    wanted = set(aois) if aois is not None else None
    best: tuple[str, str, Path] | None = None
    for child in parent.iterdir():
        if child.resolve() == target or not child.is_dir():
            continue
        try:
            manifest = read_manifest(child)
        except ConfigError:
            continue
        if manifest.get("status") not in FINISHED or not (child / STATE_NAME).is_file():
            continue
        if wanted is not None:
            covered = {str(a.get("name")) for a in manifest.get("aois") or [] if isinstance(a, Mapping)}
            if not wanted <= covered:
                continue
        if source is not None and (manifest.get("settings") or {}).get("source") != source:
            continue
        key = (str(manifest.get("finished") or ""), child.name, child)
        if best is None or key[:2] > best[:2]:
            best = key
    return None if best is None else best[2]


def versions() -> dict[str, str]:
    """Return the versions of Python, sitewatch and the libraries a run's results depend on.

    Returns
    -------
    dict of str to str
    """
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for dist in (
        "sitewatch",
        "numpy",
        "scipy",
        "xarray",
        "dask",
        "distributed",
        "rasterio",
        "odc-geo",
        "odc-stac",
        "shapely",
        "pyproj",
        "scikit-image",
        "s2cloudless",
    ):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            continue
    try:
        import rasterio

        out["gdal"] = str(rasterio.__gdal_version__)
    except Exception:  # pragma: no cover - rasterio is a dependency
        pass
    return out
