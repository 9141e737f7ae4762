"""Outlines that match their numbers: the polygon an alert is published with.

An object is found as a set of 10 m pixels, and its outline, vectorised from them, is a
pixel staircase whose own area is what the *whole* edge pixels cover; the object's
measured area (``area_m2``) comes from unmixing the edge pixels and is the better figure.
A reader who measures the published polygon in QGIS or Google Earth should get the figure
the alert states, so the published outline is fitted to the measurement:

- **compact rectangular objects** (pads, compounds: rectangularity and aspect within
  :class:`OutlineRules`) get their **minimum rotated rectangle**, centred where the pixel
  outline's rectangle is, along the measured orientation, with the measured length:width
  ratio, scaled so its area is ``area_m2``;
- **other objects** (a runway extension, irregular earthworks) keep their own shape, with
  the staircase taken off by corner cutting (Chaikin), and the boundary moved outwards or
  inwards by one uniform distance (a buffer) until the area is ``area_m2``, which is what
  partial edge coverage amounts to. The shift is bounded (:attr:`OutlineRules.max_offset_px`
  pixels), so a measurement that disagrees with the footprint by more than an edge effect
  is never papered over.

Pure: shapely geometries in a metric CRS in, out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["OutlineRules", "fitted_outline", "smooth_rings"]


@dataclass(frozen=True)
class OutlineRules:
    """When an outline is a rectangle, and how far a smoothed outline may move.

    Attributes
    ----------
    min_rectangularity : float
        Pixel-outline area over its minimum rotated rectangle's area at or above which an
        object is drawn as a rectangle. A true rectangle four or more pixels wide
        vectorises at 0.73 or more at any angle (the worst is near 45 degrees), an
        irregular patch well below.
    max_aspect : float
        Length over width above which an object is a strip (a runway), never a rectangle.
    max_offset_px : float
        Largest boundary shift of a smoothed outline, in pixels: partial coverage of the
        edge pixels moves the true boundary by less than one pixel either way.
    chaikin_iterations : int
        Corner-cutting passes that take the staircase off a smoothed outline.
    """

    min_rectangularity: float = 0.7
    max_aspect: float = 4.0
    max_offset_px: float = 1.0
    chaikin_iterations: int = 2


def _chaikin(ring: np.ndarray, iterations: int) -> np.ndarray:
    pts = ring[:-1] if np.allclose(ring[0], ring[-1]) else ring
    for _ in range(iterations):
        nxt = np.roll(pts, -1, axis=0)
        q = 0.75 * pts + 0.25 * nxt
        r = 0.25 * pts + 0.75 * nxt
        pts = np.empty((2 * len(q), 2))
        pts[0::2], pts[1::2] = q, r
    return np.vstack([pts, pts[:1]])


def smooth_rings(geom: BaseGeometry, *, iterations: int = 2) -> BaseGeometry:
    """Cut the corners of every ring (Chaikin), keeping holes; invalid results are repaired.

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
    iterations : int

    Returns
    -------
    shapely geometry

    Examples
    --------
    >>> sq = shapely.box(0, 0, 10, 10)
    >>> round(smooth_rings(sq, iterations=1).area, 1)
    87.5
    """
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    out = []
    for poly in polys:
        shell = _chaikin(np.asarray(poly.exterior.coords)[:, :2], iterations)
        holes = [_chaikin(np.asarray(r.coords)[:, :2], iterations) for r in poly.interiors]
        out.append(shapely.Polygon(shell, holes))
    result = out[0] if len(out) == 1 else shapely.MultiPolygon(out)
    return result if result.is_valid else shapely.make_valid(result)


def _rectangle(
    geom: BaseGeometry, *, area_m2: float, length_m: float, width_m: float, orientation_deg: float
) -> BaseGeometry:
    """A rectangle of area ``area_m2``, ratio length:width, long side ``orientation_deg`` from north."""
    centre = shapely.minimum_rotated_rectangle(geom).centroid
    ratio = length_m / width_m if width_m > 0 and length_m > 0 else 1.0
    width = math.sqrt(area_m2 / ratio)
    length = width * ratio
    theta = math.radians(orientation_deg)
    # unit vectors along the long side (clockwise from north = +y) and across it
    u = np.array([math.sin(theta), math.cos(theta)])
    v = np.array([u[1], -u[0]])
    c = np.array([centre.x, centre.y])
    corners = [
        c + sl * length / 2 * u + sw * width / 2 * v for sl, sw in ((-1, -1), (1, -1), (1, 1), (-1, 1))
    ]
    return shapely.Polygon(corners)


def _offset_to_area(geom: BaseGeometry, area_m2: float, max_offset_m: float) -> BaseGeometry:
    """Move the boundary by one distance (Newton on area = A0 + P d) until the area is ``area_m2``."""
    d = 0.0
    shifted = geom
    for _ in range(6):
        err = area_m2 - shifted.area
        if abs(err) <= 1e-3 * area_m2 or shifted.length <= 0:
            break
        d = float(np.clip(d + err / shifted.length, -max_offset_m, max_offset_m))
        shifted = geom.buffer(d, quad_segs=4, join_style="round") if d else geom
        if shifted.is_empty:
            return geom
        if abs(d) >= max_offset_m:
            break
    return shifted


def fitted_outline(
    geom: BaseGeometry,
    *,
    area_m2: float,
    length_m: float,
    width_m: float,
    orientation_deg: float,
    pixel_size_m: float,
    rules: OutlineRules | None = None,
) -> BaseGeometry:
    """The outline to publish: fitted to the measured area (see the module docstring for how).

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
        The pixel outline, in a metric CRS.
    area_m2, length_m, width_m, orientation_deg : float
        The object's final measurements (orientation clockwise from north).
    pixel_size_m : float
        The grid's pixel size (bounds how far a smoothed boundary may move).
    rules : OutlineRules, optional

    Returns
    -------
    shapely geometry
        In the CRS of ``geom``; ``geom`` itself when it is empty or the area is unknown.

    Examples
    --------
    >>> stair = shapely.Polygon([(0, 0), (60, 0), (60, 10), (80, 10), (80, 50), (0, 50)])
    >>> out = fitted_outline(
    ...     stair, area_m2=4200.0, length_m=80, width_m=52, orientation_deg=90, pixel_size_m=10.0
    ... )
    >>> round(out.area)
    4200
    """
    rules = rules or OutlineRules()
    if geom.is_empty or not (area_m2 > 0 and math.isfinite(area_m2)):
        return geom
    rect_area = shapely.minimum_rotated_rectangle(geom).area
    rectangularity = geom.area / rect_area if rect_area > 0 else 0.0
    aspect = length_m / width_m if width_m > 0 else math.inf
    single = geom.geom_type == "Polygon" and not list(geom.interiors)
    if single and rectangularity >= rules.min_rectangularity and aspect <= rules.max_aspect:
        return _rectangle(
            geom, area_m2=area_m2, length_m=length_m, width_m=width_m, orientation_deg=orientation_deg
        )
    smooth = smooth_rings(geom, iterations=rules.chaikin_iterations)
    return _offset_to_area(smooth, area_m2, rules.max_offset_px * pixel_size_m)
