"""Links at the edge: the links file, and the claims that cite each alert (``scan --reports``)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from typing import Any

from sitewatch.reports.claims import CLAIMS_VERSION, Claim
from sitewatch.reports.link import Link, link_claims

__all__ = ["attach_links", "cite_reports", "links_document"]


def links_document(links: Sequence[Link], claims: Sequence[Claim] = ()) -> dict[str, Any]:
    """Wrap links into the links file (``{"sitewatch_links": ..., "links": [...]}``).

    Parameters
    ----------
    links : sequence of Link
    claims : sequence of Claim, optional
        Embedded so the file reads on its own (quote, site, interval of each claim).

    Returns
    -------
    dict
    """
    by_id = {c.id: c for c in claims}
    out = []
    for link in links:
        d = link.as_dict()
        claim = by_id.get(link.claim_id)
        if claim is not None:
            d["claim"] = {
                "quote": claim.quote.get("text"),
                "site_text": claim.site_text,
                "when": claim.when,
                "source": claim.source,
            }
        out.append(d)
    counts: dict[str, int] = {}
    for link in links:
        counts[link.verdict] = counts.get(link.verdict, 0) + 1
    return {"sitewatch_links": CLAIMS_VERSION, "summary": counts, "links": out}


def attach_links(
    collection: Mapping[str, Any], links: Sequence[Link], claims: Sequence[Claim] = ()
) -> dict[str, Any]:
    """Return a copy of an alerts collection with the claims that cite each alert in its properties.

    Each alert gains ``claims``: a list of ``{claim_id, verdict, event, quote, source, score}``
    (empty when no claim fits), which is what ``sitewatch scan --reports`` writes.

    Parameters
    ----------
    collection : mapping
        An alerts FeatureCollection.
    links : sequence of Link
        From :func:`link_claims`.
    claims : sequence of Claim, optional
        For the quotes.

    Returns
    -------
    dict
    """
    import copy

    by_id = {c.id: c for c in claims}
    doc = copy.deepcopy(dict(collection))
    cites: dict[str, list[dict[str, Any]]] = {}
    for link in links:
        for a in link.alerts:
            claim = by_id.get(link.claim_id)
            cites.setdefault(str(a["id"]), []).append(
                {
                    "claim_id": link.claim_id,
                    "verdict": link.verdict,
                    "event": link.event,
                    "score": a.get("score"),
                    "quote": claim.quote.get("text") if claim else None,
                    "source": claim.source.get("file") if claim else None,
                }
            )
    for feat in doc.get("features") or []:
        props = feat.setdefault("properties", {})
        props["claims"] = cites.get(str(props.get("id")), [])
    return doc


def cite_reports(
    collection: Mapping[str, Any],
    reports: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    aois: Sequence[Any],
    published: dt.date | str | None = None,
    tolerance_days: int = 15,
) -> tuple[dict[str, Any], list[Claim], list[Link]]:
    """Extract the claims of reports, link those about the scanned AOIs, and cite them in the alerts.

    This is what ``sitewatch scan --reports DIR`` does in one go.

    Parameters
    ----------
    collection : mapping
        An alerts FeatureCollection of a scan (its ``sitewatch`` member names the AOI).
    reports : path-like or sequence of path-like
        Report files or folders.
    aois : sequence of AOI
        The scanned areas (known as places even when they are user files).
    published : date or str, optional
        Publication date for reports that do not say it.
    tolerance_days : int
        Slack on dates when matching claims to alerts.

    Returns
    -------
    collection : dict
        A copy of ``collection`` whose alerts carry ``properties.claims`` (see :func:`attach_links`).
    claims : list of Claim
        Every claim about the scanned AOIs.
    links : list of Link
        One per claim, with its verdict.

    Raises
    ------
    ReportError
        If a report path is missing or unreadable.
    """
    from sitewatch.reports.extract import extract_claims_for

    names = {aoi.name for aoi in aois}
    claims = [c for c in extract_claims_for(reports, aois, published=published) if c.site in names]
    links = link_claims(claims, collection, tolerance_days=tolerance_days) if claims else []
    return attach_links(collection, links, claims), claims, links
