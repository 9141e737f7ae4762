"""What was on the site before a change: the early composite, runways, built-up area, facilities.

The object stage types a change against what stood there before it (a strip that
continues an existing runway is an extension, a drop in built-up area is an evacuation).
:func:`site_context` reads that from the early part of the series, each pixel only
before its own break, so a change never hides the ground it replaced.

Examples
--------
>>> import numpy as np, xarray as xr
>>> stack = xr.DataArray(np.full((3, 6, 8, 8), 2500.0, np.float32), dims=("time", "band", "y", "x"),
...     coords={"band": ["B02", "B03", "B04", "B08", "B11", "B12"]})
>>> context = early_context(stack, np.ones((3, 8, 8), bool), np.full((8, 8), -1))
>>> bool(context.built[2:6, 2:6].all())
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from sitewatch.core.bands import nir_band
from sitewatch.core.morphology import label_changes, label_uniform, vectorize
from sitewatch.core.surfaces import (
    DEFAULT_RULES,
    SurfaceRules,
    asphalt_like,
    built_up_like,
    paved_prior,
    structure_like,
    surface_indices,
)
from sitewatch.objects.measure import measure_geometry

__all__ = [
    "EarlyContext",
    "Runway",
    "SiteContext",
    "built_not_ground",
    "composite_spectrum",
    "early_context",
    "find_runways",
    "late_composite",
    "series_soil",
    "site_context",
    "site_surfaces",
]

#: The shortest strip taken for a runway, and its least length / width.
RUNWAY_MIN_LENGTH_M = 400.0
RUNWAY_MIN_ASPECT = 8.0
#: The narrowest strip taken for a runway (roads and tracks are narrower).
RUNWAY_MIN_WIDTH_M = 15.0


@dataclass(frozen=True)
class EarlyContext:
    """Per-pixel masks of what stood on the site before any change.

    Attributes
    ----------
    composite : numpy.ndarray
        ``(B, Y, X)`` reflectance 0..1: median of the early clear observations, each pixel
        only before its own break.
    asphalt, built, roofs : numpy.ndarray
        ``(Y, X)`` bool: asphalt, built-up area (closed over small gaps) and the structures in
        it (roofs, tents, vehicles, containers).
    paved : numpy.ndarray or None
        ``(Y, X)`` bool: pavement by the weak prior (asphalt, concrete, dark flat aged
        asphalt), where runways are looked for; None: ``asphalt``.
    bands : tuple of str
        Band names of ``composite``.
    """

    composite: np.ndarray
    asphalt: np.ndarray
    built: np.ndarray
    roofs: np.ndarray
    paved: np.ndarray | None = None
    bands: tuple[str, ...] = ()

    def mean_spectrum(self, sel: np.ndarray) -> dict[str, float] | None:
        """Median composite spectrum over ``sel`` (None when no pixel is known there)."""
        if not self.bands:
            return None
        return composite_spectrum(self.composite, sel, self.bands)


def composite_spectrum(comp: np.ndarray, sel: np.ndarray, bands: tuple[str, ...]) -> dict[str, float] | None:
    """Median spectrum of a ``(B, Y, X)`` composite over ``sel`` (None when no pixel is known there)."""
    if not sel.any():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(comp[:, sel], axis=1)
    if not np.isfinite(med).any():
        return None
    return {b: float(v) for b, v in zip(bands, med, strict=True)}


@dataclass(frozen=True)
class Runway:
    """An elongated paved strip present before the change (grid CRS, metres).

    ``label`` numbers the runways found (1, 2, ...); ``mask`` is its pixels.
    """

    label: int
    geometry: BaseGeometry
    mask: np.ndarray
    length_m: float
    width_m: float
    orientation_deg: float
    spectrum: dict[str, float] | None = None


@dataclass(frozen=True)
class SiteContext:
    """:class:`EarlyContext`, the runways in it, and its facilities.

    Attributes
    ----------
    early : EarlyContext
    runways : tuple of Runway
    facilities : numpy.ndarray
        ``(Y, X)`` int labels of built-up areas without the roads and tracks that link them.
    surfaces : mapping of name to spectrum
        The site's own surfaces before the change, endmembers for the relative typing:
        ``ground`` (bare soil and stubble outside the built-up area), ``built`` (the
        built-up area), ``runway`` (the runways' interiors), ``soil`` (the bare ground over
        the whole series, :func:`series_soil`), where the site has them.
    built_before : numpy.ndarray
        ``(Y, X)`` bool: the early built-up area without the pixels that are the site's own
        ground (see :func:`built_not_ground`).
    """

    early: EarlyContext
    runways: tuple[Runway, ...]
    facilities: np.ndarray
    built_before: np.ndarray
    surfaces: dict[str, dict[str, float]] = field(default_factory=dict)


def early_context(
    stack: xr.DataArray,
    clear: np.ndarray,
    break_index: np.ndarray,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> EarlyContext:
    """What was on the ground before: an early clear composite, asphalt, built-up area, structures.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory, time ascending.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    break_index : numpy.ndarray
        ``(y, x)`` date index of each pixel's break, negative where none.
    rules : SurfaceRules

    Returns
    -------
    EarlyContext
    """
    t_n = stack.sizes["time"]
    # the early part of the series, each pixel only before its own break
    n_early = min(t_n, max(6, t_n // 3))
    vals = stack.values[:n_early].astype(np.float32) * 1e-4
    usable = clear[:n_early] & (
        (break_index < 0)[None] | (np.arange(n_early)[:, None, None] < break_index[None])
    )
    vals[~np.broadcast_to(usable[:, None], vals.shape)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        comp = np.nanmedian(vals, axis=0)  # (B, Y, X)
    names = [str(b) for b in stack.coords["band"].values]
    spec = {b: comp[i] for i, b in enumerate(names)}
    asphalt = asphalt_like(spec, rules)
    built = built_up_like(spec, rules)
    roofs = structure_like(spec, rules)
    vis = (spec["B02"] + spec["B03"] + spec["B04"]) / 3
    built = ndimage.binary_closing(built, iterations=2) & np.isfinite(vis)
    paved = paved_prior(spec, rules)
    return EarlyContext(
        composite=comp,
        asphalt=asphalt,
        built=built,
        roofs=roofs & built,
        paved=paved,
        bands=tuple(names),
    )


#: Spectral steps (relative) at which the pavement prior is cut into uniform regions when
#: looking for runways, coarsest first (:func:`~sitewatch.core.morphology.label_uniform`): on
#: a dark soil the prior holds fields as well, and the runway is one region of them only
#: where the step to the field beside it is cut.
RUNWAY_UNIFORM_TOLS: tuple[float, ...] = (0.16, 0.11, 0.08, 0.05)
#: A region sharing more than this share of the smaller of the two with a runway already
#: found is that runway (read again at a finer step).
RUNWAY_SAME_OVERLAP = 0.5


def find_runways(asphalt: np.ndarray, gbox: Any, early: EarlyContext | None = None) -> tuple[Runway, ...]:
    """Elongated paved strips (length >= 400 m, length >= 8 x width, width >= 15 m).

    The strips are the connected regions of the pavement prior and, with the early
    composite, its spectrally uniform regions (coarsest step first): the prior is absolute
    and passes dark soil too, so a runway touching a dark field is one blob with it, while
    the runway itself is uniform and the step to the field cuts it off. A region is taken
    once (one that mostly overlaps a runway already found is the same runway).

    Parameters
    ----------
    asphalt : numpy.ndarray
        ``(Y, X)`` bool: pavement (asphalt or concrete, see :attr:`EarlyContext.paved`).
    gbox : odc.geo.geobox.GeoBox
        The grid (metric CRS).
    early : EarlyContext, optional
        When given, the prior is also cut into uniform regions of its composite, and each
        runway carries its interior's spectrum (an endmember of the site).

    Returns
    -------
    tuple of Runway
    """
    res_m = abs(float(gbox.resolution.x))
    min_px = max(9, int(RUNWAY_MIN_LENGTH_M * 15 / res_m**2))
    regions = [np.asarray(label_changes(asphalt, min_pixels=min_px))]
    if early is not None:
        regions += label_uniform(early.composite, asphalt, tols=RUNWAY_UNIFORM_TOLS, min_pixels=min_px)
    out: list[Runway] = []
    for labels in regions:
        for lab, geom in vectorize(labels.astype(np.int32), gbox, simplify_px=0.5):
            m = measure_geometry(geom)
            long_narrow = m["length_m"] >= RUNWAY_MIN_LENGTH_M and m["length_m"] >= RUNWAY_MIN_ASPECT * max(
                m["width_m"], 1
            )
            if not (long_narrow and m["width_m"] >= RUNWAY_MIN_WIDTH_M):
                continue
            mask = labels == lab
            if any((r.mask & mask).sum() > RUNWAY_SAME_OVERLAP * min(r.mask.sum(), mask.sum()) for r in out):
                continue
            spectrum = None
            if early is not None:
                inner = ndimage.binary_erosion(mask)
                spectrum = early.mean_spectrum(inner if inner.sum() >= 10 else mask)
            out.append(
                Runway(
                    label=len(out) + 1,
                    geometry=geom,
                    mask=mask,
                    length_m=m["length_m"],
                    width_m=m["width_m"],
                    orientation_deg=m["orientation_deg"],
                    spectrum=spectrum,
                )
            )
    return tuple(out)


def site_context(
    stack: xr.DataArray,
    clear: np.ndarray,
    break_index: np.ndarray,
    *,
    rules: SurfaceRules = DEFAULT_RULES,
) -> SiteContext:
    """The site before the change: :func:`early_context`, its runways and its facilities.

    Parameters
    ----------
    stack, clear, break_index, rules
        As :func:`early_context`; ``stack`` carries its grid (``stack.odc.geobox``).

    Returns
    -------
    SiteContext
    """
    early = early_context(stack, clear, break_index, rules=rules)
    paved = early.paved if early.paved is not None else early.asphalt
    runways = find_runways(paved, stack.odc.geobox, early)
    # facilities: built-up areas without the roads and tracks that link them
    facilities, _ = ndimage.label(
        ndimage.binary_opening(early.built, structure=np.ones((3, 3)), iterations=2)
    )
    surfaces = site_surfaces(early, runways, rules)
    soil = series_soil(stack, clear, early, rules)
    if soil is not None:
        surfaces["soil"] = soil
    return SiteContext(
        early=early,
        runways=runways,
        facilities=facilities,
        built_before=built_not_ground(early, surfaces, rules),
        surfaces=surfaces,
    )


def built_not_ground(
    early: EarlyContext, surfaces: dict[str, dict[str, float]], rules: SurfaceRules = DEFAULT_RULES
) -> np.ndarray:
    """The early built-up area without the pixels whose composite is the site's own ground.

    The absolute built-up test passes dark soil (a chernozem's fields are dark, flat and
    rise little into the SWIR): on such a site it flagged 45 % of the site as built, and a
    pad laid on a field was not "built where the site was not" and stayed merged with the
    field. A pixel within ``rules.site_ground_rms`` of the site's ``ground`` (or series
    ``soil``) is ground, whatever the absolute test says.

    Parameters
    ----------
    early : EarlyContext
        The early composite and its built-up area.
    surfaces : dict
        :attr:`SiteContext.surfaces`.
    rules : SurfaceRules

    Returns
    -------
    numpy.ndarray
        ``(Y, X)`` bool.
    """
    out = early.built.copy()
    if not early.bands:
        return out
    for name in ("ground", "soil"):
        ground = surfaces.get(name)
        if ground is None:
            continue
        g = np.asarray([ground[b] for b in early.bands], np.float32)[:, None, None]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a pixel never clear early: no composite
            rms = np.sqrt(np.nanmean((early.composite - g) ** 2, axis=0))
        out &= ~(rms <= rules.site_ground_rms)
    return out


def series_soil(
    stack: xr.DataArray,
    clear: np.ndarray,
    early: EarlyContext,
    rules: SurfaceRules = DEFAULT_RULES,
    *,
    max_pixels: int = 4096,
) -> dict[str, float] | None:
    """The site's bare ground over the whole series: every bare clear observation off the built area.

    The early composite sees the fields mostly green or under stubble; over a whole series
    they are also bare soil, ploughed (darker) and pale again. Unmixed against this ground
    too, a ploughed field is told from a dark pavement by its shape (soils rise into the SWIR)
    rather than by an absolute prior. Read on a regular sample of at most ``max_pixels``
    pixels (the same on any AOI size).

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    early : EarlyContext
    rules : SurfaceRules
        ``earth_max_ndvi``: bare below it.
    max_pixels : int

    Returns
    -------
    dict or None
        None when fewer than 50 bare observations are seen.
    """
    names = [str(b) for b in stack.coords["band"].values]
    nir_name = nir_band(names)
    if "B04" not in names or nir_name is None:
        return None
    ny, nx = clear.shape[1:]
    step = max(1, int(np.ceil(np.sqrt(ny * nx / max_pixels))))
    paved = early.paved if early.paved is not None else early.asphalt
    off = ~ndimage.binary_dilation(early.built | paved, iterations=2)[::step, ::step]
    vals = stack.values[:, :, ::step, ::step].astype(np.float32) * np.float32(1e-4)
    red, nir = vals[:, names.index("B04")], vals[:, names.index(nir_name)]
    with np.errstate(invalid="ignore", divide="ignore"):
        ndvi = (nir - red) / (nir + red)
    bare = clear[:, ::step, ::step] & off[None] & (ndvi < rules.earth_max_ndvi)
    if bare.sum() < 50:
        return None
    obs = np.moveaxis(vals, 1, -1)[bare]  # (N, B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(obs, axis=0)
    if not np.isfinite(med).all():
        return None
    return {b: float(v) for b, v in zip(names, med, strict=True)}


def site_surfaces(
    early: EarlyContext, runways: tuple[Runway, ...], rules: SurfaceRules = DEFAULT_RULES
) -> dict[str, dict[str, float]]:
    """The site's own surfaces before the change, as endmembers for the relative typing.

    Parameters
    ----------
    early : EarlyContext
    runways : tuple of Runway
    rules : SurfaceRules

    Returns
    -------
    dict
        ``ground``: bare soil and stubble outside the built-up area (not green, not paved);
        ``built``: the built-up area; ``runway``: the runways' interiors. Each only where
        the site has it.
    """
    out: dict[str, dict[str, float]] = {}
    if not early.bands:
        return out
    spec = {b: early.composite[i] for i, b in enumerate(early.bands)}
    ndvi = surface_indices(spec)["ndvi"]
    paved = early.paved if early.paved is not None else early.asphalt
    bare_all = ndvi < rules.earth_max_ndvi
    bare = bare_all & ~ndimage.binary_dilation(early.built | paved, iterations=2)
    if bare.sum() < 0.5 * bare_all.sum():
        # the absolute priors took most of the site's bare area for pavement or buildings (dark
        # soil passes the asphalt test): the site's ground is what most of its bare area is
        bare = bare_all
    if bare.sum() >= 20:
        ground = early.mean_spectrum(bare)
        if ground is not None:
            out["ground"] = ground
    built = early.built & ~paved
    if built.sum() >= 20:
        b = early.mean_spectrum(built)
        if b is not None:
            out["built"] = b
    rw = [r.spectrum for r in runways if r.spectrum is not None]
    if rw:
        out["runway"] = {b: float(np.median([s[b] for s in rw])) for b in rw[0]}
    return out


def late_composite(stack: xr.DataArray, clear: np.ndarray, n_obs: int = 6, *, from_t: int = 0) -> np.ndarray:
    """Per pixel, the median of its last ``n_obs`` clear observations from date ``from_t`` on.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000.
    clear : numpy.ndarray
        ``(time, y, x)`` bool.
    n_obs : int
    from_t : int

    Returns
    -------
    numpy.ndarray
        Reflectance ``(B, Y, X)``; NaN where a pixel has no clear observation from ``from_t``.
    """
    t_n = stack.sizes["time"]
    # the most recent clear observations: count clear dates from the end
    clear = clear.copy()
    clear[:from_t] = False
    from_end = np.cumsum(clear[::-1], axis=0)[::-1]
    use = clear & (from_end <= n_obs)
    first = int(np.argmax(use.any(axis=(1, 2)))) if use.any() else t_n
    vals = stack.values[first:].astype(np.float32) * np.float32(1e-4)
    vals[~np.broadcast_to(use[first:, None], vals.shape)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out: np.ndarray = np.nanmedian(vals, axis=0)
    return out
