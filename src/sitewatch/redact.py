"""Credentials never leave memory: the one redaction of sources, URLs and log lines.

A ``--source`` or URL may carry secrets: user info (``http://alice:SECRET@host``) and
token-like query parameters (``?token=``, ``access_token``, ``key``, ``sig``,
``signature``, ``X-Amz-*`` of pre-signed S3 links, ``password``, ``secret``...). Every
printed, logged, cached or exported form of a source goes through :func:`redact`, which
drops the user info and replaces the values of those parameters with ``REDACTED``; the
rest of the URL stays as it was, so the source can still be recognised and compared.
:class:`RedactingFilter` does the same to log records (ours and third-party ones, such
as pystac-client's request lines with their ``Authorization`` header).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["REDACTED", "RedactingFilter", "install_log_redaction", "is_secret_param", "redact"]

REDACTED = "REDACTED"

#: Query parameter names (lower case) whose values are secrets.
SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "auth",
        "authorization",
        "key",
        "api_key",
        "apikey",
        "api-key",
        "sig",
        "signature",
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "sessionid",
    }
)
#: Prefixes of parameter names that are secrets as a family (pre-signed S3 and GCS links).
SECRET_PREFIXES = ("x-amz-", "x-goog-")

_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# a query parameter anywhere (also in a bare request line: "GET /v1?token=... HTTP/1.1")
_PARAM_RE = re.compile(r"([?&;])([A-Za-z0-9_.-]+)=([^&#\s'\"<>]*)")
_HEADER_RE = re.compile(
    r"(?i)(['\"]?(?:authorization|proxy-authorization|x-api-key|api-key|cookie)['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(basic|bearer|token)\s+)?[^'\",}\s]+"
)


def is_secret_param(name: str) -> bool:
    """True when a query parameter's value is a credential.

    Examples
    --------
    >>> is_secret_param("X-Amz-Signature"), is_secret_param("collection")
    (True, False)
    """
    low = name.lower()
    return (
        low in SECRET_PARAMS or low.startswith(SECRET_PREFIXES) or low.endswith(("_token", "_secret", "_key"))
    )


def _redact_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = parts.hostname or ""
        if port:
            netloc += f":{port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(is_secret_param(k) for k, _ in pairs):
            query = urlencode([(k, REDACTED if is_secret_param(k) else v) for k, v in pairs], safe=",:/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _redact_param(match: re.Match[str]) -> str:
    sep, name = match.group(1), match.group(2)
    return f"{sep}{name}={REDACTED}" if is_secret_param(name) else match.group(0)


def redact(text: Any) -> str:
    """Return ``text`` with credentials removed from every URL and header in it.

    Parameters
    ----------
    text : str or object
        A source (``stac:http://alice:pw@host/v1#c``), a URL, or any message holding URLs
        or ``Authorization: ...`` headers; other objects are redacted as ``str(text)``.

    Returns
    -------
    str

    Examples
    --------
    >>> redact("stac:http://alice:SECRET@host:8080/v1?token=abc&limit=5#sentinel-2-l2a")
    'stac:http://host:8080/v1?token=REDACTED&limit=5#sentinel-2-l2a'
    >>> redact("{'Authorization': 'Basic YWxpY2U6U0VDUkVU'}")
    "{'Authorization': 'Basic REDACTED'}"
    """
    out = str(text)
    if "://" in out:
        out = _URL_RE.sub(lambda m: _redact_url(m.group(0)), out)
    if "=" in out:
        out = _PARAM_RE.sub(_redact_param, out)
    if re.search(r"(?i)authorization|api-key|cookie", out):
        out = _HEADER_RE.sub(lambda m: m.group(1) + (f"{m.group(2)} " if m.group(2) else "") + REDACTED, out)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the formatted message of every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message without credentials; never drop it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed third-party record: leave it to logging's own handling
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Attach one :class:`RedactingFilter` to every handler of ``logger`` (default: the root).

    Handler filters see records from every logger that propagates to them, third-party
    ones included, which logger filters would not.
    """
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
