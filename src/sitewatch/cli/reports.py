"""``sitewatch reports``: extract claims from text reports and link them to detected changes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from sitewatch.cli.options import date_type
from sitewatch.fileio import atomic_write_text


def _write_json(doc: Any, out: Path | None) -> None:
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    if out is None:
        click.echo(text)
        return
    atomic_write_text(out, text + "\n")


@click.group(name="reports")
def cli() -> None:
    """Read open-source reports: extract claims, check them against detected changes."""


@cli.command(name="extract")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--published",
    type=date_type,
    default=None,
    metavar="YYYY-MM-DD",
    help="Publication date of the reports (else index.json beside them, else a dateline).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the claims JSON here (default: stdout).",
)
def extract_command(paths: tuple[Path, ...], published: dt.date | None, out: Path | None) -> None:
    """Extract claims (place, event, interval, sizes, denials/doubts) from FILE_OR_DIR... .

    Reports are plain text or HTML page captures in any common encoding.
    """
    from sitewatch.reports import claims_document, extract_reports

    claims, sources = extract_reports(list(paths), published=published)
    _write_json(claims_document(claims, sources), out)
    if out is not None:
        sites = sorted({c.site for c in claims if c.site})
        click.echo(f"{len(claims)} claims about {len(sites)} places -> {out}", err=True)


@cli.command(name="link")
@click.option(
    "--claims",
    "claims_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Claims JSON from `sitewatch reports extract`.",
)
@click.option(
    "--alerts",
    "alerts_paths",
    required=True,
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help=(
        "Detections: alerts GeoJSON of `sitewatch scan`, a run's merged alerts.geojson of `scan --all`, "
        "or the GeoJSON of `sitewatch compare` (repeat for several)."
    ),
)
@click.option(
    "--aoi",
    "aoi",
    default=None,
    metavar="NAME|FILE",
    help=(
        "The site a `compare` result is about (it names none); without it, the one registered site its "
        "changes lie in. Scans and runs name their own sites."
    ),
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the links JSON here (default: stdout).",
)
@click.option(
    "--markdown",
    "markdown",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write a per-site Markdown brief (timeline of claims and detections).",
)
@click.option(
    "--tolerance-days",
    type=click.IntRange(0, 365),
    default=15,
    show_default=True,
    help="Slack on the claimed interval when matching alert dates.",
)
@click.option(
    "--min-clear-fraction",
    type=click.FloatRange(0, 1),
    default=0.5,
    show_default=True,
    help="A scene counts as clear from this clear share of the AOI.",
)
def link_command(
    claims_path: Path,
    alerts_paths: tuple[Path, ...],
    aoi: str | None,
    out: Path | None,
    markdown: Path | None,
    tolerance_days: int,
    min_clear_fraction: float,
) -> None:
    """Give each claim a verdict: supported, partly_supported, contradicted, not_visible, no_clear_imagery.

    A claim is supported only when every part it states fits (the kind of work, each size, the date,
    the place); partly_supported lists what fits and what stays unverified.
    """
    from sitewatch.reports import brief_markdown, link_claims, links_document, load_alerts, load_claims

    claims = load_claims(claims_path)
    site = None
    if aoi is not None:
        from sitewatch.aoi import load_aoi

        site = load_aoi(aoi).name
    collections = [load_alerts(p, aoi=site) for p in alerts_paths]
    for p, doc in zip(alerts_paths, collections, strict=True):
        quiet = bool((click.get_current_context().obj or {}).get("quiet"))
        if doc["sitewatch"].get("aoi_from") == "footprint" and not quiet:
            click.echo(
                f"{p}: a `compare` result with no site of its own; its changes lie in "
                f"{doc['sitewatch']['aoi']}, linked as that site (--aoi to name another)",
                err=True,
            )
    links = link_claims(
        claims, collections, tolerance_days=tolerance_days, min_clear_fraction=min_clear_fraction
    )
    doc = links_document(links, claims)
    _write_json(doc, out)
    if markdown is not None:
        atomic_write_text(markdown, brief_markdown(claims, links, collections))
    if out is not None or markdown is not None:
        summary = ", ".join(f"{k} {v}" for k, v in sorted(doc["summary"].items())) or "no claims"
        click.echo(f"{len(links)} claims linked: {summary}", err=True)
