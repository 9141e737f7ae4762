"""Claims from report files: which files, how they are read, and the claims of each.

The claims of one report's text are assembled by :mod:`sitewatch.reports.assemble` (every
language); this module finds the report files, reads each (:mod:`sitewatch.reports.text`),
records what was read, and resolves names against the registry and the scanned AOIs.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sitewatch.errors import DataWarning, ReportError
from sitewatch.reports.assemble import assemble_claims
from sitewatch.reports.claims import CLAIMS_VERSION, EVENTS, Claim, Event, claims_document
from sitewatch.reports.places import PlaceMatcher
from sitewatch.reports.text import DEFAULT_MAX_BYTES, ReportText, load_index, read_report
from sitewatch.types import Place

__all__ = [
    "CLAIMS_VERSION",
    "Claim",
    "EVENTS",
    "Event",
    "claims_document",
    "extract_claims",
    "extract_reports",
    "extract_text_claims",
    "iter_report_files",
]


def extract_text_claims(
    report: ReportText,
    *,
    places: Sequence[Place] | None = None,
    matcher: PlaceMatcher | None = None,
) -> list[Claim]:
    """Extract claims from a report already read into text.

    Parameters
    ----------
    report : ReportText
        As returned by :func:`~sitewatch.reports.text.read_report`.
    places : sequence of Place, optional
        Places to resolve names against; defaults to :func:`sitewatch.aoi.list_places`.
    matcher : PlaceMatcher, optional
        A prepared matcher (wins over ``places``; saves time over many reports).

    Returns
    -------
    list of Claim
        In text order. A report naming no known place gives an empty list.
    """
    if matcher is None:
        if places is None:
            from sitewatch.aoi import list_places

            places = list_places()
        matcher = PlaceMatcher(places)
    return assemble_claims(report, matcher)


# -- files --------------------------------------------------------------------------------------

_REPORT_SUFFIXES = {".txt", ".text", ".html", ".htm", ".md", ".xhtml", ""}


def iter_report_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Yield report files from files and folders (folders: ``*.txt``, ``*.html``, ``*.htm``, ``*.md``).

    Parameters
    ----------
    paths : iterable of path-like
        Files or folders.

    Yields
    ------
    pathlib.Path

    Raises
    ------
    ReportError
        If a path does not exist.
    """
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for child in sorted(p.iterdir()):
                if (
                    child.is_file()
                    and child.suffix.lower() in _REPORT_SUFFIXES - {""}
                    and child.name != "index.json"
                ):
                    yield child
        elif p.is_file():
            yield p
        else:
            raise ReportError(f"report path {p} does not exist")


def extract_claims(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    published: dt.date | str | None = None,
    places: Sequence[Place] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Claim]:
    """Extract claims from report files or folders of reports.

    Parameters
    ----------
    paths : path-like or iterable of path-like
        Report files (plain text or HTML page captures) or folders holding them.
        An ``index.json`` beside the files gives publisher, url and publication date.
    published : date or str, optional
        Publication date for every file (wins over ``index.json`` and datelines).
    places : sequence of Place, optional
        Places to resolve names against; defaults to :func:`sitewatch.aoi.list_places`.
    max_bytes : int
        Read at most this much of each file.

    Returns
    -------
    list of Claim

    Raises
    ------
    ReportError
        On a missing, binary or undecodable file.

    Warns
    -----
    DataWarning
        For an empty or truncated file, or a report without publication date.

    Examples
    --------
    >>> claims = extract_claims("reports/")            # doctest: +SKIP
    >>> [(c.site, c.event, c.when["start"]) for c in claims][:2]  # doctest: +SKIP
    """
    claims, _ = extract_reports(paths, published=published, places=places, max_bytes=max_bytes)
    return claims


def extract_reports(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    published: dt.date | str | None = None,
    places: Sequence[Place] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[list[Claim], list[dict[str, Any]]]:
    """Extract claims, and say what was read: one source record per file, claims or not.

    Parameters
    ----------
    paths, published, places, max_bytes
        As for :func:`extract_claims`.

    Returns
    -------
    claims : list of Claim
    sources : list of dict
        Per file: ``file``, ``path``, ``publisher``, ``url``, ``published``,
        ``published_from``, ``encoding``, ``kind`` (text/html), ``truncated``, ``claims``
        (how many) and ``warnings`` (the messages issued while reading it).

    Raises
    ------
    ReportError
        On a missing, binary or undecodable file.

    Warns
    -----
    DataWarning
        As :func:`extract_claims`; the same messages are kept in ``sources``.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if places is None:
        from sitewatch.aoi import list_places

        places = list_places()
    matcher = PlaceMatcher(places)
    out: list[Claim] = []
    sources: list[dict[str, Any]] = []
    indexes: dict[Path, dict[str, dict[str, Any]]] = {}
    for path in iter_report_files(paths):
        if path.parent not in indexes:
            indexes[path.parent] = load_index(path.parent)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            report = read_report(path, published=published, max_bytes=max_bytes, index=indexes[path.parent])
            if report.text.strip() and report.published is None:
                warnings.warn(
                    f"report {path} has no publication date (no index.json entry, page metadata, dateline "
                    "or --published): relative dates stay open",
                    DataWarning,
                    stacklevel=2,
                )
        for w in caught:  # kept for the record, and still shown to the caller
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        found = extract_text_claims(report, matcher=matcher) if report.text.strip() else []
        out.extend(found)
        sources.append(
            {
                **{
                    k: report.meta.get(k)
                    for k in ("file", "publisher", "url", "published", "published_from", "published_note")
                },
                "path": str(path),
                "encoding": report.encoding,
                "kind": report.kind,
                "truncated": report.truncated,
                "claims": len(found),
                "warnings": [str(w.message) for w in caught],
            }
        )
    return out, sources


def extract_claims_for(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    aois: Sequence[Any],
    *,
    published: dt.date | str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[Claim]:
    """Extract claims with the scanned AOIs known as places, whatever the registry holds.

    A scan may watch a site given as a user GeoJSON file: its name and aliases are added to
    the registry's places (and a registered site given as a bare geometry keeps the names
    reports use for it), so claims about it resolve to the name its alerts carry.

    Parameters
    ----------
    paths : path-like or iterable of path-like
        Report files or folders, as for :func:`extract_claims`.
    aois : sequence of AOI
        The scanned areas.
    published : date or str, optional
        Publication date when neither ``index.json`` nor the page says it.
    max_bytes : int
        How much of each file is read.

    Returns
    -------
    list of Claim

    Raises
    ------
    ReportError
        If a path does not exist or a file cannot be read as text.
    """
    import contextlib
    from dataclasses import replace

    from sitewatch.aoi import list_places
    from sitewatch.errors import SitewatchError

    targets = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    for target in targets:
        if not Path(target).exists():
            raise ReportError(f"reports path {target} does not exist")
    known: dict[str, Place] = {}
    with contextlib.suppress(SitewatchError):  # no registry: the scanned sites alone still resolve
        known = {p.name: p for p in list_places()}
    for aoi in aois:
        place = aoi.as_place()
        registered = known.get(aoi.name)
        if registered is not None and not place.aliases:
            place = replace(place, aliases=registered.aliases, display_name=registered.display_name)
        known[aoi.name] = place
    return list(
        extract_claims(targets, published=published, places=list(known.values()), max_bytes=max_bytes)
    )
