"""Open-source text reports: read, extract claims, link them to detections.

>>> from sitewatch.reports import extract_claims, link_claims   # doctest: +SKIP
>>> claims = extract_claims("reports/")                          # doctest: +SKIP
>>> links = link_claims(claims, alerts_collection)               # doctest: +SKIP
"""

from __future__ import annotations

from sitewatch.reports.brief_md import brief_markdown
from sitewatch.reports.cite import attach_links, cite_reports, links_document
from sitewatch.reports.claims import CLAIMS_VERSION, EVENTS, SITE_MATCHES, Claim, claims_document
from sitewatch.reports.dates import DateMention, find_dates
from sitewatch.reports.detections import alert_collections, load_alerts
from sitewatch.reports.extract import (
    extract_claims,
    extract_claims_for,
    extract_reports,
    extract_text_claims,
)
from sitewatch.reports.link import EVENT_CHANGE_TYPES, VERDICTS, Link, link_claims
from sitewatch.reports.places import PlaceMatcher, PlaceMention
from sitewatch.reports.quantities import Quantity, find_quantities
from sitewatch.reports.schema import CLAIMS_SCHEMA, load_claims
from sitewatch.reports.text import ReportText, load_index, read_report
from sitewatch.reports.verdict import VerdictRules
from sitewatch.reports.works import WORK_TYPES, works_named

__all__ = [
    "CLAIMS_SCHEMA",
    "CLAIMS_VERSION",
    "Claim",
    "DateMention",
    "EVENTS",
    "EVENT_CHANGE_TYPES",
    "Link",
    "PlaceMatcher",
    "PlaceMention",
    "Quantity",
    "ReportText",
    "SITE_MATCHES",
    "VERDICTS",
    "VerdictRules",
    "WORK_TYPES",
    "alert_collections",
    "attach_links",
    "brief_markdown",
    "cite_reports",
    "claims_document",
    "extract_claims",
    "extract_claims_for",
    "extract_reports",
    "extract_text_claims",
    "find_dates",
    "find_quantities",
    "link_claims",
    "links_document",
    "load_index",
    "load_alerts",
    "load_claims",
    "read_report",
    "works_named",
]
