"""``sitewatch cache``: list and remove cached imagery."""

from __future__ import annotations

import click

from sitewatch.cli.options import echo_json, echo_table, json_option

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=str),
    help="Cache root (default $SITEWATCH_CACHE or the user cache directory).",
)


@click.group(name="cache")
def cli() -> None:
    """List and remove the imagery cached per AOI by remote sources."""


@cli.command(name="ls")
@click.option("--aoi", "aoi_name", metavar="NAME", help="Only this AOI.")
@cache_dir_option
@json_option
def ls_command(aoi_name: str | None, cache_dir: str | None, as_json: bool) -> None:
    """List cached AOIs: grid, scenes, date range, bands, sources, size."""
    from sitewatch.providers.cache import cache_entries, cache_root

    rows = cache_entries(aoi_name=aoi_name, cache_dir=cache_dir)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo(f"nothing cached under {cache_root(cache_dir)}" + (f" for {aoi_name}" if aoi_name else ""))
        return
    for row in rows:
        row["size_mb"] = round(row["bytes"] / 1e6, 1)
    echo_table(rows, ["aoi", "grid", "n_scenes", "first", "last", "size_mb", "bands", "sources"])


@cli.command(name="rm")
@click.option("--aoi", "aoi_name", required=True, metavar="NAME", help="The AOI whose cache to delete.")
@cache_dir_option
def rm_command(aoi_name: str, cache_dir: str | None) -> None:
    """Delete everything cached for an AOI (the next scan fetches it again)."""
    from sitewatch.providers.cache import remove_cache

    freed = remove_cache(aoi_name, cache_dir=cache_dir)
    click.echo(f"removed the cache of {aoi_name} ({freed / 1e6:.1f} MB)")
