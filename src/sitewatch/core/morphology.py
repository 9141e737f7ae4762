"""From a boolean change mask (or a change score) to labelled objects and polygons.

What it offers
--------------
- :func:`clean_mask` : morphological opening/closing and hole filling of a change mask.
- :func:`label_changes` : connected components with a minimum mapping unit (pixels or m2).
- :func:`label_uniform` : connected components of a mask whose neighbours are spectrally alike.
- :func:`superpixels` : Felzenszwalb segments of an image, for object-level averaging.
- :func:`segment_mean` : the mean of a score over each segment, painted back per pixel.
- :func:`vectorize` : labelled raster to ``(label, polygon)`` pairs in the grid's CRS,
  lazily, simplified without losing more than a set fraction of area.

Works on 2-D numpy arrays or 2-D DataArrays; polygons need the odc-geo GeoBox of the grid.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import shapely
import xarray as xr
from scipy import ndimage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

__all__ = ["clean_mask", "label_changes", "label_uniform", "segment_mean", "superpixels", "vectorize"]


def _disk(radius: int) -> np.ndarray:
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (xx**2 + yy**2) <= radius**2 + radius  # a "rounder" small disk (radius 1 is the 3x3 square)


def _values(a: np.ndarray | xr.DataArray) -> np.ndarray:
    return np.asarray(a.values if isinstance(a, xr.DataArray) else a)


def clean_mask(
    mask: np.ndarray | xr.DataArray,
    *,
    opening_px: int = 1,
    closing_px: int = 1,
    max_hole_px: int = 4,
) -> Any:
    """Remove speckle and close small gaps in a boolean mask.

    Parameters
    ----------
    mask : numpy.ndarray or xarray.DataArray
        2-D boolean.
    opening_px : int
        Radius of the opening (removes objects thinner than ``2 r + 1`` pixels); 0 = none.
    closing_px : int
        Radius of the closing (bridges gaps up to ``2 r`` pixels); 0 = none.
    max_hole_px : int
        Holes of at most this many pixels are filled.

    Returns
    -------
    Same type as ``mask``, boolean.

    Examples
    --------
    >>> m = np.zeros((7, 7), bool); m[2:5, 2:5] = True; m[0, 0] = True
    >>> clean_mask(m).sum()
    np.int64(9)
    """
    m = _values(mask).astype(bool)
    if closing_px > 0:
        padded = np.pad(m, closing_px)
        m = ndimage.binary_closing(padded, _disk(closing_px))[closing_px:-closing_px, closing_px:-closing_px]
    if opening_px > 0:
        m = ndimage.binary_opening(m, _disk(opening_px))
    if max_hole_px > 0:
        holes, n = ndimage.label(~m)
        if n:
            sizes = np.bincount(holes.ravel())
            small = sizes <= max_hole_px
            small[0] = False
            # a hole touching the border is background, not a hole
            border = np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]]))
            small[border] = False
            m = m | small[holes]
    if isinstance(mask, xr.DataArray):
        return mask.copy(data=m)
    return m


def label_changes(
    mask: np.ndarray | xr.DataArray,
    *,
    min_pixels: int = 9,
    connectivity: int = 2,
) -> Any:
    """Label the connected components of a change mask, dropping those below a size.

    Parameters
    ----------
    mask : numpy.ndarray or xarray.DataArray
        2-D boolean change mask.
    min_pixels : int
        Minimum mapping unit in pixels (Sentinel-2 default: 3 x 3 = 9 pixels, 900 m2 at
        10 m); compute it from ``min_area_m2 / pixel area``.
    connectivity : {1, 2}
        1 = 4-neighbours, 2 = 8-neighbours.

    Returns
    -------
    Same type as ``mask``
        int32 labels ``1..n`` (consecutive), 0 = background.

    Examples
    --------
    >>> m = np.zeros((8, 8), bool); m[1:4, 1:4] = True; m[6, 6] = True
    >>> label_changes(m, min_pixels=4).max()
    np.int32(1)
    """
    m = _values(mask).astype(bool)
    structure = ndimage.generate_binary_structure(2, connectivity)
    labels, n = ndimage.label(m, structure=structure)
    if n:
        sizes = np.bincount(labels.ravel())
        keep = sizes >= min_pixels
        keep[0] = False
        remap = np.zeros(n + 1, dtype=np.int32)
        remap[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
        labels = remap[labels]
    labels = labels.astype(np.int32)
    if isinstance(mask, xr.DataArray):
        out = mask.copy(data=labels)
        out.name = "labels"
        return out
    return labels


def label_uniform(
    values: np.ndarray, mask: np.ndarray, *, tols: Sequence[float], min_pixels: int = 9
) -> list[np.ndarray]:
    """Label the regions of ``mask`` in which neighbouring pixels are spectrally alike.

    Two 4-neighbours of ``mask`` are joined when the Euclidean distance between their
    spectra is at most ``tol`` times the norm of their mean. A uniform surface (a runway, a
    road, a roof) is one region; where it touches another surface that the mask also holds
    (a dark field beside dark asphalt) the spectral step between them cuts it off, which plain
    connected components (:func:`label_changes`) cannot do. Edge pixels mixed half and half
    make the step between two surfaces in two halves: ``tol`` below half their difference
    separates them. The steps are computed once for all the tolerances.

    Parameters
    ----------
    values : numpy.ndarray
        ``(band, y, x)`` float; a pixel with any NaN is left out.
    mask : numpy.ndarray
        ``(y, x)`` bool: the pixels that may belong to a region.
    tols : sequence of float
        Largest relative spectral difference between joined neighbours; one labelling each.
    min_pixels : int
        Regions smaller than this are dropped.

    Returns
    -------
    list of numpy.ndarray
        One per tolerance: int32 labels ``1..n`` (consecutive), 0 = background.

    Examples
    --------
    >>> v = np.ones((2, 4, 6)); v[:, :, 3:] = 2.0  # two flat surfaces side by side
    >>> cut, joined = label_uniform(v, np.ones((4, 6), bool), tols=(0.1, 1.0), min_pixels=4)
    >>> cut[0].tolist(), joined[0].tolist()
    ([1, 1, 1, 2, 2, 2], [1, 1, 1, 1, 1, 1])
    """
    v = np.asarray(values, dtype=np.float32)
    ok = np.asarray(mask, bool) & np.isfinite(v).all(axis=0)
    n_y, n_x = ok.shape
    index = np.arange(n_y * n_x).reshape(n_y, n_x)
    pairs = []
    for sl_a, sl_b in ((np.s_[:, :-1], np.s_[:, 1:]), (np.s_[:-1, :], np.s_[1:, :])):
        a, b = v[:, sl_a[0], sl_a[1]], v[:, sl_b[0], sl_b[1]]
        with np.errstate(invalid="ignore"):
            step = np.linalg.norm(a - b, axis=0) / np.maximum(np.linalg.norm(0.5 * (a + b), axis=0), 1e-9)
        both = ok[sl_a] & ok[sl_b]
        pairs.append((index[sl_a][both], index[sl_b][both], step[both]))
    heads = np.concatenate([h for h, _, _ in pairs])
    tails = np.concatenate([t for _, t, _ in pairs])
    steps = np.concatenate([d for _, _, d in pairs])
    out = []
    for tol in tols:
        joined = steps <= tol
        graph = coo_matrix(
            (np.ones(int(joined.sum()), np.int8), (heads[joined], tails[joined])),
            shape=(n_y * n_x, n_y * n_x),
        )
        _, comp = connected_components(graph, directed=False)
        comp = comp.reshape(n_y, n_x)
        sizes = np.bincount(comp[ok], minlength=int(comp.max()) + 1)
        keep = sizes >= min_pixels
        remap = np.zeros(sizes.size, np.int32)
        remap[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
        out.append(np.where(ok, remap[comp], 0).astype(np.int32))
    return out


def superpixels(
    image: np.ndarray,
    *,
    scale: float = 50.0,
    sigma: float = 0.5,
    min_size: int = 9,
) -> np.ndarray:
    """Felzenszwalb segments of a ``(y, x)`` or ``(y, x, channel)`` image.

    Parameters
    ----------
    image : numpy.ndarray
        NaN is allowed (filled with the channel median).
    scale, sigma, min_size
        As in ``skimage.segmentation.felzenszwalb``.

    Returns
    -------
    numpy.ndarray
        int32 segment ids from 0.
    """
    from skimage.segmentation import felzenszwalb

    img = np.asarray(image, dtype=np.float32)
    complete = bool(np.isfinite(img).all())
    if img.ndim == 3:
        if not complete:
            med = np.nanmedian(img.reshape(-1, img.shape[-1]), axis=0)
            img = np.where(np.isfinite(img), img, med)
        channel_axis: int | None = -1
    else:
        if not complete:
            img = np.where(np.isfinite(img), img, np.nanmedian(img))
        channel_axis = None
    with warnings.catch_warnings():
        # skimage warns that a many-channel image is read as multichannel: that is intended
        warnings.simplefilter("ignore", RuntimeWarning)
        segments = felzenszwalb(img, scale=scale, sigma=sigma, min_size=min_size, channel_axis=channel_axis)
    return segments.astype(np.int32)


def segment_mean(values: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Replace each pixel by the NaN-ignoring mean of ``values`` over its segment.

    Parameters
    ----------
    values : numpy.ndarray
        2-D float.
    segments : numpy.ndarray
        2-D int segment ids (>= 0), same shape.

    Returns
    -------
    numpy.ndarray
        float32, NaN where the segment holds no finite value or the pixel itself is NaN.
    """
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    seg = np.asarray(segments).ravel()
    n = int(seg.max()) + 1 if seg.size else 0
    sums = np.bincount(seg, weights=np.where(ok, v, 0.0).ravel(), minlength=n)
    counts = np.bincount(seg, weights=ok.ravel().astype(np.float64), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    out = means[seg].reshape(v.shape).astype(np.float32)
    out[~ok] = np.nan
    return out


def vectorize(
    labels: np.ndarray | xr.DataArray,
    geobox: Any = None,
    *,
    simplify_px: float = 0.5,
    max_area_loss: float = 0.02,
) -> Iterator[tuple[int, BaseGeometry]]:
    """Yield ``(label, polygon)`` for every labelled object, in the grid's CRS.

    Parameters
    ----------
    labels : numpy.ndarray or xarray.DataArray
        2-D int labels, 0 = background (e.g. from :func:`label_changes`).
    geobox : odc.geo.geobox.GeoBox, optional
        The grid; taken from ``labels.odc.geobox`` for a DataArray.
    simplify_px : float
        Douglas-Peucker tolerance in pixels (topology preserved) to take the pixel
        staircase off the outlines; 0 = none.
    max_area_loss : float
        If simplifying changes a polygon's area by more than this fraction, the
        unsimplified outline is kept.

    Returns
    -------
    iterator of (int, shapely Polygon or MultiPolygon)
        One geometry per label (pieces of one label are merged), in label order.

    Examples
    --------
    >>> list(vectorize(np.array([[0, 1], [1, 1]], np.int32)))[0][1].area  # doctest: +SKIP
    3.0
    """
    from rasterio.features import shapes

    if geobox is None and isinstance(labels, xr.DataArray):
        geobox = labels.odc.geobox
    arr = _values(labels).astype(np.int32)
    transform = geobox.affine if geobox is not None else None
    kwargs: dict[str, Any] = {"mask": arr > 0, "connectivity": 4}
    if transform is not None:
        kwargs["transform"] = transform
    pieces: dict[int, list[BaseGeometry]] = {}
    for geom, value in shapes(arr, **kwargs):
        pieces.setdefault(int(value), []).append(shape(geom))
    tol = 0.0
    if simplify_px > 0:
        res = abs(float(transform.a)) if transform is not None else 1.0
        tol = simplify_px * res
    for label in sorted(pieces):
        parts = pieces[label]
        geom = parts[0] if len(parts) == 1 else shapely.union_all(parts)
        if tol > 0:
            simple = shapely.simplify(geom, tol, preserve_topology=True)
            if (
                geom.area > 0
                and abs(simple.area - geom.area) / geom.area <= max_area_loss
                and simple.is_valid
            ):
                geom = simple
        yield label, geom
