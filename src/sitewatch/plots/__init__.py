"""Figures with matplotlib (Agg backend, files only): quicklooks, time-lapses, site composites.

What it offers
--------------
- :func:`rgb`, :func:`change_quicklook` : a quick three-panel picture of two images and a
  change mask (``sitewatch compare --quicklook``).
- :func:`site_stretch`, :class:`Stretch`, :func:`true_colour`, :func:`clear_composite` : one
  brightness stretch per site, so every picture of it compares.
- :func:`alert_quicklook`, :class:`QuicklookPanels`, :class:`RadarSeries` : the print-grade quicklook of an
  alert (with its Sentinel-1 time series when the scan used radar).
"""

from __future__ import annotations

from sitewatch.plots.quicklook import (
    OUTLINE_COLOUR,
    QuicklookFormat,
    QuicklookPanels,
    RadarSeries,
    alert_quicklook,
    imagery_credit,
)
from sitewatch.plots.simple import change_quicklook, rgb
from sitewatch.plots.stretch import RGB_BANDS, Stretch, clear_composite, site_stretch, true_colour

__all__ = [
    "OUTLINE_COLOUR",
    "RGB_BANDS",
    "QuicklookFormat",
    "QuicklookPanels",
    "RadarSeries",
    "Stretch",
    "alert_quicklook",
    "change_quicklook",
    "clear_composite",
    "imagery_credit",
    "rgb",
    "site_stretch",
    "true_colour",
]
