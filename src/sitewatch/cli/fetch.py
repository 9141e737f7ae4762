"""``sitewatch fetch``: fill the imagery cache for an AOI from a remote source."""

from __future__ import annotations

import datetime as dt

import click

from sitewatch.cli.options import date_type, echo_json, json_option, set_network_timeout

BANDS_HELP = "Comma-separated bands (default B02,B03,B04,B08,B8A,B11,B12,SCL)."


@click.command(name="fetch")
@click.option(
    "--aoi", "aoi_name", required=True, metavar="NAME|FILE", help="A watched site or a GeoJSON file."
)
@click.option(
    "--source",
    default="earth-search",
    show_default=True,
    metavar="SPEC",
    help="earth-search, stac:URL#COLLECTION, cdse-stac, sentinelhub or cdse.",
)
@click.option("--start", type=date_type, help="First date (YYYY-MM-DD); default a year before --end.")
@click.option("--end", type=date_type, help="Last date (YYYY-MM-DD); default today.")
@click.option("--max-cloud", type=click.FloatRange(0, 1), help="Skip scenes with more cloud cover (0..1).")
@click.option("--bands", metavar="LIST", help=BANDS_HELP)
@click.option(
    "--resolution", "resolution_m", type=float, default=10.0, show_default=True, help="Pixel size (m)."
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=str),
    help="Cache root (default $SITEWATCH_CACHE or the user cache directory).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Network read timeout per request (default 30, or $SITEWATCH_TIMEOUT); 3 tries in all.",
)
@click.option(
    "--retry-unavailable",
    is_flag=True,
    help="Try again scenes the service answered 404/410 for (otherwise skipped for 7 days).",
)
@json_option
def cli(
    aoi_name: str,
    source: str,
    start: dt.date | None,
    end: dt.date | None,
    max_cloud: float | None,
    bands: str | None,
    resolution_m: float,
    cache_dir: str | None,
    timeout_s: float | None,
    retry_unavailable: bool,
    as_json: bool,
) -> None:
    """Fetch an AOI's Sentinel-2 series into the cache; a rerun fetches only new scenes.

    Credentials for sentinelhub/cdse come from SH_CLIENT_ID and SH_CLIENT_SECRET
    (SH_BASE_URL and SH_TOKEN_URL point at another deployment); they are never printed
    or stored.
    """
    from sitewatch.aoi import load_aoi
    from sitewatch.providers.cache import fetch_series
    from sitewatch.types import check_date_order

    check_date_order(start, end)
    set_network_timeout(timeout_s)
    aoi = load_aoi(aoi_name)
    band_list = [b.strip() for b in bands.split(",") if b.strip()] if bands else None
    from sitewatch.cli.logs import count_progress

    with count_progress(f"fetch {aoi.name}", "scene") as progress:
        report = fetch_series(
            aoi,
            source=source,
            start=start,
            end=end,
            max_cloud_fraction=max_cloud,
            bands=band_list,
            resolution_m=resolution_m,
            cache_dir=cache_dir,
            progress=progress,
            retry_unavailable=retry_unavailable,
        )
    if as_json:
        echo_json({**report.__dict__, "path": str(report.path)})
        return
    click.echo(
        f"{report.aoi}: {report.n_found} scene(s) at {report.source}; fetched {report.scenes_fetched}, "
        f"already cached {report.scenes_cached}"
        + (f", unavailable {report.scenes_unavailable}" if report.scenes_unavailable else "")
    )
    click.echo(f"cache: {report.path}")
