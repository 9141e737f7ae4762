"""Timeouts and retries of every network call sitewatch makes, decided once, here.

Every provider (STAC catalogues, odc-stac / GDAL reads of COGs, Sentinel Hub and its
OAuth token request, the radar providers) takes its connect timeout, read timeout and
number of attempts from one :class:`NetworkSettings`. The defaults:

- **connect timeout 10 s**: a host that does not accept the connection in 10 s is down
  or unreachable;
- **read timeout 30 s**: a server that accepted and then sends nothing for 30 s is stuck
  (a real catalogue answers a search page in well under that; a COG range request
  even sooner);
- **120 s** read timeout for answers a service computes first (Sentinel Hub's Process API);
- **3 attempts** in all, with a growing pause between them (1 s, 2 s...), on a dropped
  connection, a timeout, 429 or 5xx.

So a server that accepts and never answers ends, at worst, after about
``attempts x (read timeout + pause)``: with the defaults under two minutes, with
``--timeout 5`` under 25 s, in one line naming the server. ``$SITEWATCH_TIMEOUT``
(seconds) sets the read timeout for every command and library call that does not
give one (``sitewatch fetch --timeout`` and ``sitewatch scan --timeout`` set it).
"""

from __future__ import annotations

import logging
import os
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sitewatch.errors import ConfigError

__all__ = [
    "GONE_STATUSES",
    "NetworkSettings",
    "TIMEOUT_ENV",
    "http_status_in",
    "network_settings",
    "quiet_read_logs",
    "threaded_reads",
]

#: Environment variable holding the read timeout in seconds (what ``--timeout`` sets).
TIMEOUT_ENV = "SITEWATCH_TIMEOUT"


@dataclass(frozen=True)
class NetworkSettings:
    """Connect and read timeouts and attempts of one provider's network calls.

    Parameters
    ----------
    connect_timeout_s : float
        Seconds to wait for a connection to be accepted.
    read_timeout_s : float
        Seconds to wait for the next bytes of an answer once connected.
    max_attempts : int
        Tries in all of a request that timed out, was dropped, or was answered 429/5xx.
    retry_sleep_s : float
        Back-off factor: the pauses between tries grow as 1x, 2x, 4x... this.
    compute_timeout_s : float
        Read timeout of requests the service computes before it answers (Sentinel Hub's
        Process API renders the pixels first: tens of seconds for a big tile is normal).

    Examples
    --------
    >>> NetworkSettings(read_timeout_s=5).requests_timeout()
    (5.0, 5.0)
    >>> NetworkSettings().gdal_options()["GDAL_HTTP_TIMEOUT"]
    '30'
    """

    connect_timeout_s: float = 10.0
    read_timeout_s: float = 30.0
    max_attempts: int = 3
    retry_sleep_s: float = 1.0
    compute_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if not (self.connect_timeout_s > 0 and self.read_timeout_s > 0):
            raise ConfigError(
                f"network timeouts must be positive (got connect {self.connect_timeout_s:g} s, "
                f"read {self.read_timeout_s:g} s); pass --timeout SECONDS > 0"
            )
        if self.max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1 (got {self.max_attempts})")

    @property
    def total_s(self) -> float:
        """Worst case before a server that never answers is given up (all attempts and pauses)."""
        pauses = sum(self.retry_sleep_s * 2**i for i in range(self.max_attempts - 1))
        return self.max_attempts * (self.connect_timeout_s + self.read_timeout_s) + pauses

    def requests_timeout(self) -> tuple[float, float]:
        """``(connect, read)`` as ``requests`` takes it; connect never longer than read."""
        return (float(min(self.connect_timeout_s, self.read_timeout_s)), float(self.read_timeout_s))

    def urllib3_retry(self, *, status_forcelist: tuple[int, ...] = (429, 500, 502, 503, 504)) -> Any:
        """A ``urllib3.Retry`` making ``max_attempts`` tries in all (POST included).

        ``Retry-After`` is honoured; the last answer is returned rather than raised, so the
        caller can name the status in its message.
        """
        from urllib3 import Retry

        return Retry(
            total=self.max_attempts - 1,
            backoff_factor=self.retry_sleep_s,
            backoff_max=max(self.read_timeout_s, self.retry_sleep_s),
            status_forcelist=status_forcelist,
            allowed_methods=None,
            respect_retry_after_header=True,
            raise_on_status=False,
        )

    def gdal_options(self) -> dict[str, str]:
        """GDAL's ``/vsicurl/`` settings (odc-stac and rasterio reads of COGs)."""
        return {
            "GDAL_HTTP_CONNECTTIMEOUT": str(max(1, round(min(self.connect_timeout_s, self.read_timeout_s)))),
            "GDAL_HTTP_TIMEOUT": str(max(1, round(self.read_timeout_s))),
            "GDAL_HTTP_MAX_RETRY": str(self.max_attempts - 1),
            "GDAL_HTTP_RETRY_DELAY": f"{self.retry_sleep_s:g}",
        }


def network_settings(
    timeout_s: float | None = None, max_attempts: int | None = None, retry_sleep_s: float | None = None
) -> NetworkSettings:
    """The settings a provider uses: the defaults, ``$SITEWATCH_TIMEOUT``, then what is passed.

    Parameters
    ----------
    timeout_s : float, optional
        Read timeout in seconds (the connect timeout is the smaller of it and 10 s).
    max_attempts : int, optional
    retry_sleep_s : float, optional

    Returns
    -------
    NetworkSettings

    Raises
    ------
    ConfigError
        If ``$SITEWATCH_TIMEOUT`` is not a positive number.

    Examples
    --------
    >>> network_settings(5).read_timeout_s
    5.0
    """
    settings = NetworkSettings()
    env = os.environ.get(TIMEOUT_ENV, "").strip()
    if env:
        try:
            settings = replace(settings, read_timeout_s=float(env))
        except ValueError:
            raise ConfigError(f"${TIMEOUT_ENV}={env!r} is not a number of seconds") from None
    if timeout_s is not None:
        settings = replace(settings, read_timeout_s=float(timeout_s))
    if env or timeout_s is not None:
        # a timeout asked for holds for every request, computed ones too
        settings = replace(settings, compute_timeout_s=settings.read_timeout_s)
    if max_attempts is not None:
        settings = replace(settings, max_attempts=max(1, int(max_attempts)))
    if retry_sleep_s is not None:
        settings = replace(settings, retry_sleep_s=float(retry_sleep_s))
    return settings


#: Loggers that repeat one failed COG read once per block, band and retry (a server answering
#: 500 gave 157 lines); sitewatch raises one error for the scene instead.
_CHATTY_READ_LOGGERS = ("rasterio._env", "rasterio._err", "odc.loader._rio", "odc.loader")


class _DemoteToDebug(logging.Filter):
    """Pass a third-party record only at sitewatch's DEBUG level (``-vv``), as DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not logging.getLogger("sitewatch").isEnabledFor(logging.DEBUG):
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return True


def quiet_read_logs() -> None:
    """Route GDAL's and odc-stac's per-block read complaints to DEBUG (idempotent)."""
    for name in _CHATTY_READ_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DemoteToDebug) for f in logger.filters):
            logger.addFilter(_DemoteToDebug())


#: A warning rasterio means to hide: its in-memory datasets (the destination of every
#: odc-stac reprojection) are created under ``warnings.catch_warnings()`` with everything
#: ignored, and are then given their transform. ``catch_warnings`` swaps the process-wide
#: filter list, so two reading threads undo each other's swap: one read then warns "Dataset
#: has no geotransform" about its own half-built destination (the assets are georeferenced),
#: and the last thread out can leave "ignore every warning" in place for the rest of the
#: process, silencing sitewatch's own warnings (odc-geo issue 131).
_SPURIOUS_READ_WARNING = "Dataset has no geotransform, gcps, or rpcs"

_GUARD_LOCK = threading.Lock()
_guard_depth = 0
_guard: Any = None  # the warnings.catch_warnings of the outermost threaded_reads


@contextmanager
def threaded_reads() -> Iterator[None]:
    """Around reads that run rasterio in several threads: keep the warning filters intact.

    On entry (the first of any thread) the warning filters are saved and rasterio's
    spurious "no geotransform" warning is hidden; on exit (the last) the saved filters are
    put back, whatever the reading threads did to them meanwhile. Nested and concurrent
    uses share one save. A sitewatch warning about what was read should be issued after
    the block: inside it, another thread may hold "ignore everything" for a moment.
    """
    global _guard_depth, _guard
    with _GUARD_LOCK:
        if _guard_depth == 0:
            _guard = warnings.catch_warnings()
            _guard.__enter__()
            warnings.filterwarnings("ignore", message=_SPURIOUS_READ_WARNING, module="rasterio")
        _guard_depth += 1
    try:
        yield
    finally:
        with _GUARD_LOCK:
            _guard_depth -= 1
            if _guard_depth == 0:
                _guard.__exit__(None, None, None)
                _guard = None


_HTTP_STATUS_RE = re.compile(r"HTTP (?:response|error) code:? (\d{3})")


def http_status_in(message: str) -> int | None:
    """The HTTP status GDAL names in an error message, if any.

    Examples
    --------
    >>> http_status_in("HTTP response code: 404")
    404
    """
    match = _HTTP_STATUS_RE.search(message)
    return int(match.group(1)) if match else None


#: Answers meaning an asset is gone for good (not worth retrying on every run).
GONE_STATUSES = (404, 410)
