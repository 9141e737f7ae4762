"""The pictures of a scan: quicklooks, time-lapses and the site's before/after composites.

This is where a :class:`~sitewatch.pipeline.result.ScanResult`'s rasters become what
:mod:`sitewatch.plots` draws: one :class:`SiteImagery` per result (the common stretch,
the grid, the before and after clear composites), and per alert its window, its dates and
its published outline in the grid's CRS. Nothing here decides what an alert is; it only
shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sitewatch.alerts import Alert
from sitewatch.plots import (
    QuicklookPanels,
    RadarSeries,
    Stretch,
    alert_quicklook,
    clear_composite,
    site_stretch,
)
from sitewatch.types import transform_geometry

if TYPE_CHECKING:
    from sitewatch.pipeline.result import ScanResult

__all__ = [
    "CLEAR_WINDOW_FRACTION",
    "PANEL_CLEAR_FRACTION",
    "TIMELAPSE_MARGIN_DAYS",
    "SiteImagery",
    "alert_panels",
    "alert_window",
    "clear_dates",
    "radar_series",
    "site_imagery",
    "timelapse_dates",
    "write_alert_quicklook",
    "write_alert_timelapse",
    "write_site_composites",
]

#: A date is clear over an alert's window when this share of the window's pixels is clear.
CLEAR_WINDOW_FRACTION = 0.9
#: A quicklook panel's date is clear when this share of its (larger) window is: a cloud at the
#: edge of a panel takes the eye even when it is a few percent of it.
PANEL_CLEAR_FRACTION = 0.98
#: A time-lapse runs from this many days before ``last_unchanged`` to as many after ``first_detected``.
TIMELAPSE_MARGIN_DAYS = 90
#: The smallest quicklook window (pixels a side): enough ground around a pad to read it.
MIN_WINDOW_PX = 64
#: The window is this many times the object's larger extent (context around a thin strip).
WINDOW_SCALE = 2.2


@dataclass(frozen=True)
class SiteImagery:
    """What every picture of one scan shares.

    Attributes
    ----------
    stretch : Stretch
        The site's common stretch (:func:`sitewatch.plots.site_stretch`).
    crs : str
        The grid's CRS (WKT or EPSG code).
    crs_label : str
        For axis labels, e.g. ``"WGS 84 / UTM zone 37N"``.
    xs, ys : numpy.ndarray
        Pixel-centre coordinates of the grid (metres).
    res : float
        Pixel size (metres).
    days : numpy.ndarray
        ``datetime64[D]`` of the stack's dates.
    before, after : numpy.ndarray
        ``(y, x, 3)`` composites of the first and last third of the series, 0..1 on the stretch.
    """

    stretch: Stretch
    crs: str
    crs_label: str
    xs: np.ndarray
    ys: np.ndarray
    res: float
    days: np.ndarray
    before: np.ndarray
    after: np.ndarray

    def extent(self, r0: int, r1: int, c0: int, c1: int) -> tuple[float, float, float, float]:
        """``(left, right, bottom, top)`` of rows ``r0:r1``, columns ``c0:c1`` (pixel edges)."""
        h = self.res / 2
        return (
            float(self.xs[c0] - h),
            float(self.xs[c1 - 1] + h),
            float(self.ys[r1 - 1] - h),
            float(self.ys[r0] + h),
        )


def site_imagery(result: ScanResult) -> SiteImagery | None:
    """The shared imagery of a result (None when it carries no rasters)."""
    stack, clear = result.stack, result.clear
    if stack is None or clear is None:
        return None
    import pyproj

    stretch = site_stretch(stack, clear)
    crs = stack.odc.geobox.crs
    n = int(stack.sizes["time"])
    third = max(1, n // 3)
    before = stretch.apply(clear_composite(stack, clear, slice(0, third)))
    after = stretch.apply(clear_composite(stack, clear, slice(max(0, n - third), n)))
    xs = np.asarray(stack.coords["x"].values, dtype=np.float64)
    ys = np.asarray(stack.coords["y"].values, dtype=np.float64)
    res = float(abs(xs[1] - xs[0])) if xs.size > 1 else 10.0
    return SiteImagery(
        stretch=stretch,
        crs=str(crs),
        crs_label=pyproj.CRS.from_user_input(str(crs)).name,
        xs=xs,
        ys=ys,
        res=res,
        days=stack.coords["time"].values.astype("datetime64[D]"),
        before=before,
        after=after,
    )


def alert_window(result: ScanResult, label: int) -> tuple[int, int, int, int]:
    """A square window ``(r0, r1, c0, c1)`` around object ``label`` with ground around it."""
    assert result.labels is not None
    lab = result.labels.values
    rows, cols = np.nonzero(lab == label)
    h, w = lab.shape
    if rows.size == 0:
        return 0, h, 0, w
    extent = max(np.ptp(rows) + 1, np.ptp(cols) + 1)
    side = min(max(MIN_WINDOW_PX, int(WINDOW_SCALE * extent)), max(h, w))
    rc, cc = (rows.min() + rows.max()) // 2, (cols.min() + cols.max()) // 2
    r0 = int(np.clip(rc - side // 2, 0, max(0, h - side)))
    c0 = int(np.clip(cc - side // 2, 0, max(0, w - side)))
    return r0, min(h, r0 + side), c0, min(w, c0 + side)


def _north_deg(crs: str, lon: float, lat: float) -> float:
    """Direction of true north in the grid, degrees clockwise from the grid's up."""
    import pyproj

    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x0, y0 = tr.transform(lon, lat)
    x1, y1 = tr.transform(lon, lat + 0.01)
    return math.degrees(math.atan2(x1 - x0, y1 - y0))


def _date(day: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(np.datetime_as_string(day, unit="D")))


def _size_text(alert: Alert) -> str:
    text = f"{alert.length_m:,.0f} m x {alert.width_m:,.0f} m, {alert.area_m2:,.0f} m²"
    if alert.added_length_m:
        text += f" (+{alert.added_length_m:,.0f} m)"
    if alert.fraction_affected is not None:
        text += f", {alert.fraction_affected:.0%} of the facility"
    return text


def clear_dates(result: ScanResult, label: int, t_before: int, t_after: int) -> tuple[int, int]:
    """Move the before date back and the after date on until the whole panel window is clear.

    The dates are chosen clear over the object's surroundings; the quicklook shows more
    ground, and a cloud at its edge would take the eye. Kept as they are when no date is.
    """
    assert result.clear is not None
    r0, r1, c0, c1 = alert_window(result, label)
    share = np.asarray(result.clear.values[:, r0:r1, c0:c1], dtype=bool).mean(axis=(1, 2))
    earlier = [t for t in range(t_before, -1, -1) if share[t] >= PANEL_CLEAR_FRACTION]
    later = [t for t in range(t_after, len(share)) if share[t] >= PANEL_CLEAR_FRACTION]
    return (earlier[0] if earlier else t_before), (later[0] if later else t_after)


def radar_series(result: ScanResult, alert: Alert) -> RadarSeries | None:
    """The radar panel of ``alert``'s quicklook: its outline's Sentinel-1 series, if the scan used radar."""
    series = result.radar_series.get(alert.id)
    if series is None or series.sizes.get("time", 0) == 0:
        return None
    from sitewatch.core.sar import orbit_groups

    labels = [""] * series.sizes["time"]
    for group in orbit_groups(series):  # the radar core's own orbit labels
        for i in group.index:
            labels[i] = group.label
    marks = tuple(
        (label, day)
        for label, day in (("last unchanged", alert.last_unchanged), ("first detected", alert.first_detected))
        if day is not None
    )
    return RadarSeries(
        times=series.coords["time"].values,
        orbits=tuple(labels),
        db={str(pol): series.sel(polarization=pol).values for pol in series.coords["polarization"].values},
        marks=marks,
        note="scene-wide date offsets removed" if series.attrs.get("normalized") else "",
    )


def alert_panels(
    result: ScanResult, alert: Alert, label: int, site: SiteImagery, *, t_before: int, t_after: int
) -> QuicklookPanels:
    """What the quicklook of ``alert`` (object ``label``) shows, on the site's stretch."""
    from sitewatch.plots import true_colour

    assert result.stack is not None and result.labels is not None and result.clear is not None
    r0, r1, c0, c1 = alert_window(result, label)
    win = {"y": slice(r0, r1), "x": slice(c0, c1)}
    before = true_colour(result.stack.isel({"time": t_before, **win}), site.stretch)
    after = true_colour(result.stack.isel({"time": t_after, **win}), site.stretch)
    changed = result.labels.values[r0:r1, c0:c1] == label
    unclear = ~np.asarray(result.clear.values[t_after, r0:r1, c0:c1], dtype=bool)
    outline = transform_geometry(alert.geometry, "EPSG:4326", site.crs)
    centre = alert.geometry.representative_point()
    aoi_outline = transform_geometry(result.aoi.geometry, "EPSG:4326", site.crs)
    h, w = result.labels.shape
    d_before, d_after = _date(site.days[t_before]), _date(site.days[t_after])
    kind = alert.change_type.replace("_", " ") + (f" ({alert.detail})" if alert.detail else "")
    ew = (
        f" The before image precedes the earthworks first seen {alert.earthworks_first_detected}."
        if alert.earthworks_first_detected
        else ""
    )
    caption = (
        f"{kind.capitalize()}, measured {_size_text(alert)}, "
        f"oriented {alert.orientation_deg:.0f}° from north. "
        f"Last unchanged {alert.last_unchanged or '?'}, first detected {alert.first_detected}; "
        f"images of {d_before} (before) and {d_after} (after).{ew} "
        f"Centre {centre.y:.5f}° N, {centre.x:.5f}° E. Confidence {alert.confidence:.2f} ({alert.status}). "
        f"Same brightness stretch on every panel. Alert {alert.id}."
    )
    years = sorted({d_before.year, d_after.year})
    sim = "SIMULATED - " if alert.simulated else ""
    title = f"{sim}{result.aoi.display_name}: {kind}, {alert.first_detected}"
    return QuicklookPanels(
        before=before,
        after=after,
        changed=changed,
        unclear=unclear,
        extent=site.extent(r0, r1, c0, c1),
        outline=outline,
        context=site.after,
        context_extent=site.extent(0, h, 0, w),
        aoi_outline=aoi_outline,
        crs_label=site.crs_label,
        north_deg=_north_deg(site.crs, centre.x, centre.y),
        before_date=d_before,
        after_date=d_after,
        title=title,
        caption=caption,
        simulated=alert.simulated,
        years="-".join(str(y) for y in (years[0], years[-1])) if len(years) > 1 else str(years[0]),
        radar=radar_series(result, alert),
    )


def write_alert_quicklook(
    result: ScanResult,
    alert: Alert,
    label: int,
    site: SiteImagery,
    path: Path,
    *,
    t_before: int,
    t_after: int,
    dpi: int = 200,
) -> Path:
    """Write the print-grade quicklook of ``alert`` from the images of dates ``t_before`` and ``t_after``."""
    t_before, t_after = clear_dates(result, label, t_before, t_after)
    panels = alert_panels(result, alert, label, site, t_before=t_before, t_after=t_after)
    return alert_quicklook(path, panels, dpi=dpi)


def timelapse_dates(result: ScanResult, alert: Alert, label: int, site: SiteImagery) -> list[int]:
    """The clear dates (indices) from a few months before ``last_unchanged`` to after ``first_detected``."""
    assert result.clear is not None
    r0, r1, c0, c1 = alert_window(result, label)
    clear_win = np.asarray(result.clear.values[:, r0:r1, c0:c1], dtype=bool).mean(axis=(1, 2))
    first = alert.first_detected or _date(site.days[-1])
    start = (alert.earthworks_first_detected or alert.last_unchanged or first) - dt.timedelta(
        days=TIMELAPSE_MARGIN_DAYS
    )
    end = first + dt.timedelta(days=TIMELAPSE_MARGIN_DAYS)
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    return [
        t for t in range(len(site.days)) if lo <= site.days[t] <= hi and clear_win[t] >= CLEAR_WINDOW_FRACTION
    ]


def write_alert_timelapse(
    result: ScanResult, alert: Alert, label: int, site: SiteImagery, path: Path
) -> Path | None:
    """Write the alert's animated GIF (None when fewer than two clear dates)."""
    from sitewatch.plots import true_colour
    from sitewatch.plots.timelapse import TimelapseFrame, write_timelapse

    assert result.stack is not None
    times = timelapse_dates(result, alert, label, site)
    if len(times) < 2:
        return None
    r0, r1, c0, c1 = alert_window(result, label)
    left, _, _, top = site.extent(r0, r1, c0, c1)
    outline = transform_geometry(alert.geometry, "EPSG:4326", site.crs)
    rings = []
    for poly in getattr(outline, "geoms", [outline]):
        xy = np.asarray(poly.exterior.coords)[:, :2]
        rings.append(np.column_stack([(xy[:, 0] - left) / site.res, (top - xy[:, 1]) / site.res]))
    frames = []
    for t in times:
        img = true_colour(
            result.stack.isel({"time": t, "y": slice(r0, r1), "x": slice(c0, c1)}), site.stretch
        )
        day = _date(site.days[t])
        after = bool(alert.first_detected and day >= alert.first_detected)
        frames.append(TimelapseFrame(image=img, day=day, phase="after" if after else "before"))
    kind = alert.change_type.replace("_", " ")
    return write_timelapse(
        path,
        frames,
        outline_px=rings,
        title=f"{kind}, first detected {alert.first_detected}",
        simulated=alert.simulated,
        pixel_m=site.res,
    )


def write_site_composites(result: ScanResult, site: SiteImagery, folder: Path) -> dict[str, Any]:
    """Write the before and after composites as WGS84 PNGs and ``imagery.json`` (their bounds, dates).

    The PNGs are warped to a lon/lat grid so a web map can lay them as image overlays on
    their bounds; ``imagery.json`` says which dates each composite spans.
    """
    import rasterio.warp
    from affine import Affine

    from sitewatch.plots.timelapse import png_bytes
    from sitewatch.runs import atomic_write_bytes, atomic_write_text

    src_transform = Affine(site.res, 0, site.xs[0] - site.res / 2, 0, -site.res, site.ys[0] + site.res / 2)
    h, w = site.before.shape[:2]
    dst_transform, dw, dh = rasterio.warp.calculate_default_transform(
        site.crs, "EPSG:4326", w, h, *rasterio.transform.array_bounds(h, w, src_transform)
    )
    n = len(site.days)
    third = max(1, n // 3)
    spans = {"before": (0, third), "after": (max(0, n - third), n)}
    doc: dict[str, Any] = {"crs": "EPSG:4326", "layers": {}}
    for name, img in (("before", site.before), ("after", site.after)):
        rgba = np.zeros((4, dh, dw), dtype=np.uint8)
        src = np.moveaxis((img * 255).round().astype(np.uint8), -1, 0)
        for b in range(3):
            rasterio.warp.reproject(
                src[b],
                rgba[b],
                src_transform=src_transform,
                src_crs=site.crs,
                dst_transform=dst_transform,
                dst_crs="EPSG:4326",
                resampling=rasterio.warp.Resampling.bilinear,
            )
        valid = np.ones((h, w), dtype=np.uint8) * 255
        rasterio.warp.reproject(
            valid,
            rgba[3],
            src_transform=src_transform,
            src_crs=site.crs,
            dst_transform=dst_transform,
            dst_crs="EPSG:4326",
            resampling=rasterio.warp.Resampling.nearest,
        )
        atomic_write_bytes(folder / f"{name}.png", png_bytes(np.moveaxis(rgba, 0, -1)))
        west, south, east, north = rasterio.transform.array_bounds(dh, dw, dst_transform)
        a, b = spans[name]
        doc["layers"][name] = {
            "file": f"{name}.png",
            "bounds": [[south, west], [north, east]],
            "start": str(site.days[a]),
            "end": str(site.days[b - 1]),
        }
    doc["simulated"] = bool(result.simulated)
    atomic_write_text(folder / "imagery.json", json.dumps(doc, indent=1) + "\n")
    return doc
