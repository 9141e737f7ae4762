"""``sitewatch aoi``: list and show the watched sites."""

from __future__ import annotations

from typing import Any

import click
import shapely

from sitewatch.aoi import list_aois, load_aoi
from sitewatch.cli.options import echo_json, echo_table, json_option
from sitewatch.types import AOI


def aoi_summary(aoi: AOI) -> dict[str, Any]:
    """The facts about an AOI that `aoi list` / `aoi show` print."""
    lon, lat = aoi.point if aoi.point else (None, None)
    return {
        "name": aoi.name,
        "display_name": aoi.display_name,
        "lat": None if lat is None else round(lat, 6),
        "lon": None if lon is None else round(lon, 6),
        "location_certainty": aoi.location_certainty,
        "search_radius_m": aoi.search_radius_m,
        "radius_m": aoi.radius_m,
        "area_km2": round(aoi.area_m2 / 1e6, 2),
        "utm_crs": aoi.utm_crs,
    }


@click.group(name="aoi")
def cli() -> None:
    """List and show the watched sites (areas of interest)."""


@cli.command(name="list")
@json_option
def list_command(as_json: bool) -> None:
    """List every watched site with its point and how sure it is."""
    rows = [aoi_summary(a) for a in list_aois()]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        if row["lat"] is None:
            row["lat"], row["lon"] = "-", "-"
        row["uncertainty"] = f"+/-{row['search_radius_m']:.0f} m" if row["search_radius_m"] else ""
    echo_table(rows, ["name", "display_name", "lat", "lon", "location_certainty", "uncertainty", "area_km2"])


@cli.command(name="show")
@click.argument("name")
@json_option
def show_command(name: str, as_json: bool) -> None:
    """Show one site (NAME, alias or GeoJSON file): location, area, sources, reported facts."""
    aoi = load_aoi(name)
    data = aoi_summary(aoi) | {
        "aliases": list(aoi.aliases),
        "bounds_wgs84": [round(v, 6) for v in aoi.bounds],
        "notes": aoi.notes,
        "sources": list(aoi.sources),
        "reported": list(aoi.reported),
        "path": aoi.path,
    }
    if as_json:
        data["geometry"] = shapely.geometry.mapping(aoi.geometry)
        echo_json(data)
        return
    for key, value in data.items():
        if key == "reported":
            click.echo("reported:")
            for fact in value:
                when = fact.get("when") or {}
                span = f" [{when.get('start')}..{when.get('end')}]" if when else ""
                click.echo(
                    f"  - {fact.get('what')}: {fact.get('value')} {fact.get('unit') or ''}{span}".rstrip()
                )
        elif isinstance(value, list):
            click.echo(f"{key}: {', '.join(str(v) for v in value)}")
        else:
            click.echo(f"{key}: {value}")
