"""``sitewatch brief``: the analyst's page for a run directory."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(name="brief")
@click.option(
    "--run",
    "run_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A run directory written by `sitewatch scan --all`.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the page (default: brief.html in the run directory).",
)
@click.option(
    "--tiles",
    metavar="URL",
    default=None,
    help="Tile URL template ({z}/{x}/{y}) offered as an optional online background layer.",
)
@click.option("--tiles-attribution", default="", help="Credit line for --tiles.")
@click.option("--open", "open_page", is_flag=True, help="Open the page in the default web browser.")
def cli(run_dir: Path, out: Path | None, tiles: str | None, tiles_attribution: str, open_page: bool) -> None:
    """Write one self-contained HTML page for a run: maps, alerts with quicklooks, timelines, verdicts.

    The page works offline (Leaflet is inlined, quicklooks are embedded) and can be mailed as one file.
    """
    from sitewatch import write_brief

    page = write_brief(run_dir, out=out, tiles=tiles, tiles_attribution=tiles_attribution)
    click.echo(str(page))
    if open_page:
        import webbrowser

        if not webbrowser.open(page.resolve().as_uri()):
            click.echo(f"sitewatch: warning: no web browser found; open {page} yourself", err=True)
