"""The alert quicklook fit for print: before, after, change and context, on one stretch.

:func:`alert_quicklook` draws what :class:`QuicklookPanels` holds: three map panels in the
grid's metric CRS (UTM tick labels, a scale bar, a north arrow turned by the grid
convergence) showing the object's published outline, a context panel with the object's
place within the watched area, a legend for every colour drawn, the dates of both images
and the measured size in the caption, "SIMULATED" across simulated imagery, and the
imagery credit. PNG at 200 dpi by default; PDF and SVG by the file's extension. When the scan
used Sentinel-1 (``scan --sar``), a bottom panel plots the radar time series over the outline
(:class:`RadarSeries`: VV and VH dB per acquisition, one colour per relative orbit, because
orbits see the ground at different incidence angles and are never compared with each other)
with the alert's dates marked.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from shapely.geometry.base import BaseGeometry

__all__ = [
    "OUTLINE_COLOUR",
    "QuicklookFormat",
    "QuicklookPanels",
    "RadarSeries",
    "alert_quicklook",
    "imagery_credit",
]

QuicklookFormat = Literal["png", "pdf", "svg"]
#: The published outline on every picture (cyan reads on bare earth, concrete and fields).
OUTLINE_COLOUR = "#00E5FF"
_CHANGED = "#FF3B30"
_UNCLEAR = "#4C6FFF"
_WINDOW = "#FFD60A"
_AOI = "#FF4FD8"
#: One colour per relative orbit of the radar panel (Okabe-Ito, colour-blind safe).
_ORBIT_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
_POL_STYLES = {"VV": "-", "VH": "--"}


@dataclass(frozen=True)
class RadarSeries:
    """The radar time series over an alert's outline, for the quicklook's bottom panel.

    Parameters
    ----------
    times : numpy.ndarray
        ``(T,)`` datetime64 of the acquisitions.
    orbits : tuple of str
        ``(T,)`` orbit label of each acquisition (``"D079"``).
    db : mapping of str to numpy.ndarray
        Polarisation (``"VV"``, ``"VH"``) to ``(T,)`` outline mean backscatter, dB (NaN: no
        data over the outline).
    marks : tuple of (str, datetime.date)
        Dates drawn as vertical lines with their label (the alert's last unchanged and first
        detected dates).
    note : str
        What the values are (e.g. scene-wide date offsets removed), printed under the panel.
    """

    times: np.ndarray
    orbits: tuple[str, ...]
    db: dict[str, np.ndarray]
    marks: tuple[tuple[str, dt.date], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class QuicklookPanels:
    """What an alert quicklook shows (imagery already on the site's common stretch).

    Parameters
    ----------
    before, after : numpy.ndarray
        ``(y, x, 3)`` true colour in 0..1 of the window.
    changed, unclear : numpy.ndarray
        ``(y, x)`` bool: the object's pixels; not clear on the after date.
    extent : tuple of float
        ``(left, right, bottom, top)`` of the window in the grid CRS (metres).
    outline : shapely geometry
        The published outline in the grid CRS.
    context : numpy.ndarray
        ``(y, x, 3)`` the whole AOI after the change, same stretch.
    context_extent : tuple of float
    aoi_outline : shapely geometry or None
        The watched area in the grid CRS.
    crs_label : str
        E.g. ``"UTM zone 37N (EPSG:32637)"``.
    north_deg : float
        Direction of true north, degrees clockwise from the grid's up (the grid convergence).
    before_date, after_date : datetime.date
    title : str
    caption : str
        Dates, size, confidence, centre (wrapped to the figure width).
    simulated : bool
    years : str
        Year(s) of the imagery for the credit.
    radar : RadarSeries, optional
        The Sentinel-1 series over the outline; drawn as a bottom panel when given.
    """

    before: np.ndarray
    after: np.ndarray
    changed: np.ndarray
    unclear: np.ndarray
    extent: tuple[float, float, float, float]
    outline: BaseGeometry
    context: np.ndarray
    context_extent: tuple[float, float, float, float]
    aoi_outline: BaseGeometry | None
    crs_label: str
    north_deg: float
    before_date: dt.date
    after_date: dt.date
    title: str
    caption: str
    simulated: bool
    years: str
    radar: RadarSeries | None = None


def imagery_credit(years: str, *, simulated: bool) -> str:
    """The credit line under a picture (Copernicus asks for it on every use of Sentinel data).

    Examples
    --------
    >>> imagery_credit("2025", simulated=False)
    'Contains modified Copernicus Sentinel data 2025'
    """
    if simulated:
        return "SIMULATED imagery from the sitewatch simulator (not Copernicus Sentinel data)"
    return f"Contains modified Copernicus Sentinel data {years}"


def _rings(geom: BaseGeometry | None) -> list[np.ndarray]:
    if geom is None or geom.is_empty:
        return []
    polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    out = []
    for poly in polys:
        if poly.geom_type != "Polygon":
            continue
        out.append(np.asarray(poly.exterior.coords)[:, :2])
        out += [np.asarray(r.coords)[:, :2] for r in poly.interiors]
    return out


def _draw_outline(ax: Any, geom: BaseGeometry | None, colour: str, lw: float = 1.6) -> None:
    for ring in _rings(geom):
        ax.plot(ring[:, 0], ring[:, 1], color="black", lw=lw + 1.2, alpha=0.55, solid_joinstyle="round")
        ax.plot(ring[:, 0], ring[:, 1], color=colour, lw=lw, solid_joinstyle="round")


def _map_axes(ax: Any, extent: tuple[float, float, float, float], *, ylabels: bool) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_aspect("equal")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(3))
        axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.tick_params(labelsize=6.5, length=2.5)
    if not ylabels:
        ax.tick_params(labelleft=False)


def _scale_and_north(ax: Any, north_deg: float) -> None:
    import math

    try:
        from matplotlib_scalebar.scalebar import ScaleBar
    except ImportError:  # the bar is drawn by hand when the package is absent
        ScaleBar = None
    if ScaleBar is not None:
        ax.add_artist(
            ScaleBar(
                1.0,
                "m",
                location="lower left",
                box_alpha=0.65,
                font_properties={"size": 7},
                length_fraction=0.3,
            )
        )
    else:
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        step = 10 ** math.floor(math.log10((x1 - x0) * 0.3))
        length = step * max(1, int((x1 - x0) * 0.3 // step))
        ax.plot(
            [x0 + 0.05 * (x1 - x0), x0 + 0.05 * (x1 - x0) + length], [y0 + 0.06 * (y1 - y0)] * 2, "w-", lw=3
        )
        ax.text(x0 + 0.05 * (x1 - x0), y0 + 0.09 * (y1 - y0), f"{length:,.0f} m", color="w", fontsize=7)
    a = math.radians(north_deg)
    base = (0.9, 0.74)
    tip = (base[0] + 0.12 * math.sin(a), base[1] + 0.16 * math.cos(a))
    ax.annotate(
        "",
        xy=tip,
        xytext=base,
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>", "color": "white", "lw": 1.6, "mutation_scale": 11},
    )
    ax.text(
        tip[0],
        tip[1] + 0.02,
        "N",
        transform=ax.transAxes,
        color="white",
        fontsize=8,
        ha="center",
        va="bottom",
        fontweight="bold",
    )


def _watermark(ax: Any) -> None:
    # at the top, clear of the object (the panels centre on it)
    ax.text(
        0.5,
        0.9,
        "SIMULATED",
        transform=ax.transAxes,
        fontsize=15,
        color="#FF3030",
        alpha=0.6,
        ha="center",
        va="center",
        fontweight="bold",
    )


def _radar_panel(ax: Any, r: RadarSeries) -> None:
    """VV and VH over the outline per orbit, with the alert's dates marked."""
    times = np.asarray(r.times, dtype="datetime64[ns]")
    orbits = np.asarray(r.orbits)
    for i, orbit in enumerate(sorted(set(r.orbits))):
        colour = _ORBIT_COLOURS[i % len(_ORBIT_COLOURS)]
        on = orbits == orbit
        for pol, values in r.db.items():
            v = np.asarray(values, dtype=float)
            keep = on & np.isfinite(v)
            if keep.any():
                ax.plot(
                    times[keep],
                    v[keep],
                    _POL_STYLES.get(pol, ":"),
                    color=colour,
                    marker="o",
                    ms=2.5,
                    lw=1.0,
                    label=f"{pol} orbit {orbit}",
                )
    for k, (label, day) in enumerate(r.marks):
        ax.axvline(np.datetime64(day, "ns"), color="#444444", lw=1.0, ls=(0, (4, 2)) if k else "-")
        ax.text(
            np.datetime64(day, "ns"),
            1.0,
            f" {label} {day}",
            transform=ax.get_xaxis_transform(),
            fontsize=6.5,
            va="top",
            ha="left" if k else "right",
            color="#444444",
        )
    ax.set_ylabel("backscatter (dB)", fontsize=7)
    ax.set_title(
        "Sentinel-1 over the outline (mean per acquisition; orbits see the ground at their own angle)"
        + (f": {r.note}" if r.note else ""),
        fontsize=8.5,
    )
    ax.tick_params(labelsize=6.5)
    ax.grid(alpha=0.3, lw=0.5)
    ax.legend(fontsize=6.5, ncol=4, loc="lower left", frameon=False)


def _figure(p: QuicklookPanels) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    radar = p.radar is not None and any(np.isfinite(v).any() for v in p.radar.db.values())
    fig = plt.figure(figsize=(13.5, 7.4 if radar else 5.0), layout="constrained")
    grid = fig.add_gridspec(
        2 if radar else 1, 4, width_ratios=[1, 1, 1, 0.82], height_ratios=[1, 0.42] if radar else [1]
    )
    axes = [fig.add_subplot(grid[0, i]) for i in range(4)]
    if radar and p.radar is not None:
        _radar_panel(fig.add_subplot(grid[1, :]), p.radar)
    extent = p.extent
    for ax, img, name in (
        (axes[0], p.before, f"before: {p.before_date}"),
        (axes[1], p.after, f"after: {p.after_date}"),
    ):
        ax.imshow(img, extent=extent, interpolation="nearest")
        _draw_outline(ax, p.outline, OUTLINE_COLOUR)
        ax.set_title(name, fontsize=9.5)
    grey = p.after.mean(axis=-1, keepdims=True).repeat(3, axis=-1) * 0.75
    over = np.zeros((*p.changed.shape, 4))
    over[p.unclear] = (*matplotlib.colors.to_rgb(_UNCLEAR), 0.6)
    over[p.changed] = (*matplotlib.colors.to_rgb(_CHANGED), 0.65)
    axes[2].imshow(grey, extent=extent, interpolation="nearest")
    axes[2].imshow(over, extent=extent, interpolation="nearest")
    _draw_outline(axes[2], p.outline, OUTLINE_COLOUR)
    axes[2].set_title("change", fontsize=9.5)
    for i, ax in enumerate(axes[:3]):
        _map_axes(ax, extent, ylabels=i == 0)
        _scale_and_north(ax, p.north_deg)
        if p.simulated:
            _watermark(ax)
    axes[0].set_ylabel(f"northing (m), {p.crs_label}", fontsize=7)
    axes[1].set_xlabel(f"easting (m), {p.crs_label}", fontsize=7)
    ctx = axes[3]
    ctx.imshow(p.context, extent=p.context_extent, interpolation="bilinear")
    _draw_outline(ctx, p.aoi_outline, _AOI, lw=1.0)
    left, right, bottom, top = extent
    ctx.plot([left, right, right, left, left], [bottom, bottom, top, top, bottom], color=_WINDOW, lw=1.2)
    _draw_outline(ctx, p.outline, OUTLINE_COLOUR, lw=1.0)
    _map_axes(ctx, p.context_extent, ylabels=False)
    ctx.set_title("context: the watched area", fontsize=9.5)
    _scale_and_north(ctx, p.north_deg)
    handles = [
        Line2D([], [], color=OUTLINE_COLOUR, lw=2, label="alert outline (published)"),
        Patch(color=_CHANGED, alpha=0.65, label="changed pixels of the object"),
    ]
    if p.unclear.any():  # a legend entry for every colour drawn, and only those
        handles.append(Patch(color=_UNCLEAR, alpha=0.6, label="not clear on the after date"))
    handles.append(Line2D([], [], color=_WINDOW, lw=1.5, label="extent of the three panels"))
    if p.aoi_outline is not None:
        handles.append(Line2D([], [], color=_AOI, lw=1.2, label="watched area (AOI)"))
    ctx.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), fontsize=7, frameon=False)
    title_colour = "#C00000" if p.simulated else "black"
    fig.suptitle(p.title, fontsize=11.5, fontweight="bold", color=title_colour)
    credit = imagery_credit(p.years, simulated=p.simulated)
    text = "\n".join(textwrap.wrap(p.caption, 190)) + "\n" + credit
    engine = fig.get_layout_engine()
    if engine is not None:
        # room for the caption
        engine.set(rect=(0, 0.065 if radar else 0.09, 1, 0.935 if radar else 0.91))  # type: ignore[call-arg]
    fig.text(0.01, 0.01, text, fontsize=7.5, ha="left", va="bottom")
    return fig


def alert_quicklook(path: str | os.PathLike[str], panels: QuicklookPanels, *, dpi: int = 200) -> Path:
    """Write the quicklook of one alert (format from the extension: .png, .pdf or .svg), atomically.

    Parameters
    ----------
    path : path-like
    panels : QuicklookPanels
    dpi : int
        Resolution of a PNG (and of the images inside a PDF or SVG).

    Returns
    -------
    pathlib.Path
    """
    from matplotlib import pyplot as plt

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fig = _figure(panels)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".partial{target.suffix}", dir=target.parent
    )
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, metadata={"Title": panels.title})
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a figure is for sharing
        os.replace(tmp, target)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
