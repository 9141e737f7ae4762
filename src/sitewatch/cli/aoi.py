"""``sitewatch aoi``: list and show the watched sites."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from sitewatch.cli.options import echo_json, echo_table, json_option

if TYPE_CHECKING:
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
    from sitewatch.aoi import list_aois

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
    import shapely

    from sitewatch.aoi import load_aoi

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
                click.echo(f"  - {format_fact(fact)}")
        elif value is None or value == []:
            click.echo(f"{key}: -")
        elif isinstance(value, list):
            click.echo(f"{key}: {', '.join(str(v) for v in value)}")
        else:
            click.echo(f"{key}: {value}")


def _quantity(value: Any, unit: str | None) -> str:
    """A reported value as a person writes it: ``193 x 94 m``, ``1,800,000 m2``, ``30,000 m``."""
    if value is None:
        return ""
    if isinstance(value, dict):
        dims = [value[k] for k in ("length_m", "width_m") if value.get(k) is not None]
        if dims and len(dims) == len(value):
            return " x ".join(f"{d:,.0f}" for d in dims) + " m"
        return ", ".join(f"{k} {_quantity(v, None)}" for k, v in value.items())
    if isinstance(value, (int, float)):
        text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
        return f"{text} {unit}" if unit else text
    return f"{value} {unit}" if unit else str(value)


def format_fact(fact: dict[str, Any]) -> str:
    """One reported fact of an AOI on one line: what, the value with its unit, when, and a note.

    Examples
    --------
    >>> format_fact({"what": "pad", "value": {"length_m": 193, "width_m": 94}, "unit": "m",
    ...              "when": {"start": "2025-01-01", "end": "2025-04-30"}})
    'pad: 193 x 94 m (2025-01-01 to 2025-04-30)'
    >>> format_fact({"what": "convoy", "value": None, "when": {"start": "2025-09-28", "end": "2025-09-28"}})
    'convoy (2025-09-28)'
    """
    text = str(fact.get("what") or "fact")
    quantity = _quantity(fact.get("value"), fact.get("unit"))
    if quantity:
        text += f": {quantity}"
    when = fact.get("when") or {}
    start, end = when.get("start"), when.get("end")
    if start and end and start != end:
        text += f" ({start} to {end})"
    elif start or end:
        text += f" ({start or end})"
    if fact.get("note"):
        text += f"; {fact['note']}"
    return text
