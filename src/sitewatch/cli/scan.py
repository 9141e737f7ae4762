"""``sitewatch scan``: watch an AOI through a Sentinel-2 time series and write typed, dated alerts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from sitewatch import ExecutionOptions, HistoryParams, ObjectParams, ScanParams
from sitewatch.cli._batch import batch_options, run_batch
from sitewatch.cli.options import date_type, echo_json, json_option

# every default comes from the options dataclasses, never written here
_SCAN = ScanParams()
_OBJECTS = ObjectParams()
_HISTORY = HistoryParams()
_EXECUTION = ExecutionOptions()


@click.command(name="scan")
@click.option("--aoi", "aoi_name", metavar="NAME|FILE", help="A watched site or a GeoJSON file.")
@click.option(
    "--source",
    required=True,
    metavar="SOURCE",
    help="Imagery: local:DIR (scenes on disk), earth-search, sentinelhub, cdse or stac:URL#collection.",
)
@click.option("--start", type=date_type, required=True, help="First day (YYYY-MM-DD).")
@click.option("--end", type=date_type, required=True, help="Last day (YYYY-MM-DD).")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Alerts GeoJSON (RFC 7946, WGS84) to write [default: alerts.geojson].",
)
@click.option(
    "--quicklooks",
    "quicklooks_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for one PNG per alert (before, after, change; alert outlined; dates in the title).",
)
@click.option(
    "--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Imagery cache."
)
@click.option(
    "--min-clear-fraction",
    type=click.FloatRange(0, 1),
    default=_SCAN.min_clear_fraction,
    show_default=True,
    help="Drop scenes whose clear share of the AOI is below this.",
)
@click.option(
    "--min-area-m2",
    type=click.FloatRange(min=0),
    default=_OBJECTS.min_area_m2,
    show_default=True,
    help="Smallest object reported.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(min=0.5),
    default=_HISTORY.threshold,
    show_default=True,
    help="Change score (noise units) an observation must exceed to count as changed.",
)
@click.option(
    "--chunk-px",
    type=click.IntRange(min=16),
    default=_EXECUTION.chunk_px,
    show_default=True,
    help="AOIs larger than this many pixels a side are read and scanned block by block "
    "(memory bounded whatever the AOI size; objects are never cut at block edges).",
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
    start: dt.date,
    end: dt.date,
    out: Path | None,
    quicklooks_dir: Path | None,
    cache_dir: Path | None,
    min_clear_fraction: float,
    min_area_m2: float,
    threshold: float,
    chunk_px: int,
    sar: str | None,
    as_json: bool,
    all_aois: bool,
    **batch: Any,
) -> None:
    """Scan an AOI from START to END and write its alerts.

    Every scene is masked (clouds, shadows, no data), co-registered, and followed pixel by
    pixel against a baseline that knows the seasons; a change is confirmed only when it
    persists on two consecutive clear observations. Changed areas are measured and typed
    (new_pad, runway_change, evacuation, earthworks, other) with a confidence.
    """
    from dataclasses import replace

    from sitewatch import scan
    from sitewatch.errors import ConfigError

    if end < start:
        raise ConfigError(f"--end {end} is before --start {start}")
    params = replace(
        _SCAN,
        min_clear_fraction=min_clear_fraction,
        history=replace(_HISTORY, threshold=threshold),
        objects=replace(_OBJECTS, min_area_m2=min_area_m2),
    )
    execution = replace(_EXECUTION, chunk_px=chunk_px)
    if all_aois:
        run_batch(
            ctx,
            source=source,
            start=start,
            end=end,
            params=params,
            execution=execution,
            cache_dir=str(cache_dir) if cache_dir else None,
            sar=sar,
            **batch,
        )
        return
    if not aoi_name:
        raise click.UsageError("give --aoi NAME|FILE (or --all to scan every watched site)")
    reports_dir = batch.get("reports_dir")
    if reports_dir is not None and not Path(reports_dir).exists():
        raise ConfigError(f"reports folder {reports_dir} does not exist")
    result = scan(
        aoi_name,
        source,
        start=start,
        end=end,
        params=params,
        execution=execution,
        cache_dir=cache_dir,
        sar=sar,
    )
    written = result.write(
        out or Path("alerts.geojson"),
        quicklooks=quicklooks_dir if quicklooks_dir is not None else False,
        reports_dir=reports_dir,
        as_file=True,
    )
    if as_json:
        echo_json(written.collection)
        return
    quiet = bool((ctx.find_root().obj or {}).get("quiet"))
    if quiet:
        return
    click.echo(summary(result, written.geojson))
    if reports_dir is not None:
        click.echo(reports_summary(written.links, written.geojson))


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
