"""``sitewatch scan``: watch an AOI through a Sentinel-2 time series and write typed, dated alerts."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any, Literal

import click

from sitewatch.cli._batch import batch_options, run_batch
from sitewatch.cli.options import DefaultFrom, date_type, echo_json, json_option, set_network_timeout
from sitewatch.export_formats import format_for

# every default comes from the options dataclasses (read when needed), never written here
_SCAN = "sitewatch.pipeline.options:ScanParams"
_HISTORY = "sitewatch.pipeline.options:ScanParams.history"
_OBJECTS = "sitewatch.pipeline.options:ScanParams.objects"
_EXECUTION = "sitewatch.pipeline.options:ExecutionOptions"

log = logging.getLogger("sitewatch.cli.scan")

#: ``scan --all`` without --start reads this many days before --end (a year: every season once).
BATCH_DEFAULT_DAYS = 365


@click.command(name="scan")
@click.option("--aoi", "aoi_name", metavar="NAME|FILE", help="A watched site or a GeoJSON file.")
@click.option(
    "--source",
    required=True,
    metavar="SOURCE",
    help="Imagery: local:DIR (scenes on disk), earth-search, sentinelhub, cdse or stac:URL#collection.",
)
@click.option(
    "--start",
    type=date_type,
    default=None,
    help="First day (YYYY-MM-DD); with --all optional: a year before --end "
    "(with --since-last each site starts after the previous run's last scene).",
)
@click.option(
    "--end", type=date_type, default=None, help="Last day (YYYY-MM-DD); with --all optional: today."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Alerts file to write [default: alerts.geojson]; .kmz, .kml, .gpkg or .csv export the alerts "
    "in that format too (the GeoJSON is written beside it, the collection of record).",
)
@click.option(
    "--quicklooks",
    "quicklooks_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for one PNG per alert (before, after, change; alert outlined; dates in the title).",
)
@click.option(
    "--quicklook-format",
    type=click.Choice(["png", "pdf", "svg"]),
    default="png",
    show_default=True,
    help="Format of the quicklooks (PNG at 200 dpi; PDF and SVG for print layouts).",
)
@click.option(
    "--timelapse",
    is_flag=True,
    help="Also write <quicklooks>/<alert id>.gif: every clear date from a few months before the "
    "change to a few months after, dated and outlined, on one stretch (implies quicklooks).",
)
@click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Imagery cache."
)
@click.option(
    "--min-clear-fraction",
    type=click.FloatRange(0, 1),
    cls=DefaultFrom,
    default_from=f"{_SCAN}.min_clear_fraction",
    show_default=True,
    help="Drop scenes whose clear share of the AOI is below this.",
)
@click.option(
    "--min-area-m2",
    type=click.FloatRange(min=0),
    cls=DefaultFrom,
    default_from=f"{_OBJECTS}.min_area_m2",
    show_default=True,
    help="Smallest object reported.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0.5),
    cls=DefaultFrom,
    default_from=f"{_HISTORY}.threshold",
    show_default=True,
    help="Change score (noise units) an observation must exceed to count as changed.",
)
@click.option(
    "--chunk-px",
    type=click.IntRange(min=16),
    cls=DefaultFrom,
    default_from=f"{_EXECUTION}.chunk_px",
    show_default=True,
    help="AOIs larger than this many pixels a side are read and scanned block by block "
    "(memory bounded whatever the AOI size; objects are never cut at block edges).",
)
@click.option(
    "--overwrite",
    is_flag=True,
    help="Replace an --out file or --quicklooks folder that holds another scan's output "
    "(rerunning the same scan replaces its own output without it).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Scan an AOI beyond the size guard's limit (12,000 px a side) anyway.",
)
@click.option(
    "--timeout",
    "network_timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Network read timeout per request (default 30, or $SITEWATCH_TIMEOUT); 3 tries in all.",
)
@click.option(
    "--sar",
    metavar="SOURCE",
    default=None,
    help="Sentinel-1 radar: local:DIR, cdse, sentinelhub or stac:URL#collection. Every alert gains "
    "corroboration.sar; radar-only candidates fill cloudy spells.",
)
@json_option
@batch_options
@click.pass_context
def cli(
    ctx: click.Context,
    aoi_name: str | None,
    source: str,
    start: dt.date | None,
    end: dt.date | None,
    out: Path | None,
    quicklooks_dir: Path | None,
    quicklook_format: Literal["png", "pdf", "svg"],
    timelapse: bool,
    cache_dir: Path | None,
    min_clear_fraction: float,
    min_area_m2: float,
    threshold: float,
    chunk_px: int,
    overwrite: bool,
    force: bool,
    network_timeout_s: float | None,
    sar: str | None,
    as_json: bool,
    all_aois: bool,
    **batch: Any,
) -> None:
    """Scan an AOI from START to END and write its alerts.

    Every scene is masked (clouds, shadows, no data), co-registered, and followed pixel by
    pixel against a baseline that knows the seasons; a change is confirmed only when it
    persists on two consecutive clear observations. Changed areas are measured and typed
    (new_pad, runway_change, evacuation, earthworks, vegetation_loss, other) with a confidence.
    """
    from dataclasses import replace

    from sitewatch import ExecutionOptions, ScanParams, load_aoi, scan
    from sitewatch.cli.logs import scan_progress
    from sitewatch.cli.outputs import check_alerts_file, claim_folder
    from sitewatch.errors import ConfigError

    if all_aois:
        end = end or dt.date.today()
        start = start or end - dt.timedelta(days=BATCH_DEFAULT_DAYS)
    elif start is None or end is None:
        raise click.UsageError("give --start and --end (YYYY-MM-DD) of the scan")
    if end < start:
        raise ConfigError(f"--end {end} is before --start {start}")
    defaults = ScanParams()
    params = replace(
        defaults,
        min_clear_fraction=min_clear_fraction,
        history=replace(defaults.history, threshold=threshold),
        objects=replace(defaults.objects, min_area_m2=min_area_m2),
    )
    execution = replace(ExecutionOptions(), chunk_px=chunk_px, force=force)
    set_network_timeout(network_timeout_s)
    if all_aois:
        if overwrite:
            raise click.UsageError(
                "--overwrite does not apply to --all: runs are kept; choose a new --out-dir"
            )
        run_batch(
            ctx,
            source=source,
            start=start,
            end=end,
            params=params,
            execution=execution,
            cache_dir=str(cache_dir) if cache_dir else None,
            quicklook_format=quicklook_format,
            timelapse=timelapse,
            sar=sar,
            **batch,
        )
        return
    if not aoi_name:
        raise click.UsageError("give --aoi NAME|FILE (or --all to scan every watched site)")
    reports_dir = batch.get("reports_dir")
    if reports_dir is not None and not Path(reports_dir).exists():
        raise ConfigError(f"reports folder {reports_dir} does not exist")
    aoi = load_aoi(aoi_name)
    target = out or Path("alerts.geojson")
    fmt = format_for(target)
    # another format is written from the GeoJSON beside it
    out = target if fmt == "geojson" else target.with_suffix(".geojson")
    if timelapse and quicklooks_dir is None:
        quicklooks_dir = target.parent / "quicklooks"
    # checked before the scan: a refusal costs nothing, and nothing is half replaced
    check_alerts_file(
        out, {"aoi": aoi.name, "start": start.isoformat(), "end": end.isoformat()}, overwrite=overwrite
    )
    claim = (
        claim_folder(
            quicklooks_dir,
            "scan",
            {"alerts": str(out.resolve())},
            overwrite=overwrite,
            ours=["*.png", "*.pdf", "*.svg", "*.gif"],
        )
        if quicklooks_dir is not None
        else None
    )
    with scan_progress(aoi.name, ctx) as on_event:
        result = scan(
            aoi,
            source,
            start=start,
            end=end,
            params=params,
            execution=execution,
            cache_dir=cache_dir,
            on_event=on_event,
            sar=sar,
        )
    if claim is not None:
        claim.clear()
    written = result.write(
        out,
        quicklooks=quicklooks_dir if quicklooks_dir is not None else False,
        reports_dir=reports_dir,
        as_file=True,
        quicklook_format=quicklook_format,
        timelapse=timelapse,
    )
    if claim is not None:
        claim.record(quicklook_files(written.result, out))
    if fmt != "geojson":
        from sitewatch.exports import export_alerts, read_alerts_source

        export_alerts(read_alerts_source(written.geojson), target)
    log_outcome(written)
    if as_json:
        echo_json(written.collection)
        return
    quiet = bool((ctx.find_root().obj or {}).get("quiet"))
    if quiet:
        return
    click.echo(summary(result, written.geojson))
    if fmt != "geojson":
        click.echo(f"export: {target}")
    if reports_dir is not None:
        click.echo(reports_summary(written.links, written.geojson))


def quicklook_files(result: Any, alerts_path: Path) -> list[Path]:
    """The quicklook PNGs the alerts of ``result`` point at (their paths are relative to the alerts)."""
    return [alerts_path.parent / a.quicklook for a in result.alerts if getattr(a, "quicklook", None)]


def log_outcome(written: Any) -> None:
    """``-v`` lines: what the scan read, dropped, found and wrote."""
    result = written.result
    log.info(
        "%s: read %d scene(s) from %s, used %d, AOI coverage %.0f%%",
        result.aoi.name,
        len(result.scenes_used) + len(result.scenes_dropped),
        result.source,
        len(result.scenes_used),
        100 * result.coverage,
    )
    for dropped in result.scenes_dropped:
        log.info("dropped %s (%s): %s", dropped.get("id"), dropped.get("date"), dropped.get("reason"))
    for used in result.scenes_used:
        log.debug("used %s (%s): %s", used.get("id"), used.get("date"), used)
    log.info("found %d alert(s)", len(result.alerts))
    for alert in result.alerts:
        log.info("  %s %s first detected %s", alert.id, alert.change_type, alert.first_detected)
    log.info("wrote %s", written.geojson)
    for path in (written.claims_path, written.links_path):
        if path is not None:
            log.info("wrote %s", path)
    n_quicklooks = sum(1 for a in result.alerts if getattr(a, "quicklook", None))
    if n_quicklooks:
        log.info("wrote %d quicklook(s)", n_quicklooks)


def _beside(path: Path, kind: str) -> Path:
    return path.with_name(f"{path.stem}.{kind}.json")


def reports_summary(links: list[Any], out: Path) -> str:
    """One line per verdict count, and where the claims and links were written."""
    from collections import Counter

    counts = Counter(link.verdict for link in links)
    verdicts = ", ".join(f"{n} {v}" for v, n in sorted(counts.items())) or "none"
    return (
        f"reports: {len(links)} claim(s) about this site ({verdicts})\n"
        f"claims: {_beside(out, 'claims')}\nlinks:  {_beside(out, 'links')}"
    )


def summary(result: Any, path: Path | None = None) -> str:
    """A short text summary of a scan result (scenes, alerts, where the files are)."""
    lines = [
        f"{'SIMULATED ' if result.simulated else ''}scan of {result.aoi.name} ({result.source}), "
        f"{result.start or 'first'} to {result.end or 'last'}: {len(result.scenes_used)} scenes used, "
        f"{len(result.scenes_dropped)} dropped, AOI coverage {result.coverage:.0%}",
    ]
    lines += [f"  note: {m}" for m in result.messages]
    if not result.alerts:
        lines.append("no alerts")
    for a in result.alerts:
        size = f"{a.length_m:.0f} m x {a.width_m:.0f} m, {a.area_m2:,.0f} m2"
        extra = ""
        if a.added_length_m:
            extra = f", +{a.added_length_m:.0f} m"
        if a.fraction_affected is not None:
            extra = f", {a.fraction_affected:.0%} of the facility"
        if a.corroboration_sar is not None:
            extra += f", radar {a.corroboration_sar.verdict}"
        kind = (
            ("SAR-only " if a.source == "sar" else "")
            + a.change_type
            + (f" ({a.detail})" if a.detail else "")
        )
        lines.append(
            f"  {a.first_detected}  {kind}  {size}{extra}  "
            f"{a.status}, confidence {a.confidence:.2f}  (last unchanged {a.last_unchanged})  {a.id}"
        )
    if path is not None:
        lines.append(f"alerts: {path}")
    return "\n".join(lines)
