"""The sitewatch exception and warning hierarchy.

Every error sitewatch raises on purpose descends from :class:`SitewatchError`
and also from the builtin it resembles, so callers may catch either. Messages
name the thing that is wrong and say what to do about it; the CLI prints them
as one line.
"""

from __future__ import annotations

__all__ = [
    "AOIError",
    "AllCloudyError",
    "BandMissingError",
    "CacheError",
    "ConfigError",
    "CredentialsError",
    "DataError",
    "DiskFullError",
    "NoOverlapError",
    "NoScenesError",
    "ProviderError",
    "RateLimitError",
    "RegistrationError",
    "ReportError",
    "RunError",
    "RunDiskFullError",
    "RunLockedError",
    "SitewatchError",
    "SitewatchWarning",
    "TooLargeError",
    "UnavailableError",
    "WriteError",
    "DataWarning",
    "ProviderWarning",
]


class SitewatchError(Exception):
    """Root of every error sitewatch raises on purpose."""


class AOIError(SitewatchError, ValueError):
    """An area of interest is unknown, malformed or unsafe to use."""


class DataError(SitewatchError, ValueError):
    """Imagery or other input data cannot be used as given."""


class BandMissingError(DataError):
    """A scene lacks a band that was asked for."""


class NoOverlapError(DataError):
    """Two extents (an AOI and the data, or two dates) do not overlap."""


class NoScenesError(DataError):
    """A place that should hold scenes holds none."""


class AllCloudyError(DataError):
    """No usable (clear, valid) pixels remain after masking."""


class RegistrationError(DataError):
    """Two images cannot be co-registered with confidence."""


class ReportError(SitewatchError, ValueError):
    """A text report or a claims file cannot be read or is malformed."""


class ConfigError(SitewatchError, ValueError):
    """A setting, option or configuration file is invalid."""


class ProviderError(SitewatchError, OSError):
    """An imagery service or catalogue failed or refused a request."""


class CredentialsError(ProviderError):
    """A service rejected the credentials (HTTP 401/403) or none were given."""


class RateLimitError(ProviderError):
    """A service kept answering 429 (too many requests) after retries."""


class UnavailableError(ProviderError):
    """A scene's asset is permanently gone from the service (HTTP 404 or 410).

    ``scene_id`` and ``status`` say which scene and how the service answered.
    """

    def __init__(self, message: str, *, scene_id: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.scene_id = scene_id
        self.status = status


class TooLargeError(AOIError):
    """An AOI is larger than a scan can handle (the size guard refused it)."""


class WriteError(SitewatchError, OSError):
    """A file cannot be written (permissions, a failed check of what was written...)."""


class DiskFullError(WriteError):
    """A write failed because the disk (or quota) is full; nothing partial was left behind."""


class CacheError(SitewatchError, OSError):
    """The on-disk imagery cache cannot be read or written."""


class RunError(SitewatchError, OSError):
    """A run directory cannot be created, locked or written (disk full, permissions...)."""


class RunDiskFullError(RunError, DiskFullError):
    """The disk filled while a run directory was written (earlier files stay whole)."""


class RunLockedError(RunError):
    """Another run holds the lock on the same run directory."""


class SitewatchWarning(UserWarning):
    """Root of every warning sitewatch issues."""


class DataWarning(SitewatchWarning):
    """Input data was usable, but not as asked (a band dropped, levels mixed...)."""


class ProviderWarning(SitewatchWarning):
    """An imagery service answered, but not completely (a retry, a skipped item...)."""
