"""``sitewatch export``: alerts as KMZ/KML (Google Earth), GeoPackage (QGIS), CSV or GeoJSON."""

from __future__ import annotations

from pathlib import Path

import click

from sitewatch.export_formats import EXPORT_FORMATS


@click.command(name="export")
@click.argument("source", type=click.Path(exists=True, path_type=Path), metavar="RUN_DIR_OR_ALERTS_GEOJSON")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write; the format follows its extension (.kmz .kml .gpkg .csv .geojson).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=None,
    help="Force a format whatever the extension.",
)
@click.pass_context
def cli(ctx: click.Context, source: Path, out: Path, fmt: str | None) -> None:
    """Export the alerts of a run directory, a scan's folder or an alerts GeoJSON.

    KMZ: one folder per site, one placemark per alert styled by type, a balloon with the
    dates, measurements, confidence, reasons and the quicklook (inside the archive), and a
    time span from last unchanged to first detected for Google Earth's time slider.
    GeoPackage: layers ``alerts`` (typed columns, dates as dates), ``aois`` and, when reports
    were linked, ``claims`` with their verdicts.
    """
    from sitewatch.exports import export_alerts, read_alerts_source

    src = read_alerts_source(source)
    written = export_alerts(src, out, fmt=fmt)
    if not (ctx.find_root().obj or {}).get("quiet"):
        extra = f", {len(src.claims)} claims" if src.claims else ""
        click.echo(f"{len(src.alerts)} alerts{extra}: {written}")
