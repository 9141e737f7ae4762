"""One changed object as the object stage reports it: :class:`ChangeObject`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from shapely.geometry.base import BaseGeometry

from sitewatch.objects.classify import ChangeType

__all__ = ["ChangeObject", "paint_labels"]


@dataclass(frozen=True)
class ChangeObject:
    """One changed object: where, what, when, how big, and the facts behind it.

    Dates are indices into the stack's ``time``; geometry and sizes are in the grid's CRS
    (metres). Measurements that only some types have are None for the others.

    Attributes
    ----------
    label : int
        Its value in the label raster.
    box : tuple of int
        ``(row0, row1, col0, col1)`` of its pixels in the grid.
    mask : numpy.ndarray
        Bool, the object's pixels within ``box``.
    geometry : shapely geometry
        Outline in the grid's CRS.
    change_type, detail, reasons
        From :func:`~sitewatch.objects.classify.classify_object`.
    first_index : int
        First date it is seen (an evacuation: its first removals; a pad laid on
        earthworks: its surface).
    last_unchanged_index : int or None
        Last date clear over most of it before ``first_index``.
    evidence_indices : tuple of int
        The dates that show it: the last unchanged, the first changed, the next two clear.
    removals : tuple of int
        First and last date its pixels changed.
    onset_index, completed_index : int or None
        When the change began (its earliest tenth of pixels) and when it was complete (nine
        tenths of its pixels in their new state; for a change spread over weeks the
        per-pixel history's completion, for abrupt ones their breaks).
    area_m2, length_m, width_m, orientation_deg, rectangularity : float
    n_pixels : int
        Changed pixels.
    date_spread_days : float
    before, after : mapping
        Mean spectra before and at the end of the series (reflectance 0..1).
    n_clear_before, n_clear_after, persistence, magnitude : float
        Medians and means over its changed pixels of the per-pixel history.
    facility_overlap, runway_overlap : float
    runway_adjacent : bool
    facility : int
        The facility (label in the site context) it mostly lies in, else 0.
    fraction_affected, fraction_affected_pixels, structure_area_before_m2, changed_area_m2, facility_area_m2
        Evacuations (:class:`~sitewatch.objects.evacuation.StructureLoss`).
    added_length_m, runway_length_before_m, runway_length_after_m
        Runway extensions.
    after_earthworks : bool or None
        New pads: levelling came first.
    earthworks_first_index : int or None
        New pads laid on earthworks: the date the levelling was first seen.
    grown_from_after_state_px : int or None
        Pixels the sub-pixel sizing added from the after-state surface.
    absorbed : tuple of ChangeObject
        Evacuations: the bits of the facility folded into it.
    """

    label: int
    box: tuple[int, int, int, int]
    mask: np.ndarray = field(repr=False)
    geometry: BaseGeometry
    change_type: ChangeType
    detail: str | None
    reasons: tuple[str, ...]
    first_index: int
    last_unchanged_index: int | None
    evidence_indices: tuple[int, ...]
    removals: tuple[int, int]
    area_m2: float
    length_m: float
    width_m: float
    orientation_deg: float
    rectangularity: float
    n_pixels: int
    date_spread_days: float
    before: Mapping[str, float]
    after: Mapping[str, float]
    n_clear_before: float
    n_clear_after: float
    persistence: float
    magnitude: float
    facility_overlap: float
    runway_overlap: float
    runway_adjacent: bool
    facility: int = 0
    fraction_affected: float | None = None
    fraction_affected_pixels: float | None = None
    structure_area_before_m2: float | None = None
    changed_area_m2: float | None = None
    facility_area_m2: float | None = None
    added_length_m: float | None = None
    runway_length_before_m: float | None = None
    runway_length_after_m: float | None = None
    after_earthworks: bool | None = None
    earthworks_first_index: int | None = None
    grown_from_after_state_px: int | None = None
    onset_index: int | None = None
    completed_index: int | None = None
    absorbed: tuple[ChangeObject, ...] = ()


def paint_labels(
    objects: list[ChangeObject], shape: tuple[int, int], *, offset: tuple[int, int] = (0, 0)
) -> np.ndarray:
    """The label raster of ``objects`` (their ``label`` values; 0 elsewhere).

    Parameters
    ----------
    objects : list of ChangeObject
    shape : tuple of int
        ``(Y, X)`` of the grid.
    offset : tuple of int
        Row and column of the objects' grid in the raster (a window of a bigger grid).

    Returns
    -------
    numpy.ndarray
        int32.
    """
    out = np.zeros(shape, np.int32)
    for o in objects:
        r0, r1, c0, c1 = o.box
        out[offset[0] + r0 : offset[0] + r1, offset[1] + c0 : offset[1] + c1][o.mask] = o.label
    return out
