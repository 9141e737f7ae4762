"""Pads laid in sections: the sections of one build, split apart by their dates, found again.

A pad (an apron, a hardstand, a compound's yard) is often laid in sections over weeks or
months. The object stage splits a connected change whose pixels' dates leave a gap longer
than ``split_days`` (:func:`~sitewatch.objects.group.split_by_date`), so that works of
another year beside a pad are not one object with it; a pad whose sections were laid two or
three months apart is then two or three pads, each measured as a part of it and the later
ones dated late. :func:`staged_pairs` finds the pairs of pads that are sections of one
build: they touch, they were laid within ``max_days`` of each other and their surfaces are
one material now. Whether the union is one pad is for the object stage to judge (it
describes the union as it describes any object).

Examples
--------
>>> import numpy as np
>>> labels = np.zeros((6, 12), int); labels[1:5, 1:6] = 1; labels[1:5, 6:11] = 2
>>> concrete = {"B02": 0.2, "B04": 0.24, "B08": 0.28, "B11": 0.3}
>>> a = Section(1, 0, 0, concrete); b = Section(2, 90, 90, concrete)
>>> staged_pairs([a, b], labels, max_days=130, tolerance=0.2)
[(0, 1)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from sitewatch.core.surfaces import same_material

__all__ = ["Section", "staged_pairs"]


@dataclass(frozen=True)
class Section:
    """What the search reads of one pad (itself perhaps sections joined already).

    Attributes
    ----------
    label : int
        Its value in the label raster.
    first_day, last_day : int
        The days its first and its last section were first seen (any origin, the same for
        all pads; equal for a pad of one section).
    after : mapping of str to float
        Its mean spectrum at the end of the series, per band (reflectance 0..1).
    """

    label: int
    first_day: int
    last_day: int
    after: Mapping[str, float]


def _gap(a: Section, b: Section) -> int:
    """Days between the nearest sections of two pads (0 when their spans overlap)."""
    return max(0, max(a.first_day, b.first_day) - min(a.last_day, b.last_day))


def staged_pairs(
    sections: Sequence[Section], labels: np.ndarray, *, max_days: int, tolerance: float
) -> list[tuple[int, int]]:
    """The pairs of pads that may be sections of one build, nearest in time first.

    Parameters
    ----------
    sections : sequence of Section
        The pads.
    labels : numpy.ndarray
        ``(Y, X)`` int label raster holding every section's label.
    max_days : int
        Longest gap between two sections of one build (from the nearest sections in time of
        two pads already joined from several, whichever of their sections touch).
    tolerance : float
        Of :func:`~sitewatch.core.surfaces.same_material`, between their surfaces at the end
        of the series.

    Returns
    -------
    list of tuple of int
        Index pairs ``(i, j)`` into ``sections``, ``i < j``: the two touch (side or corner),
        were laid at most ``max_days`` apart and are one material.
    """
    out: list[tuple[int, int, int]] = []
    index = {s.label: i for i, s in enumerate(sections)}
    boxes = ndimage.find_objects(labels)
    for i, s in enumerate(sections):
        box = boxes[s.label - 1] if 0 < s.label <= len(boxes) else None
        if box is None:
            continue
        # the pad's box and one pixel around it: what it can touch
        win = tuple(slice(max(0, sl.start - 1), sl.stop + 1) for sl in box)
        sub = labels[win]
        grown = ndimage.binary_dilation(sub == s.label, structure=np.ones((3, 3), bool))
        for lab in np.unique(sub[grown]):
            j = index.get(int(lab), -1)
            if j <= i:
                continue
            gap = _gap(s, sections[j])
            if gap <= max_days and same_material(s.after, sections[j].after, tolerance):
                out.append((gap, i, j))
    return [(i, j) for _, i, j in sorted(out)]
