"""``sitewatch scenes``: list the scenes a folder holds."""

from __future__ import annotations

import warnings

import click

from sitewatch.cli.options import aoi_option, echo_json, echo_table, json_option
from sitewatch.errors import DataWarning


@click.command(name="scenes")
@click.argument("path", type=click.Path(path_type=str))
@aoi_option
@json_option
def cli(path: str, aoi_name: str | None, as_json: bool) -> None:
    """List the Sentinel-2 scenes under PATH: date, bands, size, CRS and AOI coverage."""
    import shapely

    from sitewatch.aoi import load_aoi
    from sitewatch.providers.local import aoi_coverage, find_scenes

    aoi = load_aoi(aoi_name) if aoi_name else None
    rows = []
    footprints = []
    for scene in find_scenes(path):
        row = {
            "date": scene.date.isoformat(),
            "id": scene.id,
            "level": scene.processing_level or "?",
            "n_bands": len(scene.bands),
            "bands": ",".join(scene.bands),
            "size": f"{scene.shape[0]}x{scene.shape[1]}" if scene.shape else "?",
            "crs": scene.crs if scene.crs and len(scene.crs) < 24 else "custom",
        }
        if aoi is not None:
            footprint = scene.footprint()
            row["aoi_covered"] = round(aoi_coverage(aoi, footprint), 3)
            if footprint is not None:
                footprints.append(footprint)
        rows.append(row)
    if aoi is not None and rows and not any(row["aoi_covered"] for row in rows):
        extent = shapely.union_all(footprints).bounds if footprints else None
        where = (
            "the scenes cover lon/lat " + ", ".join(f"{v:.4f}" for v in extent)
            if extent
            else "no scene is georeferenced"
        )
        warnings.warn(
            f"no scene under {path} overlaps AOI {aoi.name!r} "
            f"(lon/lat {', '.join(f'{v:.4f}' for v in aoi.bounds)}); {where}",
            DataWarning,
            stacklevel=1,
        )
    if as_json:
        echo_json(rows)
        return
    columns = ["date", "id", "level", "n_bands", "size", "crs", *(["aoi_covered"] if aoi else []), "bands"]
    echo_table(rows, columns)
    click.echo(f"{len(rows)} scene(s)")
