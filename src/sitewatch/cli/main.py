"""The ``sitewatch`` click group: logging, versions, and one-line errors."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import click

import sitewatch
from sitewatch.cli.logs import setup_logging
from sitewatch.errors import SitewatchError
from sitewatch.redact import install_log_redaction, redact

__all__ = ["cli", "main"]

_NOT_COMMANDS = {"main", "options", "logs", "outputs"}


class SitewatchGroup(click.Group):
    """A click group that turns every :class:`SitewatchError` into one line on stderr and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SitewatchError as exc:
            click.echo(f"sitewatch: error: {redact(exc)}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("sitewatch: interrupted", err=True)
            ctx.exit(130)


@click.group(cls=SitewatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(sitewatch.__version__, "--version", prog_name="sitewatch")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="More log output: -v what was read, dropped, found and written; -vv debug; "
    "-vvv also the libraries' debug lines.",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="Errors only (ours and the libraries'); no progress or warnings."
)
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """sitewatch: watch places on Earth with Sentinel-2 and say what changed, with evidence."""
    setup_logging(verbose, quiet)
    install_log_redaction()  # credentials never reach a log line, ours or a library's
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet
    ctx.obj["verbose"] = verbose


def _register_commands() -> None:
    import sitewatch.cli as package

    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in _NOT_COMMANDS or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        command = getattr(module, "cli", None)
        if isinstance(command, click.Command):
            cli.add_command(command)


try:
    _register_commands()
except KeyboardInterrupt:  # Ctrl-C while the commands load (the first second): one line, as later
    click.echo("sitewatch: interrupted", err=True)
    raise SystemExit(130) from None


def main() -> None:
    """Entry point of the ``sitewatch`` console script."""
    cli(obj={})
