"""Cloud, cloud-shadow and no-data masks over a ``(time, band, y, x)`` stack.

What it offers
--------------
- :func:`pixel_classes` : one code per pixel and date (``NODATA``, ``CLEAR``, ``CLOUD``,
  ``SHADOW``, ``SNOW``), from the Sen2Cor scene classification (``SCL``) when the stack has
  it, else computed: clouds with the ``s2cloudless`` LightGBM model on top-of-atmosphere
  bands (falling back to spectral rules when its ten bands are not all there), shadows with
  a darkness rule restricted to the neighbourhood of the detected clouds, snow and ice with
  the normalised difference snow index (:func:`snow_cover`).
- :func:`clear_mask` : ``True`` where a pixel is valid and neither cloud, shadow nor snow
  (snow hides the ground: a snowy date is no observation of it).
- :func:`shadows_from_reference` : more shadows, found as strong NIR+SWIR darkening against
  another date or a composite, up to 3 km from a cloud (winter shadows fall far).
- :func:`valid_fraction` : the clear fraction per date.
- :func:`scl_classes` : the SCL to sitewatch code table as a function.

All functions are pure (xarray in, xarray out) and keep the stack's coordinates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import xarray as xr
from scipy import ndimage

from sitewatch.core.bands import nir_band

__all__ = [
    "CLEAR",
    "CLOUD",
    "NODATA",
    "SHADOW",
    "SNOW",
    "S2CLOUDLESS_BANDS",
    "SnowRules",
    "clear_mask",
    "cloud_probability",
    "pixel_classes",
    "scl_classes",
    "shadows_from_reference",
    "snow_cover",
    "snow_dates",
    "valid_fraction",
]

NODATA = 0
CLEAR = 1
CLOUD = 2
SHADOW = 3
SNOW = 4

#: Bands the s2cloudless model reads, in its order (reflectance 0..1, top of atmosphere).
S2CLOUDLESS_BANDS: tuple[str, ...] = ("B01", "B02", "B04", "B05", "B08", "B8A", "B09", "B10", "B11", "B12")

# Sen2Cor SCL: 0 no data, 1 saturated/defective, 2 dark area, 3 cloud shadow, 4 vegetation,
# 5 bare soil, 6 water, 7 unclassified, 8/9 cloud medium/high probability, 10 thin cirrus, 11 snow/ice.
_SCL_TABLE = np.array(
    [NODATA, NODATA, CLEAR, SHADOW, CLEAR, CLEAR, CLEAR, CLEAR, CLOUD, CLOUD, CLOUD, SNOW], dtype=np.uint8
)

Method = Literal["auto", "scl", "s2cloudless", "rules"]


def scl_classes(scl: np.ndarray) -> np.ndarray:
    """Map Sen2Cor SCL codes to sitewatch pixel codes.

    Parameters
    ----------
    scl : numpy.ndarray
        SCL values (any shape); NaN and codes outside 0..11 count as no data.

    Returns
    -------
    numpy.ndarray
        uint8 codes ``NODATA`` (0), ``CLEAR`` (1), ``CLOUD`` (2), ``SHADOW`` (3), ``SNOW`` (4).

    Examples
    --------
    >>> scl_classes(np.array([0, 4, 9, 3, 11])).tolist()
    [0, 1, 2, 3, 4]
    """
    values = np.asarray(scl, dtype=np.float64)
    ok = np.isfinite(values) & (values >= 0) & (values <= 11)
    idx = np.where(ok, values, 0).astype(np.int64)
    out = _SCL_TABLE[idx]
    out[~ok] = NODATA
    return out


def _band(stack: xr.DataArray, name: str) -> np.ndarray:
    return np.asarray(stack.sel(band=name).values, dtype=np.float32)


def _has(stack: xr.DataArray, names: Sequence[str]) -> bool:
    present = {str(b) for b in stack.coords["band"].values}
    return all(n in present for n in names)


def _spectral_bands(stack: xr.DataArray) -> list[str]:
    return [str(b) for b in stack.coords["band"].values if str(b) != "SCL"]


def cloud_probability(
    stack: xr.DataArray,
    *,
    block: int = 8,
) -> xr.DataArray:
    """Cloud probability per pixel from the ``s2cloudless`` model.

    The model was trained on top-of-atmosphere (L1C) reflectance at 160 m; it is run on
    ``block`` x ``block`` averages (8 x 8 at 10 m = 80 m) and the result is expanded back:
    clouds are much larger than a few pixels, and it is 64 times faster. (16 x 16, the
    model's native 160 m, smears bright construction sites into cloud blobs on L1C.)

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000 holding the bands in
        :data:`S2CLOUDLESS_BANDS`.
    block : int
        Averaging block in pixels before classification (1 = full resolution).

    Returns
    -------
    xarray.DataArray
        float32 ``(time, y, x)`` in 0..1, NaN where any input band is missing.

    Raises
    ------
    BandMissingError
        If a band the model needs is absent.
    """
    from sitewatch.errors import BandMissingError

    if not _has(stack, S2CLOUDLESS_BANDS):
        missing = [b for b in S2CLOUDLESS_BANDS if b not in set(map(str, stack.coords["band"].values))]
        raise BandMissingError(
            f"s2cloudless needs bands {', '.join(S2CLOUDLESS_BANDS)}; the stack lacks {', '.join(missing)}: "
            "load them, or use method='rules'"
        )
    t, h, w = stack.sizes["time"], stack.sizes["y"], stack.sizes["x"]
    hb, wb = -(-h // block), -(-w // block)
    pad = ((0, 0), (0, hb * block - h), (0, wb * block - w))
    valid = np.ones((t, h, w), bool)
    small = np.empty((t, hb, wb, len(S2CLOUDLESS_BANDS)), np.float32)  # block means, reflectance 0..1
    for k, name in enumerate(S2CLOUDLESS_BANDS):
        # band by band: no (time, y, x, band) copies of the full-resolution stack
        x = _band(stack, name)
        finite = np.isfinite(x)
        valid &= finite
        filled = np.where(finite, x, np.float32(0.0))
        if pad[1][1] or pad[2][1]:
            filled = np.pad(filled, pad, mode="edge")
        small[..., k] = filled.reshape(t, hb, block, wb, block).mean(axis=(2, 4)) / 10000.0
    probs = _detector().get_cloud_probability_maps(small).astype(np.float32)
    full = np.repeat(np.repeat(probs, block, axis=1), block, axis=2)[:, :h, :w]
    full[~valid] = np.nan
    return xr.DataArray(
        full,
        dims=("time", "y", "x"),
        coords={k: v for k, v in stack.coords.items() if "band" not in v.dims and k != "band"},
        name="cloud_probability",
    )


@lru_cache(maxsize=1)
def _detector() -> Any:
    # loading the LightGBM model takes longer than running it on a scene: load it once
    from s2cloudless import S2PixelCloudDetector

    return S2PixelCloudDetector(threshold=0.4, average_over=0, dilation_size=0, all_bands=False)


def _rule_clouds(stack: xr.DataArray) -> np.ndarray:
    """Bright, white, cold-looking pixels (a simple haze-optimised rule set)."""
    from sitewatch.errors import BandMissingError

    lacking = [b for b in ("B02", "B04") if not _has(stack, [b])]
    if lacking:
        raise BandMissingError(
            f"computed cloud masks need B02 and B04; the stack lacks {', '.join(lacking)} (it has "
            f"{', '.join(_spectral_bands(stack))}): load those bands, or give the SCL band"
        )
    blue = _band(stack, "B02") / 10000.0
    green = _band(stack, "B03") / 10000.0 if _has(stack, ["B03"]) else blue
    red = _band(stack, "B04") / 10000.0
    mean_vis = (blue + green + red) / 3.0
    whiteness = (np.abs(blue - mean_vis) + np.abs(green - mean_vis) + np.abs(red - mean_vis)) / np.maximum(
        mean_vis, 1e-6
    )
    cloud = (blue > 0.22) & (whiteness < 0.35)
    if _has(stack, ["B11"]):
        swir = _band(stack, "B11") / 10000.0
        # Bright bare soil and roofs are bright in SWIR too but not blue-dominated;
        # snow is dark in SWIR. Clouds stay bright in SWIR.
        cloud &= swir > 0.12
        cloud &= (blue - 0.5 * red) > 0.08
    if _has(stack, ["B10"]):
        cloud |= _band(stack, "B10") / 10000.0 > 0.03  # cirrus
    return cloud


@dataclass(frozen=True)
class SnowRules:
    """The snow and ice test of computed masks (reflectance 0..1), after the MODIS SNOMAP rules.

    Snow is bright in the visible and the NIR and dark in the SWIR (ice absorbs there):
    its normalised difference snow index ``(B03 - SWIR) / (B03 + SWIR)`` is 0.6 to 0.9,
    that of soil, rock, roofs and vegetation below zero, that of water clouds near zero.
    Water also has a high index (it is darker still in the SWIR) but is dark in the NIR;
    dark pixels (shadows) give ratios of noise.

    Parameters
    ----------
    min_ndsi : float
        Snow index from B03 and B11 (B12 where there is no B11: snow is darker in it,
        soils a little darker too, so the same threshold holds).
    min_nir : float
        NIR (B08 or B8A) at least this: not water.
    min_green : float
        B03 at least this: not a dark pixel.
    min_nir_green : float
        NIR / green at least this: snow's NIR is nearly as bright as its green; turbid
        water and wet dark ground fall far below.
    patchy_min_ndsi : float
        On a date with snow (at least ``patchy_min_share`` of its valid pixels pass the
        test above), a pixel with a snow index above this (and the same guards) is patchy
        snow too: 40 % of a pixel under snow lifts bare soil's index from about -0.4 to
        0.16-0.49, which no soil, rock, roof, tent or vegetation reaches. Such pixels, at
        the edges of snow fields and where it melts, are no observation of the ground:
        taken as clear, a melting winter at the end of a series made harvested fields'
        "after" states brighter in the visible and darker in the SWIR, typed as pads.

        Read from B11 only: from B12 every index is higher (a white tent's 0.06 is 0.17,
        a cloud's 0.14 is 0.3), which leaves no room between this test and the one above.
    patchy_min_share : float
        See ``patchy_min_ndsi``.
    """

    min_ndsi: float = 0.4
    min_nir: float = 0.11
    min_green: float = 0.10
    min_nir_green: float = 0.6
    patchy_min_ndsi: float = 0.15
    patchy_min_share: float = 0.005


DEFAULT_SNOW_RULES = SnowRules()


def snow_cover(
    stack: xr.DataArray, *, rules: SnowRules = DEFAULT_SNOW_RULES, snowy_dates: np.ndarray | None = None
) -> np.ndarray:
    """Snow and ice per pixel and date from the spectra (the snow index and its guards).

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000 with B03, a NIR band (B08 or B8A) and a
        SWIR band (B11 or B12).
    rules : SnowRules
    snowy_dates : numpy.ndarray, optional
        ``(time,)`` bool: the dates with snow, where patchy snow is looked for too (see
        ``SnowRules.patchy_min_ndsi``); by default judged on ``stack`` itself. Give
        :func:`snow_dates` of the whole image when ``stack`` is one block of it.

    Returns
    -------
    numpy.ndarray
        bool ``(time, y, x)``; all False when the bands the test needs are not there.

    Examples
    --------
    >>> snow = np.array([8800, 8600, 7500, 900], np.float32)  # B03 B04 B08 B11: fresh snow
    >>> soil = np.array([1500, 2000, 2600, 3600], np.float32)
    >>> water = np.array([900, 600, 300, 100], np.float32)
    >>> data = np.stack([snow, soil, water], axis=-1)[None, :, None, :]
    >>> dims, bands = ("time", "band", "y", "x"), ["B03", "B04", "B08", "B11"]
    >>> stack = xr.DataArray(data, dims=dims, coords={"band": bands})
    >>> snow_cover(stack)[0, 0].tolist()
    [True, False, False]
    """
    shape = (stack.sizes["time"], stack.sizes["y"], stack.sizes["x"])
    snow_bands = _snow_bands(stack)
    if snow_bands is None:
        return np.zeros(shape, bool)
    nir_name, swir_name = snow_bands
    ndsi, guards = _snow_index(_band(stack, "B03"), _band(stack, nir_name), _band(stack, swir_name), rules)
    out: np.ndarray = (ndsi > rules.min_ndsi) & guards
    snowy = np.asarray(_snowy(out, ndsi, rules) if snowy_dates is None else snowy_dates, bool)
    if snowy.any() and swir_name == "B11":
        out[snowy] |= (ndsi[snowy] > rules.patchy_min_ndsi) & guards[snowy]
    return out


def _snow_bands(stack: xr.DataArray) -> tuple[str, str] | None:
    """The NIR and SWIR bands the snow test reads, or None when ``stack`` lacks B03, a NIR or a SWIR band."""
    nir_name = nir_band(stack.coords["band"].values)
    swir_name = "B11" if _has(stack, ["B11"]) else "B12"
    if nir_name is None or not _has(stack, ["B03", swir_name]):
        return None
    return nir_name, swir_name


def _snow_index(green: Any, nir: Any, swir: Any, rules: SnowRules) -> tuple[Any, Any]:
    """The snow index and its guards, from bands x 10000 (numpy or dask arrays alike)."""
    green, nir, swir = green / 10000.0, nir / 10000.0, swir / 10000.0
    with np.errstate(invalid="ignore", divide="ignore"):
        ndsi = (green - swir) / (green + swir)
        guards = (nir > rules.min_nir) & (green > rules.min_green) & (nir > rules.min_nir_green * green)
    return ndsi, guards


def snow_dates(stack: xr.DataArray, *, rules: SnowRules = DEFAULT_SNOW_RULES) -> np.ndarray:
    """The dates with snow: at least ``rules.patchy_min_share`` of their valid pixels pass the test.

    On those dates :func:`snow_cover` takes patchy snow too. Judged on the whole image, so
    a stack classified block by block (:func:`pixel_classes` on a dask-backed stack) makes
    the same call on every block; one reduction over three bands when lazy.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, in memory or dask-backed.
    rules : SnowRules

    Returns
    -------
    numpy.ndarray
        bool ``(time,)``; all False when the bands the test needs are not there.
    """
    snow_bands = _snow_bands(stack)
    if snow_bands is None:
        return np.zeros(stack.sizes["time"], bool)
    nir_name, swir_name = snow_bands
    green, nir, swir = (stack.sel(band=b).data for b in ("B03", nir_name, swir_name))
    ndsi, guards = _snow_index(green, nir, swir, rules)
    snowy = _snowy((ndsi > rules.min_ndsi) & guards, ndsi, rules)
    return np.asarray(snowy.compute() if hasattr(snowy, "compute") else snowy, bool)


def _snowy(strict: Any, ndsi: Any, rules: SnowRules) -> Any:
    """``(time,)`` the dates where the strict test finds snow on enough of the valid pixels."""
    n_snow = strict.sum(axis=(1, 2))
    n_valid = np.isfinite(ndsi).sum(axis=(1, 2))
    return (n_snow >= rules.patchy_min_share * np.maximum(n_valid, 1)) & (n_snow > 0)


def _shadows(stack: xr.DataArray, cloud: np.ndarray, *, search_px: int) -> np.ndarray:
    """Dark pixels near clouds: dark in NIR and SWIR (absolutely and relative to the scene), not water.

    The relative test (below 60 % of the median of the cloud-free pixels) keeps dark
    winter cities and forests, which pass the absolute thresholds, out of the shadow mask.
    """
    nir_name = nir_band(stack.coords["band"].values)
    if nir_name is None:
        return np.zeros_like(cloud)
    nir = _band(stack, nir_name) / 10000.0
    dark = np.zeros_like(cloud)
    swir = _band(stack, "B11") / 10000.0 if _has(stack, ["B11"]) else None
    for t in range(cloud.shape[0]):
        free = ~cloud[t] & np.isfinite(nir[t])
        if not free.any():
            continue
        ref_nir = float(np.median(nir[t][free]))
        d = nir[t] < min(0.16, 0.6 * ref_nir)
        if swir is not None:
            ref_swir = float(np.nanmedian(swir[t][free]))
            d &= swir[t] < min(0.12, 0.6 * ref_swir)
        dark[t] = d
    if swir is not None and _has(stack, ["B03"]):
        # open water is darker in SWIR than in green: keep it clear
        green = _band(stack, "B03") / 10000.0
        dark &= ~((green - swir) / np.maximum(green + swir, 1e-6) > 0.3)
    near = np.zeros_like(cloud)
    for t in range(cloud.shape[0]):
        if cloud[t].any():
            dist = ndimage.distance_transform_edt(~cloud[t])
            near[t] = dist <= search_px
    return dark & near & ~cloud


def pixel_classes(
    stack: xr.DataArray,
    *,
    method: Method = "auto",
    cloud_threshold: float = 0.5,
    buffer_px: int = 2,
    shadow_search_px: int = 100,
    average_px: int = 16,
    snowy_dates: np.ndarray | None = None,
) -> xr.DataArray:
    """Classify each pixel of each date as no data, clear, cloud, shadow or snow.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, y, x)`` reflectance x 10000, NaN for no data.
    method : {"auto", "scl", "s2cloudless", "rules"}
        ``"auto"`` uses SCL when the stack has it, else s2cloudless when its bands are
        there, else the spectral rules.
    cloud_threshold : float
        s2cloudless probability above which a pixel is cloud. 0.5 is stricter than the
        library's 0.4 because bright urban roofs and desert reach 0.4 on L1C.
    buffer_px : int
        Clouds are dilated by this many pixels (their edges are thin and half mixed).
    shadow_search_px : int
        How far from a cloud (pixels) a dark pixel may be to count as its shadow.
    average_px : int
        The s2cloudless probability is averaged over a ``2 r + 1`` pixel window before
        thresholding (the library's own advice is ``average_over=22`` at 10 m); with the
        rules, a flagged patch is kept (whole) only where the window average of the flag
        is cloudy too. It removes
        isolated bright roofs, sand and fresh earthworks that score high on L1C, which
        would otherwise hide exactly the construction a comparison looks for; on the
        s2cloudless reference sample it costs 0.003 in F1.
    snowy_dates : numpy.ndarray, optional
        ``(time,)`` bool, for :func:`snow_cover` (by default judged on ``stack``; a
        dask-backed stack judges them on the whole image before its blocks).

    Returns
    -------
    xarray.DataArray
        uint8 ``(time, y, x)`` with codes :data:`NODATA`, :data:`CLEAR`, :data:`CLOUD`,
        :data:`SHADOW`, :data:`SNOW` (SCL class 11, or :func:`snow_cover` for computed
        masks); ``attrs["method"]`` says which method ran.

    Examples
    --------
    >>> classes = pixel_classes(stack)  # doctest: +SKIP
    >>> (classes == CLOUD).mean()  # doctest: +SKIP
    """
    if stack.chunks is not None:
        return _pixel_classes_chunked(
            stack,
            method=method,
            cloud_threshold=cloud_threshold,
            buffer_px=buffer_px,
            shadow_search_px=shadow_search_px,
            average_px=average_px,
            snowy_dates=snow_dates(stack) if snowy_dates is None else snowy_dates,
        )
    bands = _spectral_bands(stack)
    nodata = np.zeros((stack.sizes["time"], stack.sizes["y"], stack.sizes["x"]), bool)
    for name in bands:
        # band by band on views: no copy of the whole stack
        nodata |= ~np.isfinite(stack.sel(band=name).values)
    if method == "auto":
        if _has(stack, ["SCL"]):
            method = "scl"
        elif _has(stack, S2CLOUDLESS_BANDS):
            method = "s2cloudless"
        else:
            method = "rules"
    if method == "scl":
        codes = scl_classes(_band(stack, "SCL"))
        # Sen2Cor classes a pixel snow when most of it is: thin and patchy snow it calls
        # clear hides the ground all the same
        codes[(codes == CLEAR) & snow_cover(stack, snowy_dates=snowy_dates)] = SNOW
        codes[nodata] = NODATA
    else:
        if method == "s2cloudless":
            prob = np.nan_to_num(cloud_probability(stack).values, nan=0.0)
            threshold = cloud_threshold
        else:
            prob = _rule_clouds(stack).astype(np.float32)
            threshold = 0.5
        cloud = prob > threshold
        if average_px > 0:
            size = (1, 2 * average_px + 1, 2 * average_px + 1)
            averaged = ndimage.uniform_filter(prob, size=size, mode="nearest") > threshold
            if method == "s2cloudless":
                # as the library does: threshold the averaged probability
                cloud = averaged
            else:
                # binary rule flags: a patch is kept whole where its window average is cloudy
                # too, so isolated bright roofs and sand go while cloud edges stay
                cloud = np.stack([_keep_seeded(c, s) for c, s in zip(cloud, averaged, strict=True)])
        cloud &= ~nodata
        if buffer_px > 0 and cloud.any():
            disk = _disk(buffer_px)
            cloud = np.stack([ndimage.binary_dilation(c, disk) if c.any() else c for c in cloud])
        shadow = _shadows(stack, cloud, search_px=shadow_search_px)
        codes = np.full(cloud.shape, CLEAR, dtype=np.uint8)
        codes[shadow] = SHADOW
        codes[snow_cover(stack, snowy_dates=snowy_dates)] = SNOW
        codes[cloud] = CLOUD
        codes[nodata] = NODATA
    coords = {k: v for k, v in stack.coords.items() if "band" not in v.dims and k != "band"}
    return xr.DataArray(
        codes, dims=("time", "y", "x"), coords=coords, name="pixel_class", attrs={"method": method}
    )


def _pixel_classes_chunked(stack: xr.DataArray, *, method: Method, **options: Any) -> xr.DataArray:
    """:func:`pixel_classes` of a dask-backed stack, lazily, one date and one spatial block at a time.

    SCL is read pixel by pixel; the computed masks look around each pixel (cloud
    averaging, buffers, the shadow search), so their blocks overlap by that reach
    (:func:`dask.array.map_overlap`), rounded up to whole s2cloudless averaging cells.
    Clouds larger than the overlap are judged on the part each block sees.
    """
    import dask.array as da

    if method == "auto":
        method = (
            "scl" if _has(stack, ["SCL"]) else "s2cloudless" if _has(stack, S2CLOUDLESS_BANDS) else "rules"
        )
    band_coord = stack.coords["band"]
    bands = [str(b) for b in band_coord.values]
    if method == "scl":
        depth = 0
    else:
        reach = int(options["shadow_search_px"]) + int(options["buffer_px"]) + int(options["average_px"])
        depth = 16 * math.ceil((reach + 8) / 16)
    data = stack.data.rechunk((1, -1, *stack.data.chunks[2:]))
    if depth and min(min(c) for c in data.chunks[2:]) < depth:
        # an overlap reaches one block further at most: blocks at least as big as the reach
        size = max(depth, max(data.chunks[2]), max(data.chunks[3]))
        data = data.rechunk((1, -1, size, size))

    snowy = np.asarray(options.pop("snowy_dates"), bool)

    def classify(block: np.ndarray, block_info: dict[Any, Any] | None = None) -> np.ndarray:
        sub = xr.DataArray(block, dims=("time", "band", "y", "x"), coords={"band": bands})
        t0, t1 = block_info[0]["array-location"][0] if block_info else (0, block.shape[0])
        codes: np.ndarray = pixel_classes(sub, method=method, snowy_dates=snowy[t0:t1], **options).values
        return codes[:, None]

    if depth:
        overlap_px = {2: depth, 3: depth}
        grown = da.overlap.overlap(data, depth=overlap_px, boundary="none")
        codes = grown.map_blocks(classify, dtype=np.uint8, chunks=(grown.chunks[0], (1,), *grown.chunks[2:]))
        out = da.overlap.trim_internal(codes, overlap_px, boundary="none")
    else:
        out = da.map_blocks(classify, data, dtype=np.uint8, chunks=(data.chunks[0], (1,), *data.chunks[2:]))
    coords = {k: v for k, v in stack.coords.items() if "band" not in v.dims and k != "band"}
    return xr.DataArray(
        out[:, 0], dims=("time", "y", "x"), coords=coords, name="pixel_class", attrs={"method": method}
    )


def _keep_seeded(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """Connected components of ``mask`` that touch ``seeds`` (morphological reconstruction)."""
    if not mask.any():
        return mask
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), bool))
    keep = np.zeros(n + 1, bool)
    keep[np.unique(labels[seeds & mask])] = True
    keep[0] = False
    return keep[labels]


def shadows_from_reference(
    classes: xr.DataArray,
    stack: xr.DataArray,
    reference: xr.DataArray,
    *,
    darkening: float = 0.6,
    search_px: int = 300,
) -> xr.DataArray:
    """Add cloud shadows found by comparison with a cloud-free reference image.

    A clear pixel near a cloud of its own date that is much darker than the reference in
    both NIR and SWIR (below ``darkening`` times the reference) is a cloud shadow: land
    cover rarely darkens in both at once, a shadow always does; the pixel must also be dark
    outright (NIR < 0.12, SWIR < 0.10). This catches the shadows
    that absolute darkness rules miss over bright ground and in winter scenes.

    Parameters
    ----------
    classes : xarray.DataArray
        uint8 ``(time, y, x)`` from :func:`pixel_classes`.
    stack : xarray.DataArray
        The ``(time, band, y, x)`` stack the classes describe.
    reference : xarray.DataArray
        ``(band, y, x)`` (or one-date stack) on the same grid: another date or a
        cloud-free composite (e.g. the per-pixel median of a series).
    darkening : float
        How much darker than the reference a shadow is at least (ratio, both bands).
    search_px : int
        How far from a cloud (pixels) a shadow may be: 300 px = 3 km, the offset of the
        shadow of a 1.5 km high cloud under a winter sun 25 degrees high.

    Returns
    -------
    xarray.DataArray
        The classes with the new :data:`SHADOW` pixels.
    """
    if "time" in reference.dims:
        reference = reference.isel(time=0)
    ref_bands = {str(b) for b in reference.coords["band"].values}
    nir_name = nir_band({str(b) for b in stack.coords["band"].values} & ref_bands)
    if nir_name is None or not (_has(stack, ["B11"]) and "B11" in ref_bands):
        return classes
    codes = classes.values.copy()
    ref_nir = reference.sel(band=nir_name).values
    ref_swir = reference.sel(band="B11").values
    nir = _band(stack, nir_name)
    swir = _band(stack, "B11")
    with np.errstate(invalid="ignore"):
        # relatively darker than the reference, and dark in absolute terms (a shadow is dark;
        # ground that later brightens, like a new roof, need not be)
        dark = (nir < darkening * ref_nir) & (swir < darkening * ref_swir) & (nir < 1200) & (swir < 1000)
    for t in range(codes.shape[0]):
        cloud = codes[t] == CLOUD
        if not cloud.any():
            continue
        near = ndimage.distance_transform_edt(~cloud) <= search_px
        new = dark[t] & near & (codes[t] == CLEAR)
        codes[t][new] = SHADOW
    return classes.copy(data=codes)


def _disk(radius: int) -> np.ndarray:
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return (xx**2 + yy**2) <= radius**2


def clear_mask(
    stack: xr.DataArray,
    *,
    method: Method = "auto",
    cloud_threshold: float = 0.5,
    buffer_px: int = 2,
    shadow_search_px: int = 100,
    average_px: int = 16,
) -> xr.DataArray:
    """``True`` where a pixel holds valid data and is neither cloud, cloud shadow nor snow.

    Parameters are those of :func:`pixel_classes`.

    Returns
    -------
    xarray.DataArray
        bool ``(time, y, x)``.

    Examples
    --------
    >>> clear = clear_mask(stack)  # doctest: +SKIP
    >>> valid_fraction(clear).values  # doctest: +SKIP
    array([0.97, 0.42])
    """
    classes = pixel_classes(
        stack,
        method=method,
        cloud_threshold=cloud_threshold,
        buffer_px=buffer_px,
        shadow_search_px=shadow_search_px,
        average_px=average_px,
    )
    out = classes == CLEAR
    out.name = "clear"
    out.attrs = dict(classes.attrs)
    return out


def valid_fraction(mask: xr.DataArray) -> xr.DataArray:
    """Fraction of ``True`` pixels per date of a ``(time, y, x)`` boolean mask.

    Parameters
    ----------
    mask : xarray.DataArray
        Boolean, e.g. from :func:`clear_mask`.

    Returns
    -------
    xarray.DataArray
        float ``(time,)`` in 0..1.
    """
    frac = mask.astype(np.float32).mean(dim=("y", "x"))
    frac.name = "valid_fraction"
    return frac
