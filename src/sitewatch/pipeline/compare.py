"""``compare()``: what changed between two images, in one call.

Loading, masks, co-registration, normalisation, change detection and measured objects.

What it offers
--------------
- :func:`compare` : two scenes (paths or stacks) in, a :class:`ChangeResult` out.
- :class:`ChangeResult` : the change mask (uint8: 1 change, 0 no change, 255 no valid
  data), score and magnitude rasters, the measured objects, the co-registration
  :class:`~sitewatch.core.coregister.Shift`, the
  :class:`~sitewatch.core.normalize.Normalization`, clear fractions, and writers for
  the GeoJSON, the mask GeoTIFF and the quicklook PNG.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sitewatch.core.bands import band_requirement, plan_bands
from sitewatch.core.change import ChangeMap, ChangeParams, detect_changes, params_dict
from sitewatch.core.coregister import Shift, apply_shift, estimate_shift, pixel_size_m, reference_image
from sitewatch.core.masks import CLEAR, pixel_classes, shadows_from_reference
from sitewatch.core.normalize import Normalization, normalize
from sitewatch.errors import (
    AllCloudyError,
    BandMissingError,
    DataError,
    DataWarning,
    NoOverlapError,
    RegistrationError,
)
from sitewatch.objects.measure import MeasuredObject, measure_objects
from sitewatch.types import AOI

__all__ = ["ChangeResult", "compare"]

MASK_CHANGE = 1
MASK_NO_CHANGE = 0
MASK_NODATA = 255


@dataclass(frozen=True)
class ChangeResult:
    """Everything :func:`compare` found.

    Parameters
    ----------
    mask : xarray.DataArray
        uint8 ``(y, x)`` on BEFORE's grid: 1 change, 0 no change, 255 no valid data.
    change : ChangeMap
        Score, magnitude, angle, index differences, labels and the threshold.
    objects : list of MeasuredObject
        The changed objects, measured, with per-object statistics.
    shift : Shift
        Co-registration of AFTER onto BEFORE.
    normalization : Normalization
    clear_fraction : tuple of float
        Share of clear, valid pixels in BEFORE and AFTER.
    before_id, after_id : str
    params : ChangeParams
    timings_s : dict
        Seconds spent per step.
    notes : list of str
        Warnings raised on the way, in words.
    """

    mask: xr.DataArray
    change: ChangeMap
    objects: list[MeasuredObject]
    shift: Shift
    normalization: Normalization
    clear_fraction: tuple[float, float]
    before_id: str = ""
    after_id: str = ""
    before_date: str = ""
    after_date: str = ""
    params: ChangeParams = field(default_factory=ChangeParams)
    timings_s: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def magnitude(self) -> xr.DataArray:
        """Change-vector magnitude ``(y, x)``."""
        return self.change.magnitude

    @property
    def score(self) -> xr.DataArray:
        """Contextual change score ``(y, x)``."""
        return self.change.score

    def summary(self) -> dict[str, Any]:
        """Run description for reports and the GeoJSON ``sitewatch`` foreign member."""
        return {
            "before": {"id": self.before_id, "date": self.before_date},
            "after": {"id": self.after_id, "date": self.after_date},
            "n_objects": len(self.objects),
            "changed_area_m2": round(sum(o.area_m2 for o in self.objects), 1),
            "changed_fraction": round(self.change.changed_fraction, 5),
            "threshold": round(self.change.threshold, 4),
            "clear_fraction": [round(v, 4) for v in self.clear_fraction],
            "shift": self.shift.to_dict(),
            "normalization": self.normalization.to_dict(),
            "params": params_dict(self.params),
            "notes": list(self.notes),
        }

    def features(self) -> list[dict[str, Any]]:
        """The objects as GeoJSON-ready features (WGS84), strongest first."""
        feats = []
        for o in self.objects:
            conf = _confidence(o, self.change.threshold, self.params)
            feats.append(
                o.to_feature(
                    id=f"change-{o.label}",
                    mean_spectral_change=o.stats.get("magnitude"),
                    confidence=round(conf, 3),
                    before=self.before_date,
                    after=self.after_date,
                )
            )
        feats.sort(key=lambda f: -(f["properties"]["confidence"] or 0))
        return feats

    def write_geojson(self, path: str | Path) -> Path:
        """Write the objects as an RFC 7946 FeatureCollection (atomic)."""
        from sitewatch.export import write_geojson

        feats = [{"id": f["properties"]["id"], **f} for f in self.features()]
        for f in feats:
            f["properties"].pop("id", None)
        return write_geojson(path, feats, crs="EPSG:4326", foreign={"sitewatch": self.summary()})

    def write_mask(self, path: str | Path) -> Path:
        """Write the uint8 mask GeoTIFF on BEFORE's grid (atomic)."""
        from sitewatch.export import write_mask

        return write_mask(path, self.mask, nodata=MASK_NODATA)

    def quicklook(self, path: str | Path, *, before: xr.DataArray, after: xr.DataArray) -> Path:
        """Write a PNG: before, after, change with outlines."""
        from sitewatch.plots import change_quicklook

        return change_quicklook(path, before, after, self.mask, self.change.labels, title=self._title())

    def _title(self) -> str:
        return (
            f"{self.before_date} -> {self.after_date}: {len(self.objects)} changed objects, "
            f"shift dy={self.shift.dy:.2f} dx={self.shift.dx:.2f} px"
        )


def _confidence(obj: MeasuredObject, threshold: float, params: ChangeParams) -> float:
    """Heuristic 0..1: how far the object's mean score is above the threshold, and its size.

    0.5 at the threshold, rising towards 1 at twice the threshold; objects barely above
    the minimum mapping unit are discounted (a few pixels can be misregistration).
    """
    score = obj.stats.get("score", float("nan"))
    if not math.isfinite(score) or not threshold > 0:
        return 0.0
    ratio = score / threshold
    base = 0.5 + 0.5 * math.tanh(2.0 * (ratio - 1.0))
    min_px = max(params.min_area_m2 / 100.0, 1.0)
    size = min(1.0, (obj.n_pixels / (3.0 * min_px)) ** 0.25)
    return float(max(0.0, min(1.0, base * size)))


def _as_stack(x: str | Path | xr.DataArray, **kwargs: Any) -> xr.DataArray:
    if isinstance(x, xr.DataArray):
        return x
    from sitewatch.providers.local import open_scene

    return open_scene(x, **kwargs)


def _float_stack(da: xr.DataArray) -> xr.DataArray:
    if np.issubdtype(da.dtype, np.integer):
        # integer digital numbers: 0 is the Sentinel-2 no-data value
        da = da.where(da != 0).astype(np.float32)
    elif da.dtype != np.float32:
        da = da.astype(np.float32)
    if "time" not in da.dims:
        da = da.expand_dims("time")
    return da


def _shifted_bands(da: xr.DataArray, bands: list[str], shift: Shift) -> xr.DataArray:
    """The named bands of a one-date stack, shifted (one new array, no intermediate copy)."""
    values = np.asarray(da.values)
    index = {str(x): i for i, x in enumerate(da.coords["band"].values)}
    out = np.empty((1, len(bands), *values.shape[-2:]), np.float32)
    for j, name in enumerate(bands):
        out[0, j] = apply_shift(values[0, index[name]], shift)
    coords = {k: v for k, v in da.coords.items() if "band" not in v.dims}
    return xr.DataArray(out, dims=da.dims, coords={**coords, "band": bands}, name=da.name, attrs=da.attrs)


def _band_empty(da: xr.DataArray, band: str) -> bool:
    """True when a band of the first date holds no data: no finite value, or only zeros."""
    values = np.asarray(da.sel(band=band).values)[0]
    finite = values[np.isfinite(values)]
    return finite.size == 0 or not finite.any()


def _all_finite(da: xr.DataArray, bands: list[str]) -> np.ndarray:
    """``(y, x)``: True where every band of the first date is finite (band by band, no copy)."""
    values = np.asarray(da.values)
    index = {str(x): i for i, x in enumerate(da.coords["band"].values)}
    out = np.ones(values.shape[-2:], bool)
    for name in bands:
        out &= np.isfinite(values[0, index[name]])
    return out


def _date_of(da: xr.DataArray) -> str:
    if "time" in da.coords:
        return str(np.datetime_as_string(np.asarray(da.coords["time"].values).ravel()[0], unit="D"))
    return ""


def _scene_id(da: xr.DataArray) -> str:
    if "scene_id" in da.coords:
        return str(np.asarray(da.coords["scene_id"].values).ravel()[0])
    return ""


def _level(da: xr.DataArray) -> str:
    if "processing_level" in da.coords:
        return str(np.asarray(da.coords["processing_level"].values).ravel()[0])
    return ""


def compare(
    before: str | Path | xr.DataArray,
    after: str | Path | xr.DataArray,
    *,
    params: ChangeParams | None = None,
    aoi: AOI | None = None,
    coregister: bool = True,
    max_shift_px: float = 3.0,
    mask_method: str = "auto",
    min_clear_fraction: float = 0.05,
) -> ChangeResult:
    """Find what changed between two Sentinel-2 images.

    Steps: AFTER is put on BEFORE's grid; both get cloud, shadow and no-data masks;
    AFTER is co-registered to BEFORE (phase correlation, sub-pixel) and normalised to its
    radiometry on unchanged pixels; the change score is thresholded, cleaned, split into
    objects of at least ``params.min_area_m2`` and measured in metres.

    Parameters
    ----------
    before, after : str, pathlib.Path or xarray.DataArray
        Scenes in the local format (multi-band GeoTIFF or per-band folder), or stacks
        ``(time, band, y, x)`` with one date each (reflectance x 10000; integer arrays
        treat 0 as no data). AFTER is resampled onto BEFORE's grid when it is not on it.
    params : ChangeParams, optional
        Detector settings (sensitivity, minimum mapping unit...).
    aoi : AOI, optional
        Restrict BEFORE (and so the comparison) to the AOI's window.
    coregister : bool
        Estimate and apply the sub-pixel shift of AFTER.
    max_shift_px : float
        A larger estimated shift is refused (RegistrationError) rather than applied.
    mask_method : {"auto", "scl", "s2cloudless", "rules"}
        See :func:`sitewatch.core.masks.pixel_classes`.
    min_clear_fraction : float
        Refuse when less than this share of the pixels is clear in both dates.

    Returns
    -------
    ChangeResult

    Raises
    ------
    NoOverlapError
        If AFTER has no data on BEFORE's grid.
    AllCloudyError
        If either date (or both together) is (almost) all cloud or no data.
    RegistrationError
        If the shift between the dates is too large to trust.
    BandMissingError
        If a date, or the two together, lack what a comparison needs (B02, B03, B04, B08 or
        B8A, and B11 or B12; :func:`sitewatch.core.bands.plan_bands`): the message names
        the date, its scene and the bands.
    DataError
        If the inputs are not one date each or share no band.

    Examples
    --------
    >>> result = compare("oscd/images/paris/imgs_1", "oscd/images/paris/imgs_2")  # doctest: +SKIP
    >>> result.write_geojson("changes.geojson")  # doctest: +SKIP
    """
    params = params or ChangeParams()
    timings: dict[str, float] = {}
    notes: list[str] = []
    t0 = time.perf_counter()
    b, a = _load_pair(before, after, aoi)
    timings["load"] = time.perf_counter() - t0
    b, a, common = _on_common_bands(b, a, notes)
    spectral = _check_overlap(b, a, common)

    t0 = time.perf_counter()
    clear_b, clear_a = _clear_masks(b, a, mask_method)
    timings["masks"] = time.perf_counter() - t0
    frac = (float(clear_b.mean()), float(clear_a.mean()))
    for name, f, da in (("BEFORE", frac[0], b), ("AFTER", frac[1], a)):
        if f < min_clear_fraction:
            raise AllCloudyError(
                f"{name} ({_scene_id(da) or _date_of(da)}) is only {f:.1%} clear (cloud, shadow or no data); "
                "choose another date"
            )

    # past the masks, only the change and index bands matter (60 m bands and SCL are dropped)
    index_bands = {"B02", "B03", "B04", "B08", "B11", "B12"}
    keep = [x for x in spectral if x in params.bands or x in index_bands] or spectral
    t0 = time.perf_counter()
    geobox = b.odc.geobox
    size = pixel_size_m(geobox)
    a, clear_a, shift = _registered(
        b, a, clear_b, clear_a, keep, coregister=coregister, max_shift_px=max_shift_px, size=size, notes=notes
    )
    timings["coregister"] = time.perf_counter() - t0

    both = clear_b & clear_a
    if both.mean() < min_clear_fraction:
        raise AllCloudyError(
            f"only {both.mean():.1%} of the pixels are clear in both dates; choose other dates"
        )
    t0 = time.perf_counter()
    a_norm, norm = normalize(a, b, clear=both, overwrite=True)  # AFTER is compare's own copy
    timings["normalize"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    change = detect_changes(b, a_norm, valid=both, params=params, pixel_area_m2=size[0] * size[1])
    timings["detect"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    layers = {"magnitude": change.magnitude, "score": change.score, "angle_deg": change.angle}
    for idx in change.index_diff.coords["index"].values:
        layers[f"d_{idx}"] = change.index_diff.sel(index=idx)
    objects = measure_objects(change.labels, geobox, values=layers)
    timings["objects"] = time.perf_counter() - t0
    return ChangeResult(
        mask=_change_mask(change),
        change=change,
        objects=objects,
        shift=shift,
        normalization=norm,
        clear_fraction=frac,
        before_id=_scene_id(b),
        after_id=_scene_id(a),
        before_date=_date_of(b),
        after_date=_date_of(a),
        params=params,
        timings_s={k: round(v, 3) for k, v in timings.items()},
        notes=notes,
    )


def _load_pair(
    before: str | Path | xr.DataArray, after: str | Path | xr.DataArray, aoi: AOI | None
) -> tuple[xr.DataArray, xr.DataArray]:
    """BEFORE (within the AOI) and AFTER on its grid, as float stacks (only the bands BEFORE has)."""
    b = _float_stack(_as_stack(before, aoi=aoi))
    if isinstance(after, xr.DataArray):
        return b, _float_stack(after)
    from sitewatch.providers.local import find_scenes

    shared: list[str] | None = None
    scenes = find_scenes(after)
    before_bands = [str(x) for x in b.coords["band"].values]
    if len(scenes) == 1:
        after_has = set(scenes[0].bands)
        if not set(before_bands) <= after_has:
            shared = [x for x in before_bands if x in after_has]
    return b, _float_stack(_as_stack(after, geobox=b.odc.geobox, bands=shared))


def _on_common_bands(
    b: xr.DataArray, a: xr.DataArray, notes: list[str]
) -> tuple[xr.DataArray, xr.DataArray, list[str]]:
    """Both dates on their common bands and BEFORE's grid, with a note (and a warning) for what differs."""
    for name, da in (("BEFORE", b), ("AFTER", a)):
        if da.sizes["time"] != 1:
            raise DataError(f"{name} holds {da.sizes['time']} dates; compare takes one date each")
    b_bands = [str(x) for x in b.coords["band"].values]
    a_bands = [str(x) for x in a.coords["band"].values]
    common = [x for x in b_bands if x in a_bands]
    if not common:
        raise DataError(f"BEFORE ({', '.join(b_bands)}) and AFTER ({', '.join(a_bands)}) share no band")
    _check_requirement(b, b_bands, a, a_bands, common)
    if len(common) < max(len(b_bands), len(a_bands)):
        dropped = sorted(set(b_bands).symmetric_difference(a_bands))
        msg = f"bands {', '.join(dropped)} are missing in one date; comparing the {len(common)} common bands"
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
    # selecting bands copies the whole stack: only when there is something to drop
    if b_bands != common:
        b = b.sel(band=common)
    if a_bands != common:
        a = a.sel(band=common)
    if a.odc.geobox != b.odc.geobox:
        # AFTER given as a stack on its own grid: resample it onto BEFORE's
        a = a.odc.reproject(b.odc.geobox, resampling="bilinear")
        a = a.rename({d: {"latitude": "y", "longitude": "x"}.get(str(d), str(d)) for d in a.dims})
    lb, la = _level(b), _level(a)
    if lb and la and lb != la:
        msg = f"BEFORE is {lb} and AFTER is {la}: compare like with like (both L1C or both L2A)"
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
    return b, a, common


def _check_requirement(
    b: xr.DataArray, b_bands: list[str], a: xr.DataArray, a_bands: list[str], common: list[str]
) -> None:
    """Refuse, naming the date, its scene and the band, when the common bands miss what a comparison needs."""
    for name, da, bands in (("BEFORE", b, b_bands), ("AFTER", a, a_bands)):
        plan_bands(bands, what=f"{name} ({_scene_id(da) or _date_of(da) or 'image'})")
    try:
        plan_bands(common)
    except BandMissingError:
        raise BandMissingError(
            f"BEFORE ({_scene_id(b) or 'image'}: {', '.join(b_bands)}) and AFTER ({_scene_id(a) or 'image'}: "
            f"{', '.join(a_bands)}) do not share what a comparison needs ({band_requirement()})"
        ) from None


def _check_overlap(b: xr.DataArray, a: xr.DataArray, common: list[str]) -> list[str]:
    """The spectral bands, once both dates are known to hold data where the other does."""
    spectral = [x for x in common if x != "SCL"]
    # a band with no data in both dates is a broken band, not two dates that miss each other
    empty = [x for x in spectral if _band_empty(a, x) and _band_empty(b, x)]
    if empty:
        raise DataError(
            f"band(s) {', '.join(empty)} hold no data in BEFORE ({_scene_id(b) or 'image'}) nor AFTER "
            f"({_scene_id(a) or 'image'}); check the files, or compare without them"
        )
    a_valid_any = _all_finite(a, spectral)
    b_valid_any = _all_finite(b, spectral)
    if not a_valid_any.any():
        raise NoOverlapError(
            f"AFTER ({_scene_id(a) or 'image'}) holds no data on BEFORE's grid ({_scene_id(b) or 'image'}); "
            "the dates do not overlap"
        )
    if not b_valid_any.any():
        raise AllCloudyError(f"BEFORE ({_scene_id(b) or 'image'}) holds no valid data")
    if not (a_valid_any & b_valid_any).any():
        raise NoOverlapError("BEFORE and AFTER have no valid pixel in common; the dates do not overlap")
    return spectral


def _clear_masks(b: xr.DataArray, a: xr.DataArray, mask_method: str) -> tuple[np.ndarray, np.ndarray]:
    """Clear pixels of each date (shadows of computed masks checked against the other date)."""
    classes_b = pixel_classes(b, method=mask_method)  # type: ignore[arg-type]
    classes_a = pixel_classes(a, method=mask_method)  # type: ignore[arg-type]
    if classes_b.attrs.get("method") != "scl":
        classes_b = shadows_from_reference(classes_b, b, a)
    if classes_a.attrs.get("method") != "scl":
        classes_a = shadows_from_reference(classes_a, a, b)
    return classes_b.values[0] == CLEAR, classes_a.values[0] == CLEAR


def _registered(
    b: xr.DataArray,
    a: xr.DataArray,
    clear_b: np.ndarray,
    clear_a: np.ndarray,
    keep: list[str],
    *,
    coregister: bool,
    max_shift_px: float,
    size: Any,
    notes: list[str],
) -> tuple[xr.DataArray, np.ndarray, Shift]:
    """AFTER on the kept bands, shifted onto BEFORE when asked (its own copy), its clear mask, the shift."""
    # BEFORE is only read band by band (views) from here on: no need to copy it; AFTER gets
    # a copy of its own (made while shifting it, when it is shifted), then normalised in place
    a_all = a
    ref_b = reference_image(b).values[0]
    if coregister:
        mov = reference_image(a_all).values[0]
        shift = estimate_shift(
            np.where(clear_b, ref_b, np.nan), np.where(clear_a, mov, np.nan), pixel_size=size
        )
        if shift.magnitude_px > max_shift_px:
            raise RegistrationError(
                f"AFTER is offset from BEFORE by dy={shift.dy:.2f} px, dx={shift.dx:.2f} px "
                f"({shift.dy_m or 0:.1f} m, {shift.dx_m or 0:.1f} m), more than the {max_shift_px} px "
                "that can be trusted; check that both images show the same place"
            )
        if not shift.reliable:
            msg = (
                f"co-registration tiles disagree by {shift.tile_spread_px:.2f} px; the shift "
                f"(dy={shift.dy:.2f}, dx={shift.dx:.2f} px) may be unreliable"
            )
            warnings.warn(msg, DataWarning, stacklevel=3)
            notes.append(msg)
        if shift.magnitude_px >= 0.05:
            a = _shifted_bands(a_all, keep, shift)
            clear_a = apply_shift(clear_a.astype(np.float32), shift) > 0.5
            shift = Shift(**{**shift.__dict__, "applied": True})
    else:
        shift = Shift(dy=0.0, dx=0.0, dy_m=0.0, dx_m=0.0)
    if a is a_all:
        a = a.sel(band=keep) if keep != [str(x) for x in a.coords["band"].values] else a.copy()
    return a, clear_a, shift


def _change_mask(change: ChangeMap) -> xr.DataArray:
    """The uint8 change mask: 1 change, 0 no change, 255 no valid data."""
    valid = change.valid.values
    mask_vals = np.full(valid.shape, MASK_NODATA, dtype=np.uint8)
    mask_vals[valid] = MASK_NO_CHANGE
    mask_vals[change.mask.values & valid] = MASK_CHANGE
    mask = change.mask.copy(data=mask_vals)
    mask.name = "change_mask"
    mask.attrs = {"description": "1 change, 0 no change, 255 no valid data"}
    return mask
