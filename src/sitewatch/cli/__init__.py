"""The ``sitewatch`` command line: a thin layer over the public API.

Each command lives in its own module of this package and exposes a click
command named ``cli``; :mod:`sitewatch.cli.main` finds and registers them.
"""
