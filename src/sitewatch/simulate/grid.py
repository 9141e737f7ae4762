"""The simulated site's pixel grid and its local metric frame.

Everything in a simulated world is laid out in metres from the site centre, x east and
y north (true north). The scenes are written on a grid of whole pixels in a projected
CRS: the AOI's UTM zone by default, or any other projected CRS (Web Mercator exports,
a national Lambert grid). Such a grid's axes need not point north and its units need not
be metres on the ground: :class:`Grid` keeps the scale (metres on the ground per CRS unit)
and the angle of true north, rasterises the world's shapes onto the CRS grid and turns
them into WGS84 for the truth.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyproj
import shapely
import shapely.affinity

from sitewatch.types import WGS84

__all__ = ["Grid", "grid_frame"]


def grid_frame(crs: str, lon: float, lat: float) -> tuple[float, float]:
    """Metres on the ground per CRS unit, and the angle of true north from the grid's north.

    Measured numerically over 100 m steps from the point, so it holds for any projected
    CRS whatever its sign conventions.

    Parameters
    ----------
    crs : str
        A projected CRS.
    lon, lat : float
        The point (WGS84 degrees).

    Returns
    -------
    tuple of float
        ``(metres_per_unit, north_deg)``: ``north_deg`` is clockwise from grid north.

    Examples
    --------
    >>> k, north = grid_frame("EPSG:3857", 40.0, 60.0)
    >>> round(k, 3), round(north, 3)
    (0.5, 0.0)
    """
    geod = pyproj.Geod(ellps="WGS84")
    fwd = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True)
    x0, y0 = fwd.transform(lon, lat)
    lon_n, lat_n, _ = geod.fwd(lon, lat, 0.0, 100.0)
    lon_e, lat_e, _ = geod.fwd(lon, lat, 90.0, 100.0)
    xn, yn = fwd.transform(lon_n, lat_n)
    xe, ye = fwd.transform(lon_e, lat_e)
    units = (math.hypot(xn - x0, yn - y0) + math.hypot(xe - x0, ye - y0)) / 2
    north = math.degrees(math.atan2(xn - x0, yn - y0))
    return 100.0 / units, north


class Grid:
    """Pixel grid of a simulated site and its local frame.

    Parameters
    ----------
    size_px : int
        Width and height in pixels.
    resolution : float
        Pixel size in CRS units.
    center_crs : tuple of float
        The site centre in the CRS.
    crs : str
    metres_per_unit : float
        Metres on the ground per CRS unit (1 for UTM as the simulator has always taken it).
    north_deg : float
        Angle of true north clockwise from the grid's north (0 for UTM as taken here).

    Notes
    -----
    ``xs`` and ``ys`` are the pixel centres along the grid's axes in ground metres from
    the centre (``ys`` decreasing: row 0 at the top). World shapes are in true-north
    metres; :meth:`to_grid` turns them to the grid's axes before rasterising.
    """

    def __init__(
        self,
        size_px: int,
        resolution: float,
        center_crs: tuple[float, float],
        crs: str,
        *,
        metres_per_unit: float = 1.0,
        north_deg: float = 0.0,
    ) -> None:
        self.size = size_px
        self.res_crs = resolution
        self.res = resolution * metres_per_unit
        self.crs = crs
        self.metres_per_unit = metres_per_unit
        self.north_deg = north_deg
        half = size_px * resolution / 2
        # Snap the grid to whole pixels in the CRS so files look like real tiles.
        self.x0 = math.floor((center_crs[0] - half) / resolution) * resolution
        self.y1 = math.floor((center_crs[1] + half) / resolution) * resolution
        self.cx, self.cy = center_crs
        idx = (np.arange(size_px) + 0.5) * resolution
        self.xs = self.x0 + idx - self.cx  # local east of pixel centres
        self.ys = self.y1 - idx - self.cy  # local north of pixel centres
        if metres_per_unit != 1.0:
            self.xs = self.xs * metres_per_unit
            self.ys = self.ys * metres_per_unit

    @property
    def extent_m(self) -> float:
        """Width of the grid in ground metres."""
        return self.size * self.res

    @property
    def bounds_crs(self) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` in the CRS."""
        side = self.size * self.res_crs
        return (self.x0, self.y1 - side, self.x0 + side, self.y1)

    def rect(self, center: tuple[float, float], length: float, width: float, orient_deg: float) -> Any:
        """A rotated rectangle in local metres, long side along ``orient_deg`` from north."""
        t = math.radians(orient_deg)
        ux, uy = math.sin(t), math.cos(t)  # along
        vx, vy = math.cos(t), -math.sin(t)  # across
        hl, hw = length / 2, width / 2
        cx, cy = center
        pts = [
            (cx + sa * hl * ux + sb * hw * vx, cy + sa * hl * uy + sb * hw * vy)
            for sa, sb in ((-1, -1), (1, -1), (1, 1), (-1, 1))
        ]
        return shapely.Polygon(pts)

    def to_grid(self, geom: Any) -> Any:
        """A true-north local shape turned to the grid's axes (unchanged when they agree)."""
        if self.north_deg == 0.0:
            return geom
        t = math.radians(self.north_deg)
        c, s = math.cos(t), math.sin(t)
        return shapely.affinity.affine_transform(geom, [c, s, -s, c, 0.0, 0.0])

    def from_grid(self, geom: Any) -> Any:
        """A shape along the grid's axes turned to true north (the inverse of :meth:`to_grid`)."""
        if self.north_deg == 0.0:
            return geom
        t = math.radians(self.north_deg)
        c, s = math.cos(t), math.sin(t)
        return shapely.affinity.affine_transform(geom, [c, -s, s, c, 0.0, 0.0])

    def window(self, geom: Any) -> tuple[slice, slice] | None:
        """Rows and columns that may hold a part of ``geom`` (in grid axes), or None."""
        if geom.is_empty:
            return None
        minx, miny, maxx, maxy = geom.bounds
        c0 = max(0, int((minx - self.xs[0]) / self.res))
        c1 = min(self.size, int((maxx - self.xs[0]) / self.res) + 2)
        r0 = max(0, int((self.ys[0] - maxy) / self.res))
        r1 = min(self.size, int((self.ys[0] - miny) / self.res) + 2)
        if c1 <= c0 or r1 <= r0:
            return None
        return slice(r0, r1), slice(c0, c1)

    def coverage_window(
        self, geom: Any, supersample: int = 4
    ) -> tuple[tuple[slice, slice], np.ndarray] | None:
        """Fraction of each pixel of ``geom``'s window it covers (anti-aliased), or None when outside."""
        geom = self.to_grid(geom)
        win = self.window(geom)
        if win is None:
            return None
        rows, cols = win
        s = supersample
        sub = (np.arange(s) + 0.5) / s - 0.5
        xs = (self.xs[cols, None] + sub[None, :] * self.res).ravel()
        ys = (self.ys[rows, None] - sub[None, :] * self.res).ravel()
        gx, gy = np.meshgrid(xs, ys)
        n_r, n_c = rows.stop - rows.start, cols.stop - cols.start
        inside = shapely.contains_xy(geom, gx, gy).reshape(n_r, s, n_c, s)
        return win, inside.mean(axis=(1, 3)).astype(np.float32)

    def coverage(self, geom: Any, supersample: int = 4) -> np.ndarray:
        """Fraction of each pixel covered by ``geom`` (anti-aliased), float32 ``(size, size)``."""
        out = np.zeros((self.size, self.size), np.float32)
        got = self.coverage_window(geom, supersample)
        if got is not None:
            (rows, cols), cov = got
            out[rows, cols] = cov
        return out

    def to_wgs84(self, geom: Any) -> Any:
        """A true-north local shape in WGS84 longitude and latitude."""
        tr = pyproj.Transformer.from_crs(self.crs, WGS84, always_xy=True)
        geom = self.to_grid(geom)
        k = self.metres_per_unit

        def f(xy: np.ndarray) -> np.ndarray:
            if k != 1.0:
                xy = xy / k
            lon, lat = tr.transform(xy[:, 0] + self.cx, xy[:, 1] + self.cy)
            return np.column_stack([lon, lat])

        return shapely.transform(geom, f)

    def mesh(self) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates ``(x, y)`` along the grid's axes, each ``(size, size)``."""
        return np.meshgrid(self.xs, self.ys)
