"""Scratch folders of batch tasks: ``<root>/<run token>/<host>/<pid>-<process start>/<unit>-XXXXXXXX``.

A task's folder names the process that owns it, so a folder left by a worker that was killed
mid-scan is recognised by the next task on the same machine (the retry, usually) and removed;
at the end of the run the run's whole folder goes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sitewatch.errors import ConfigError

__all__ = [
    "SAFE_NAME",
    "SCRATCH_DIRNAME",
    "default_scratch_root",
    "host_name",
    "own_root",
    "process_stamp",
    "remove_run_scratch",
    "remove_run_scratch_on_worker",
    "scratch_folder",
    "sweep_scratch",
]

log = logging.getLogger(__name__)

#: Folder name of the scratch root inside the system's temporary folder.
SCRATCH_DIRNAME = "sitewatch-scratch"

#: What may stand in a folder name; anything else becomes ``_``.
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def default_scratch_root() -> Path:
    """Return where batch tasks keep temporary files by default: ``<temp>/sitewatch-scratch-<uid>``.

    Returns
    -------
    pathlib.Path
        Under :func:`tempfile.gettempdir` (``TMPDIR``) of the calling process, one per user
        (a shared temporary folder is not a place to share).
    """
    user = f"-{os.getuid()}" if hasattr(os, "getuid") else ""
    return Path(tempfile.gettempdir()) / f"{SCRATCH_DIRNAME}{user}"


def own_root(root: Path) -> None:
    """Make the scratch root (private) or check that it is a folder of ours, not a planted link.

    Raises
    ------
    ConfigError
        If it is a link or another user's.
    """
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = root.lstat()
    if root.is_symlink() or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
        raise ConfigError(
            f"scratch folder {root} is a link or belongs to another user; "
            "remove it or give scan_all another scratch_dir"
        )


def host_name() -> str:
    """The name of this machine, safe in a folder name."""
    import socket

    return SAFE_NAME.sub("_", socket.gethostname()) or "host"


def process_stamp() -> str:
    """``<pid>-<start time>`` of this process: names its scratch folders."""
    import psutil

    me = psutil.Process()
    return f"{me.pid}-{int(me.create_time() * 100)}"


def _owner_alive(stamp: str) -> bool:
    """Tell whether the process a scratch folder is named after still runs (unknown names: yes)."""
    import psutil

    m = re.fullmatch(r"(\d+)-(\d+)", stamp)
    if m is None:
        return True  # not a folder this module made: leave it
    try:
        started = int(psutil.Process(int(m[1])).create_time() * 100)
    except psutil.NoSuchProcess:
        return False
    except psutil.Error:
        return True  # cannot tell (another user's process): keep
    return abs(started - int(m[2])) <= 2  # a different start time: the pid was reused


def sweep_scratch(root: str | os.PathLike[str] | None = None) -> int:
    """Remove the scratch folders of batch processes on this machine that no longer run.

    Every batch task calls this before it starts, so a worker killed mid-scan (crash, out of
    memory) does not leave its files behind once the next task runs on the machine; call it
    yourself to tidy up after runs that were killed as a whole.

    Parameters
    ----------
    root : path-like, optional
        The scratch root (default :func:`default_scratch_root`).

    Returns
    -------
    int
        How many dead processes' folders were removed.

    Examples
    --------
    >>> sweep_scratch()  # doctest: +SKIP
    0
    """
    import glob

    base = Path(root) if root is not None else default_scratch_root()
    if not base.is_dir() or base.is_symlink():
        return 0  # a link is not ours to clean through
    removed = 0
    for owner in sorted(base.glob(f"*/{glob.escape(host_name())}/*")):
        if not owner.is_dir() or _owner_alive(owner.name):
            continue
        shutil.rmtree(owner, ignore_errors=True)
        if not owner.exists():
            removed += 1
            log.info("removed the scratch folder %s of a process that is gone", owner)
        for parent in (owner.parent, owner.parent.parent):
            with contextlib.suppress(OSError):
                parent.rmdir()  # only when empty
    return removed


@contextlib.contextmanager
def scratch_folder(root: Path, token: str, unit: str) -> Iterator[Path]:
    """A fresh folder for one task, removed afterwards (with its parents once empty).

    Parameters
    ----------
    root : pathlib.Path
    token : str
        The run's token.
    unit : str
        The task (AOI or tile name).

    Yields
    ------
    pathlib.Path
    """
    own_root(root)
    owner = root / SAFE_NAME.sub("_", token) / host_name() / process_stamp()
    prefix = SAFE_NAME.sub("_", unit)[:64] + "-"
    for attempt in range(5):
        try:
            owner.mkdir(parents=True, exist_ok=True)
            folder = Path(tempfile.mkdtemp(prefix=prefix, dir=owner))
            break
        except FileNotFoundError:  # another task tidied an empty parent away meanwhile
            if attempt == 4:
                raise
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        for parent in (owner, owner.parent, owner.parent.parent):
            try:
                parent.rmdir()
            except OSError:  # not empty: other tasks still use it
                break


def remove_run_scratch(root: str | None, token: str) -> None:
    """Remove one run's scratch folders (on the machine this runs on).

    Parameters
    ----------
    root : str or None
        The scratch root (None: :func:`default_scratch_root`).
    token : str
        The run's token.
    """
    base = Path(root) if root else default_scratch_root()
    shutil.rmtree(base / SAFE_NAME.sub("_", token), ignore_errors=True)


async def remove_run_scratch_on_worker(root: str | None, token: str) -> None:
    """:func:`remove_run_scratch` on a Dask worker, off its event loop.

    Parameters
    ----------
    root, token
        As :func:`remove_run_scratch`.
    """
    import asyncio

    await asyncio.to_thread(remove_run_scratch, root, token)
