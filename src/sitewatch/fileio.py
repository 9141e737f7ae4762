"""Atomic, verified writes: a reader sees the old file or the whole new one, never a part.

Every file sitewatch writes (scan outputs, masks, claims, run files, cache scenes and
manifests, plots and quicklooks, simulated scenes, the demo) goes through
:func:`atomic_output`: the content is written to a temporary file in the target's own
folder (so the final rename never crosses a file system), flushed and fsynced, checked
(a raster is opened again and its last block read, because GDAL does not always raise
when the disk fills: it can close a truncated file without a word), and only then renamed
over the target; the folder is fsynced so the rename survives a crash. On any failure the
temporary file is removed and the target is left as it was.

A full disk (``ENOSPC``, a quota, or a failed write with less free space left than the
file needs) becomes one :class:`~sitewatch.errors.DiskFullError`: "disk full writing
PATH: free N MB and run again".
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import re
import secrets
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from sitewatch.errors import DiskFullError, SitewatchError, WriteError

__all__ = [
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "c_stderr_to_log",
    "disk_full_error",
    "is_disk_full",
    "verify_raster",
]

_DISK_FULL_ERRNOS = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_DISK_FULL_WORDS = ("no space left", "disk full", "free disk space", "quota exceeded")
#: Head room asked for when the size of the file is not known in advance.
_MIN_FREE_BYTES = 1 << 20

#: Lines libtiff prints itself, straight to the C stderr (GDAL's ``_tiffSeekProc``,
#: ``_tiffWriteProc`` on a full disk: one per block, dozens per raster); GDAL reports the
#: same failure through its error handler, and sitewatch says it in one line.
_LIBTIFF_LINE = re.compile(r"^(_tiff\w+Proc|TIFF\w+): ")
_libtiff_log = logging.getLogger("libtiff")


class _StderrCapture:
    """File descriptor 2 sent to a pipe (one for the whole process, however many writers)."""

    lock: ClassVar[threading.Lock] = threading.Lock()
    depth: ClassVar[int] = 0
    saved_fd: ClassVar[int] = -1
    reader: ClassVar[threading.Thread | None] = None
    chunks: ClassVar[list[bytes]] = []

    @classmethod
    def enter(cls) -> bool:
        with cls.lock:
            if cls.depth == 0:
                try:
                    with contextlib.suppress(Exception):
                        sys.stderr.flush()
                    saved = os.dup(2)
                    read_end, write_end = os.pipe()
                except (OSError, ValueError):
                    return False  # no fd 2 (an embedded interpreter): nothing to capture
                os.dup2(write_end, 2)
                os.close(write_end)
                cls.saved_fd, cls.chunks = saved, []
                cls.reader = threading.Thread(target=cls._drain, args=(read_end,), daemon=True)
                cls.reader.start()
            cls.depth += 1
            return True

    @classmethod
    def _drain(cls, read_end: int) -> None:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                cls.chunks.append(chunk)

    @classmethod
    def leave(cls) -> None:
        with cls.lock:
            cls.depth -= 1
            if cls.depth > 0:
                return
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(cls.saved_fd, 2)  # closes the pipe's last write end: the reader ends
            os.close(cls.saved_fd)
            if cls.reader is not None:
                cls.reader.join(timeout=10)
            text = b"".join(cls.chunks).decode("utf-8", "replace")
        others = []
        for line in text.splitlines(keepends=True):
            if _LIBTIFF_LINE.match(line):
                _libtiff_log.debug("%s", line.rstrip())
            else:
                others.append(line)
        if others:  # anything else written meanwhile (another thread's message) is shown as it was
            os.write(2, "".join(others).encode("utf-8", "replace"))


@contextlib.contextmanager
def c_stderr_to_log() -> Iterator[None]:
    """Send libtiff's own stderr lines to the DEBUG log (``libtiff``) while GDAL writes.

    libtiff prints some errors itself on the C stderr, outside GDAL's error handler and
    outside Python's logging (a full disk gave one ``_tiffSeekProc: No space left on
    device.`` per block, under ``-q`` too). Meanwhile file descriptor 2 goes to a pipe;
    afterwards libtiff's lines are logged at DEBUG and any other text is written to the
    real stderr unchanged. Nested and concurrent uses share one pipe.
    """
    captured = _StderrCapture.enter()
    try:
        yield
    finally:
        if captured:
            _StderrCapture.leave()


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def is_disk_full(exc: BaseException, folder: str | os.PathLike[str] | None = None, needed: int = 0) -> bool:
    """True when ``exc`` is (or, judged by the free space left in ``folder``, must be) a full disk.

    Parameters
    ----------
    exc : BaseException
    folder : path-like, optional
        Where the write went; when the error names no cause, less free space there than
        ``needed`` (at least 1 MB) counts as a full disk (GDAL reports one as a plain
        "write error").
    needed : int
        Bytes the write needed, when known.

    Returns
    -------
    bool
    """
    if isinstance(exc, DiskFullError):
        return True
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    if any(word in str(exc).lower() for word in _DISK_FULL_WORDS):
        return True
    if folder is not None:
        free = _free_bytes(Path(folder))
        return free is not None and free < max(needed, _MIN_FREE_BYTES)
    return False


def disk_full_error(path: str | os.PathLike[str], needed: int = 0) -> DiskFullError:
    """The one-line error of a write that found the disk full.

    Examples
    --------
    >>> str(disk_full_error("/data/out.tif", 5_200_000))
    'disk full writing /data/out.tif: free 5 MB and run again'
    """
    mb = max(1, math.ceil(max(needed, _MIN_FREE_BYTES) / 2**20))  # MB as df -m counts them
    return DiskFullError(f"disk full writing {path}: free {mb} MB and run again")


def _fsync_path(path: Path, *, directory: bool = False) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if directory:
            return  # not every platform lets a directory be opened
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def verify_raster(path: str | os.PathLike[str]) -> None:
    """Open a raster and read its last block (of its last band); raise if that fails.

    A GeoTIFF cut short by a full disk opens but cannot deliver its last block.

    Raises
    ------
    OSError
        If the file cannot be opened or its last block read.
    """
    import rasterio
    from rasterio.windows import Window

    try:
        with rasterio.open(path) as src:
            block_h, block_w = src.block_shapes[-1]
            row = ((src.height - 1) // block_h) * block_h
            col = ((src.width - 1) // block_w) * block_w
            src.read(src.count, window=Window(col, row, src.width - col, src.height - row))
    except rasterio.errors.RasterioError as exc:
        raise OSError(f"{path} does not read back: {exc}") from None


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str],
    *,
    verify: Callable[[Path], None] | None = None,
    needed_bytes: int = 0,
) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success, fsync, verify and rename it over ``path``.

    Parameters
    ----------
    path : path-like
        The final file; its folder is created.
    verify : callable, optional
        Called with the temporary path before the rename (e.g. :func:`verify_raster`);
        it raises if the file is not whole.
    needed_bytes : int
        Size of the file when known (for the "free N MB" of a full disk).

    Yields
    ------
    pathlib.Path
        Write the content there (same suffix as ``path``, so format-by-extension writers work).

    Raises
    ------
    DiskFullError
        If the disk is full; nothing is left at ``path`` or beside it.
    WriteError
        If the file cannot be written or does not read back for another reason.

    Examples
    --------
    >>> with atomic_output("out/mask.tif", verify=verify_raster) as tmp:  # doctest: +SKIP
    ...     write_my_raster(tmp)
    """
    target = Path(path)
    tmp = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.partial{target.suffix}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # a verified file is a raster: libtiff may print to the C stderr while GDAL writes it
        with c_stderr_to_log() if verify is not None else contextlib.nullcontext():
            yield tmp
            if not tmp.exists():
                raise WriteError(f"nothing was written to {target}")
            _fsync_path(tmp)
            if verify is not None:
                verify(tmp)
        os.replace(tmp, target)
        _fsync_path(target.parent, directory=True)
    except DiskFullError:
        raise
    except (OSError, SitewatchError) as exc:
        if is_disk_full(exc, target.parent, needed_bytes):
            raise disk_full_error(target, needed_bytes) from None
        if isinstance(exc, SitewatchError):
            raise
        raise WriteError(f"cannot write {target}: {getattr(exc, 'strerror', None) or exc}") from None
    except Exception as exc:  # a writer library's own error class (GDAL, matplotlib...)
        if is_disk_full(exc, target.parent, needed_bytes):
            raise disk_full_error(target, needed_bytes) from None
        raise
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int = 0o666) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_output`).

    Parameters
    ----------
    path : path-like
    data : bytes
    mode : int
        Permissions of the file before the umask (as ``open()`` does: outputs are for sharing).

    Returns
    -------
    pathlib.Path
    """
    target = Path(path)
    with atomic_output(target, needed_bytes=len(data)) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], data: Any, *, indent: int | None = 2) -> Path:
    """Write JSON (UTF-8, no NaN) atomically (see :func:`atomic_write_bytes`)."""
    text = json.dumps(data, indent=indent, ensure_ascii=False, allow_nan=False, default=str) + "\n"
    return atomic_write_text(path, text)
