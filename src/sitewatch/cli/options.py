"""Options shared by several commands."""

from __future__ import annotations

import datetime as dt
import importlib
import json
from typing import Any

import click

__all__ = ["DefaultFrom", "aoi_option", "date_type", "echo_json", "json_option", "set_network_timeout"]


class DefaultFrom(click.Option):
    """An option whose default is read from an options dataclass only when it is needed.

    ``default_from="sitewatch.pipeline.options:ScanParams.min_clear_fraction"``: the
    dataclass stays the one place of the default (never written in the CLI), and its module
    (with xarray, dask...) is imported only when the command runs or shows its own help, so
    ``sitewatch --help`` stays fast.
    """

    def __init__(self, *args: Any, default_from: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_from = default_from

    def get_default(self, ctx: click.Context, call: bool = True) -> Any:
        """The default, read from its dataclass now."""
        module, _, path = self.default_from.partition(":")
        owner, *attrs = path.split(".")
        value: Any = getattr(importlib.import_module(module), owner)()
        for attr in attrs:
            value = getattr(value, attr)
        return value


class DateType(click.ParamType):
    """A calendar date written ``YYYY-MM-DD``."""

    name = "date"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date in YYYY-MM-DD form", param, ctx)


date_type = DateType()

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
aoi_option = click.option(
    "--aoi",
    "aoi_name",
    metavar="NAME|FILE",
    help="A watched site (see `sitewatch aoi list`) or a GeoJSON file.",
)


def echo_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def echo_table(rows: list[dict[str, Any]], columns: list[str]) -> None:
    """Print rows as a plain aligned text table."""
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def set_network_timeout(timeout_s: float | None) -> None:
    """Make ``--timeout`` the read timeout of every provider this command (and its workers) opens.

    The setting travels in ``$SITEWATCH_TIMEOUT`` (see :mod:`sitewatch.providers.network`), so
    worker processes of a batch run inherit it too.
    """
    if timeout_s is not None:
        import os

        from sitewatch.providers.network import TIMEOUT_ENV

        os.environ[TIMEOUT_ENV] = f"{timeout_s:g}"
