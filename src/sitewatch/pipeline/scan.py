"""``scan()``: watch an AOI through a Sentinel-2 time series and report typed, dated alerts.

The one place where the imagery provider (I/O) meets the per-pixel history core:

1. search and load every scene of the range over the AOI (any provider, through
   :func:`sitewatch.providers.get_provider`), on the AOI's UTM grid at 10 m;
2. mask clouds, shadows and no data (SCL when present, else computed masks), measure each
   scene's clear fraction over the covered AOI and drop scenes below a threshold;
3. co-register every scene to the clearest one (shifts reported);
4. per-pixel history and confirmed breaks (:func:`sitewatch.core.history.detect_breaks`);
5. group changed pixels into objects (connected, similar dates), measure them, look at
   the runway and built-up area that were there before, and type them
   (:func:`sitewatch.objects.classify.classify_object`);
6. assemble alerts (:mod:`sitewatch.alerts`) and, on request, quicklooks.

Examples
--------
>>> result = scan("qasrak", "local:scenes/", start="2024-10-01", end="2025-11-30")  # doctest: +SKIP
>>> result.write("out/")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import inspect
import itertools
import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import shapely
import xarray as xr

from sitewatch.alerts import Alert, alert_feature, alert_id, confidence_from_parts, confidence_parts
from sitewatch.core.history import HistoryParams, detect_breaks
from sitewatch.errors import ConfigError, DataWarning, NoScenesError
from sitewatch.objects.classify import (
    ObjectFacts,
    classify_object,
    is_asphalt_like,
    is_built_like,
    is_concrete_like,
    is_earth_like,
    spectral_indices,
)
from sitewatch.types import AOI, as_date

__all__ = ["ScanResult", "scan"]

log = logging.getLogger(__name__)

LOAD_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12")


@dataclass(frozen=True)
class ScanResult:
    """What :func:`scan` found.

    Attributes
    ----------
    aoi : AOI
    source : str
    start, end : datetime.date
    alerts : list of Alert
    scenes_used, scenes_dropped : list of dict
        ``{id, date, clear_fraction, shift_px}`` and ``{id, date, clear_fraction, reason}``.
    coverage : float
        Fraction of the AOI the data covers.
    messages : list of str
        What the user should know (dropped scenes, refusals, partial coverage).
    history : xarray.Dataset or None
        The per-pixel breaks (see :func:`sitewatch.core.history.detect_breaks`).
    stack : xarray.DataArray or None
        The co-registered stack of the scenes used (reflectance x 10000).
    clear : xarray.DataArray or None
        Clear mask of ``stack``.
    labels : xarray.DataArray or None
        Object labels; alert ``i`` (in order) has label ``alert_labels[i]``.
    simulated : bool
        The scenes came from :mod:`sitewatch.simulate`.
    """

    aoi: AOI
    source: str
    start: dt.date | None
    end: dt.date | None
    alerts: list[Alert] = field(default_factory=list)
    scenes_used: list[dict[str, Any]] = field(default_factory=list)
    scenes_dropped: list[dict[str, Any]] = field(default_factory=list)
    coverage: float = 0.0
    messages: list[str] = field(default_factory=list)
    history: xr.Dataset | None = field(default=None, repr=False)
    stack: xr.DataArray | None = field(default=None, repr=False)
    clear: xr.DataArray | None = field(default=None, repr=False)
    labels: xr.DataArray | None = field(default=None, repr=False)
    alert_labels: tuple[int, ...] = ()
    simulated: bool = False

    def metadata(self) -> dict[str, Any]:
        """The ``sitewatch`` foreign member of the alerts collection."""
        import sitewatch

        return {
            "version": sitewatch.__version__,
            "aoi": self.aoi.name,
            "source": self.source,
            "simulated": self.simulated,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "coverage": round(self.coverage, 4),
            "messages": list(self.messages),
            "scenes_used": self.scenes_used,
            "scenes_dropped": self.scenes_dropped,
        }

    def to_geojson(self) -> dict[str, Any]:
        """The alerts as an RFC 7946 FeatureCollection (WGS84, right-hand rings)."""
        from sitewatch.export import feature_collection

        return feature_collection(
            [alert_feature(a) for a in self.alerts], foreign={"sitewatch": self.metadata()}
        )

    def write(self, directory: str | Path, *, quicklooks: bool = True, name: str = "alerts.geojson") -> Path:
        """Write ``alerts.geojson`` (and quicklooks under ``quicklooks/``) into a folder.

        Parameters
        ----------
        directory : str or pathlib.Path
        quicklooks : bool
            Also write one PNG per alert.
        name : str
            File name of the collection.

        Returns
        -------
        pathlib.Path
            The GeoJSON file.
        """
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        result = self
        if quicklooks and self.alerts:
            result = self.with_quicklooks(folder / "quicklooks", relative_to=folder)
        return result.write_geojson(folder / name)

    def write_geojson(self, path: str | Path) -> Path:
        """Write the alerts collection to ``path`` atomically and return it."""
        from sitewatch.export import write_geojson

        return write_geojson(
            path, [alert_feature(a) for a in self.alerts], foreign={"sitewatch": self.metadata()}
        )

    def with_quicklooks(self, directory: str | Path, *, relative_to: str | Path | None = None) -> ScanResult:
        """Write one PNG per alert (before, after, change; alert outlined; dates in the title).

        Parameters
        ----------
        directory : str or pathlib.Path
            Folder for the PNGs.
        relative_to : str or pathlib.Path, optional
            The alerts' ``quicklook`` paths are made relative to this folder.

        Returns
        -------
        ScanResult
            A copy whose alerts carry their quicklook paths.
        """
        from dataclasses import replace

        if self.stack is None or self.history is None or self.labels is None:
            return self
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        new = []
        for alert, label in zip(self.alerts, self.alert_labels, strict=True):
            png = _quicklook(self, alert, label, folder / f"{alert.id}.png")
            rel = str(png.relative_to(relative_to)) if relative_to else str(png)
            new.append(alert.with_quicklook(rel.replace("\\", "/")))
        return replace(self, alerts=new)


def _d(t: Any) -> dt.date:
    return dt.date.fromisoformat(str(np.datetime_as_string(np.datetime64(t, "D"))))


def scan(
    aoi: AOI | str,
    source: str,
    *,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    min_clear_fraction: float = 0.25,
    min_area_m2: float = 800.0,
    params: HistoryParams | None = None,
    cache_dir: str | Path | None = None,
    max_cloud_fraction: float | None = None,
    resolution_m: float = 10.0,
    split_days: int = 60,
    quicklooks_dir: str | Path | None = None,
    provider_options: Mapping[str, Any] | None = None,
    chunk_px: int | None = None,
    scratch_dir: str | Path | None = None,
) -> ScanResult:
    """Scan an AOI through a time series and return typed, dated alerts.

    Parameters
    ----------
    aoi : AOI or str
        An AOI, a registered name or a GeoJSON path (see :func:`sitewatch.load_aoi`).
    source : str
        Imagery source for :func:`sitewatch.get_provider` (``"local:DIR"``, ``"earth-search"``...).
    start, end : datetime.date or str, optional
        Date range (inclusive).
    min_clear_fraction : float
        Scenes whose clear share of the covered AOI is below this are dropped (and listed).
    min_area_m2 : float
        Smallest object reported (about 30 m x 30 m by default).
    params : HistoryParams, optional
        Baseline, threshold and confirmation settings of the per-pixel core.
    cache_dir : str or path, optional
        Passed to the provider as ``cache_dir`` (providers that do not cache ignore it).
    max_cloud_fraction : float, optional
        Scene-level cloud filter passed to the provider's search.
    resolution_m : float
        Grid size of the analysis (UTM).
    split_days : int
        Changed pixels of one connected area whose dates are further apart than this
        become separate objects.
    quicklooks_dir : str or path, optional
        Write one quicklook PNG per alert there.
    provider_options : mapping, optional
        More options for the provider.
    chunk_px : int, optional
        AOIs larger than this many pixels a side are scanned block by block, for AOIs
        bigger than memory (up to whole Sentinel-2 tiles):
        the stack is read lazily in ``chunk_px`` square blocks (where the provider can;
        else loaded and then cut), the per-pixel stages run on dask blocks and the objects
        in windows around each group of changed pixels, grouped over the whole AOI first
        (see :mod:`sitewatch.pipeline.chunked`). 512 to 2048 suit most machines.
    scratch_dir : str or path, optional
        With ``chunk_px``: where the per-pixel results are streamed (a temporary folder).

    Returns
    -------
    ScanResult

    Raises
    ------
    NoScenesError
        If the source holds no scene for the AOI in the range.
    ConfigError, AOIError, ProviderError, DataError
        For bad options, AOIs, sources or data.

    Warns
    -----
    DataWarning
        When every scene is cloudy (empty result), fewer than three scenes are clear
        (nothing confirmed), or the data covers only part of the AOI.
    """
    from sitewatch.aoi import load_aoi
    from sitewatch.providers.base import get_provider

    the_aoi = aoi if isinstance(aoi, AOI) else load_aoi(aoi)
    d0, d1 = (None if start is None else as_date(start)), (None if end is None else as_date(end))
    if d0 and d1 and d1 < d0:
        raise ConfigError(f"the scan range ends ({d1}) before it starts ({d0}); swap --start and --end")
    p = params or HistoryParams()
    options = dict(provider_options or {})
    if cache_dir is not None:
        options["cache_dir"] = str(cache_dir)
    provider = get_provider(source, **options)
    scenes = list(provider.search(the_aoi, d0, d1, max_cloud_fraction=max_cloud_fraction))
    if not scenes:
        raise NoScenesError(
            f"no scenes for AOI {the_aoi.name} from {d0 or 'the first'} to {d1 or 'the last'} date "
            f"in {source}; widen the range or check the source"
        )
    bands_have = set(scenes[0].bands).intersection(*(s.bands for s in scenes[1:]))
    missing = [b for b in LOAD_BANDS if b not in bands_have]
    if missing:
        from sitewatch.errors import BandMissingError

        raise BandMissingError(
            f"the scenes lack band(s) {', '.join(missing)} that the scan needs ({', '.join(LOAD_BANDS)})"
        )
    bands = [*LOAD_BANDS, *(["SCL"] if "SCL" in bands_have else [])]
    if chunk_px is not None and chunk_px < 16:
        raise ConfigError(
            f"chunk_px must be at least 16 pixels (got {chunk_px}); 512 to 2048 suit most machines"
        )
    lazily = chunk_px is not None and "chunk_px" in inspect.signature(provider.load).parameters
    extra: dict[str, Any] = {"chunk_px": chunk_px} if lazily else {}
    stack = provider.load(scenes, aoi=the_aoi, bands=bands, crs="utm", resolution_m=resolution_m, **extra)
    stack = stack.sortby("time")
    # sitewatch.simulate names its scenes SIM_S2_...; other providers may flag them in properties
    simulated = any(str(s).startswith("SIM_S2_") for s in stack.coords["scene_id"].values) or any(
        s.properties.get("simulated") for s in scenes
    )
    result = ScanResult(aoi=the_aoi, source=source, start=d0, end=d1, simulated=bool(simulated))
    if chunk_px is not None and max(stack.sizes["y"], stack.sizes["x"]) <= chunk_px:
        chunk_px = None  # one block: the in-memory scan, the same result and faster
        stack = stack.compute()
    if chunk_px is not None:
        from sitewatch.pipeline.chunked import scan_chunked

        if stack.chunks is None:
            log.info("%s cannot read in blocks: loaded whole, then scanned block by block", provider)
        stack = stack.chunk({"time": 1, "band": -1, "y": chunk_px, "x": chunk_px})
        return scan_chunked(
            stack,
            result,
            p,
            min_clear_fraction,
            min_area_m2,
            split_days,
            quicklooks_dir,
            scratch_dir=scratch_dir,
        )
    return _run(stack, result, p, min_clear_fraction, min_area_m2, split_days, quicklooks_dir)


def _aoi_mask(stack: xr.DataArray, aoi: AOI) -> np.ndarray:
    from rasterio.features import geometry_mask

    gbox = stack.odc.geobox
    geom = aoi.geometry_in(str(gbox.crs))
    inside: np.ndarray = geometry_mask([geom], out_shape=gbox.shape, transform=gbox.affine, invert=True)
    return inside


class _Quality(NamedTuple):
    result: ScanResult
    keep: np.ndarray  # (T,) bool: scenes clear enough
    frac: np.ndarray  # (T,) clear share of the covered AOI
    clear_counts: np.ndarray  # (T,) clear pixels
    clear: xr.DataArray  # (time, y, x) clear, with data, inside the AOI (lazy for a dask stack)


def _scene_quality(stack: xr.DataArray, result: ScanResult, *, min_clear_fraction: float) -> _Quality:
    """Masks and clear share per scene; coverage, dropped scenes and all-cloudy as messages and warnings.

    Works alike on an in-memory and a dask-backed stack (then in one pass over it).
    """
    from dataclasses import replace

    import dask

    from sitewatch.core.masks import clear_mask

    inside = _aoi_mask(stack, result.aoi)
    inside_da = xr.DataArray(inside, dims=("y", "x"))
    if stack.chunks is not None:
        inside_da = inside_da.chunk(dict(zip(("y", "x"), stack.data.chunks[2:], strict=True)))
    has_data = np.isfinite(stack.sel(band=list(LOAD_BANDS))).all("band")
    clear = clear_mask(stack) & has_data & inside_da
    covered, counts = dask.compute((has_data.any("time") & inside_da).sum(), clear.sum(("y", "x")))
    counts = np.asarray(counts)
    frac = counts / max(1, int(covered))
    coverage = float(int(covered) / max(1, int(inside.sum())))
    times = stack.coords["time"].values
    ids = [str(v) for v in stack.coords["scene_id"].values]
    messages: list[str] = []
    if coverage < 0.99:
        msg = f"the data covers {coverage:.0%} of AOI {result.aoi.name}; scanning the covered part"
        messages.append(msg)
        warnings.warn(msg, DataWarning, stacklevel=4)
    keep = frac >= min_clear_fraction
    dropped = [
        {
            "id": ids[int(i)],
            "date": _d(times[i]).isoformat(),
            "clear_fraction": round(float(frac[i]), 3),
            "reason": f"clear fraction {frac[i]:.0%} below {min_clear_fraction:.0%} "
            "(clouds, shadows or no data)",
        }
        for i in np.nonzero(~keep)[0]
    ]
    if dropped:
        messages.append(f"{len(dropped)} of {len(ids)} scenes dropped as too cloudy")
    if not keep.any():
        msg = (
            f"all {len(ids)} scenes of AOI {result.aoi.name} in the range are cloudy (clear fraction below "
            f"{min_clear_fraction:.0%}); no alerts: widen the range or lower min_clear_fraction"
        )
        messages.append(msg)
        warnings.warn(msg, DataWarning, stacklevel=4)
    result = replace(result, scenes_dropped=dropped, coverage=coverage, messages=messages)
    return _Quality(result, keep, frac, counts, clear)


def _estimate_shifts(
    reference_band: np.ndarray, clear: np.ndarray, ref_i: int, ids: Sequence[str]
) -> list[Any]:
    """Per scene, the :class:`~sitewatch.core.coregister.Shift` onto scene ``ref_i`` (None: leave it).

    ``reference_band`` is ``(T, Y, X)`` NIR, ``clear`` its clear mask. Shifts above 3 px are
    refused (kept unshifted) and a scene that cannot be registered is kept unshifted.
    """
    from sitewatch.core.coregister import estimate_shift

    reference = np.where(clear[ref_i], reference_band[ref_i], np.nan)
    out: list[Any] = []
    for j in range(len(reference_band)):
        shift = None
        if j != ref_i:
            moving = np.where(clear[j], reference_band[j], np.nan)
            try:
                s = estimate_shift(reference, moving)
                if math.isfinite(s.dx) and math.isfinite(s.dy) and s.magnitude_px <= 3.0:
                    shift = s
            except Exception as exc:  # a scene that cannot be registered is kept unshifted
                log.info("scene %s not co-registered: %s", ids[j], exc)
        out.append(shift)
    return out


def _scenes_used(
    shifts: Sequence[Any], frac: np.ndarray, ids: Sequence[str], times: np.ndarray
) -> list[dict[str, Any]]:
    return [
        {
            "id": ids[j],
            "date": _d(times[j]).isoformat(),
            "clear_fraction": round(float(frac[j]), 3),
            "shift_px": [0.0, 0.0] if s is None else [round(float(s.dx), 3), round(float(s.dy), 3)],
        }
        for j, s in enumerate(shifts)
    ]


def _too_few_scenes(result: ScanResult, n_keep: int) -> ScanResult | None:
    """The result to return when fewer than three clear scenes remain (nothing can be confirmed)."""
    from dataclasses import replace

    if n_keep >= 3:
        return None
    msg = (
        f"only {n_keep} clear scene(s) of AOI {result.aoi.name} in the range; at least three are needed "
        "to confirm a change (a baseline and two observations after it): nothing is confirmed"
    )
    warnings.warn(msg, DataWarning, stacklevel=4)
    return replace(result, messages=[*result.messages, msg])


def _run(
    stack: xr.DataArray,
    result: ScanResult,
    p: HistoryParams,
    min_clear_fraction: float,
    min_area_m2: float,
    split_days: int,
    quicklooks_dir: str | Path | None,
) -> ScanResult:
    from dataclasses import replace

    from sitewatch.core.coregister import apply_shift

    result, keep, frac, _counts, clear_da = _scene_quality(
        stack, result, min_clear_fraction=min_clear_fraction
    )
    if not keep.any():
        return result
    times = stack.coords["time"].values
    ids = [str(v) for v in stack.coords["scene_id"].values]
    idx = np.nonzero(keep)[0]
    stack_k = stack.sel(band=list(LOAD_BANDS)).isel(time=idx)
    clear_k = clear_da.values[idx]
    # co-register every scene to the clearest one
    ref_band = stack_k.sel(band="B08").values
    shifts = _estimate_shifts(ref_band, clear_k, int(np.argmax(frac[idx])), [ids[i] for i in idx])
    data = stack_k.values.copy()
    clear_out = clear_k.copy()
    for j, s in enumerate(shifts):
        if s is not None and s.magnitude_px >= 0.1:
            data[j] = apply_shift(data[j], s)
            moved = apply_shift(clear_k[j].astype(np.float32), s)
            clear_out[j] = np.nan_to_num(moved, nan=0.0) > 0.99
    stack_k = stack_k.copy(data=data)
    clear_da = xr.DataArray(clear_out, dims=("time", "y", "x"), coords={"time": stack_k.coords["time"]})
    used = _scenes_used(shifts, frac[idx], [ids[i] for i in idx], times[idx])
    result = replace(result, scenes_used=used, stack=stack_k, clear=clear_da)
    refused = _too_few_scenes(result, len(idx))
    if refused is not None:
        return refused
    history = detect_breaks(stack_k, clear_out, params=p)
    result = replace(result, history=history)
    return _objects(result, history, stack_k, clear_out, p, min_area_m2, split_days, quicklooks_dir)


def _split_by_date(labels: np.ndarray, days: np.ndarray, split_days: int, min_pixels: int) -> np.ndarray:
    """Split each labelled area where its pixels' dates leave a gap longer than ``split_days``."""
    out = np.zeros_like(labels)
    nxt = 1
    for lab in range(1, int(labels.max()) + 1):
        m = labels == lab
        if not m.any():
            continue
        d = days[m]
        ok = d >= 0
        uniq = np.unique(d[ok])
        groups = [uniq[:1]] if uniq.size else []
        for a, b in itertools.pairwise(uniq):
            if b - a > split_days:
                groups.append(np.array([b]))
            else:
                groups[-1] = np.append(groups[-1], b)
        if len(groups) <= 1:
            out[m] = nxt
            nxt += 1
            continue
        sizes = [np.isin(d, g).sum() for g in groups]
        big = [g for g, s in zip(groups, sizes, strict=True) if s >= min_pixels]
        if len(big) <= 1:
            out[m] = nxt
            nxt += 1
            continue
        # pixels of small groups (and closing fill) join the nearest big group in time
        centers = np.array([np.median(g) for g in big])
        assign = np.argmin(np.abs(d[:, None] - centers[None, :]), axis=1)
        if (~ok).any():
            assign[~ok] = int(np.argmax([np.isin(d, g).sum() for g in big]))
        vals = np.zeros(d.shape, labels.dtype)
        for gi in range(len(big)):
            vals[assign == gi] = nxt + gi
        out[m] = vals
        nxt += len(big)
    return out


def _separate_distinct(
    labels: np.ndarray,
    changed: np.ndarray,
    days: np.ndarray,
    built: np.ndarray,
    min_pixels: int,
    *,
    min_gap_days: int = 10,
) -> np.ndarray:
    """Undo bridges the gap-closing made between distinct works on open ground.

    The closing that joins scattered changed pixels (structures removed one by one) also
    bridges two separate works a few pixels apart, such as a pad built beside earthworks
    of a few weeks before. Within one label, connected groups of changed pixels outside
    the built-up area, each at least ``min_pixels``, whose dates do not overlap (10-90 %
    ranges disjoint, medians more than ``min_gap_days`` apart) become objects of their own;
    bridge pixels join the nearest group.
    """
    from scipy import ndimage

    out = labels.copy()
    nxt = int(labels.max()) + 1
    for lab in range(1, int(labels.max()) + 1):
        m = labels == lab
        if not m.any():
            continue
        comp, n = ndimage.label(m & changed, structure=np.ones((3, 3)))
        if n < 2:
            continue
        groups = []
        for c in range(1, n + 1):
            g = comp == c
            if g.sum() < min_pixels or (g & built).sum() > 0.5 * g.sum():
                continue
            d = days[g]
            d = d[d >= 0]
            if d.size:
                groups.append((c, np.quantile(d, 0.1), np.median(d), np.quantile(d, 0.9)))
        if len(groups) < 2:
            continue
        groups.sort(key=lambda g: g[2])
        # chain groups of similar dates; a new object starts where the dates clearly part
        clusters: list[list[int]] = [[groups[0][0]]]
        hi = groups[0][3]
        med = groups[0][2]
        for c, q10, q50, q90 in groups[1:]:
            if q10 > hi and q50 - med > min_gap_days:
                clusters.append([c])
            else:
                clusters[-1].append(c)
            hi, med = max(hi, q90), q50
        if len(clusters) < 2:
            continue
        seeds = np.zeros(m.shape, np.int32)
        for i, cl in enumerate(clusters):
            seeds[np.isin(comp, cl)] = i + 1
        # every pixel of the label goes to the nearest cluster
        _, (iy, ix) = ndimage.distance_transform_edt(seeds == 0, return_indices=True)
        nearest = seeds[iy, ix]
        for i in range(2, len(clusters) + 1):
            out[m & (nearest == i)] = nxt
            nxt += 1
    return out


def _absorb_into_evacuations(
    alerts: list[tuple[Alert, int]],
    facility_of: dict[int, tuple[int, dt.date, dt.date]],
    labels: np.ndarray,
    margin_days: int,
    *,
    gbox: Any = None,
) -> list[tuple[Alert, int]]:
    """Fold bits of an evacuated facility back into its evacuation.

    Removing structures bares the yard: a patch of it split off the evacuation object reads
    as earthworks, other change, or a second small evacuation. An ``earthworks``, ``other``
    or ``evacuation`` object mostly inside the same facility as a (larger) evacuation, dated
    within that evacuation's removals (+- ``margin_days``), is part of it: its label joins the
    evacuation's and its id is listed in the evacuation's ``evidence.absorbed``. With the
    grid ``gbox``, the evacuation's outline (a MultiPolygon when the pieces do not touch),
    area, length, width and orientation are those of every piece its label now holds.
    """
    from dataclasses import replace

    from sitewatch.objects.measure import measure_geometry, to_wgs84
    from sitewatch.objects.segment import vectorize

    evac: dict[int, int] = {}  # facility -> its largest evacuation
    for i, (a, lab) in enumerate(alerts):
        fac = facility_of.get(lab, (0,))[0]
        bigger = fac not in evac or a.area_m2 > alerts[evac[fac]][0].area_m2
        if a.change_type == "evacuation" and fac > 0 and bigger:
            evac[fac] = i
    if not evac:
        return alerts
    margin = dt.timedelta(days=margin_days)
    keep: list[tuple[Alert, int]] = []
    absorbed: dict[int, list[str]] = {}
    for a, lab in alerts:
        fac, _, _ = facility_of.get(lab, (0, None, None))
        j = evac.get(fac) if fac else None
        kinds = ("earthworks", "other", "evacuation")
        if (
            j is not None
            and alerts[j][0] is not a
            and a.change_type in kinds
            and a.first_detected is not None
        ):
            ev_lab = alerts[j][1]
            _, lo, hi = facility_of[ev_lab]
            if lo - margin <= a.first_detected <= hi + margin:
                labels[labels == lab] = ev_lab
                absorbed.setdefault(j, []).append(a.id)
                continue
        keep.append((a, lab))
    out = []
    for a, lab in keep:
        j = next((i for i, (b, _) in enumerate(alerts) if b is a), None)
        if j in absorbed:
            a = replace(a, evidence={**a.evidence, "absorbed": absorbed[j]})
            if gbox is not None:
                pieces = [g for _, g in vectorize((labels == lab).astype(np.int32), gbox, simplify_px=0.5)]
                if pieces:
                    geom = shapely.union_all(pieces)
                    meas = measure_geometry(geom)
                    a = replace(
                        a,
                        geometry=to_wgs84(geom, gbox.crs),
                        area_m2=meas["area_m2"],
                        length_m=meas["length_m"],
                        width_m=meas["width_m"],
                        orientation_deg=meas["orientation_deg"],
                    )
        out.append((a, lab))
    return out


def _surface_onset(stack: xr.DataArray, clear: np.ndarray, sel: np.ndarray, start_t: int) -> int | None:
    """When an object's surface is laid: the first of two consecutive concrete-like dates.

    From ``start_t`` on, the object's median spectrum on each date clear over most of it;
    only after at least one earth-like (levelled) date, else None.
    """
    names = [str(b) for b in stack.coords["band"].values]
    seen_earth = False
    prev: int | None = None
    for t in range(start_t, stack.sizes["time"]):
        ok = clear[t] & sel
        if ok.sum() < max(3, 0.5 * sel.sum()):
            continue
        v = stack.values[t][:, ok].astype(np.float32) * np.float32(1e-4)
        spec = dict(zip(names, np.median(v, axis=1).tolist(), strict=True))
        if is_concrete_like(spec):
            if prev is not None and seen_earth:
                return prev
            prev = t
        else:
            prev = None
            seen_earth = seen_earth or is_earth_like(spec)
    return None


def _context(stack: xr.DataArray, clear: np.ndarray, break_index: np.ndarray) -> dict[str, np.ndarray]:
    """What was on the ground before: a clear composite of the early scenes, runway and built-up masks."""
    from scipy import ndimage

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
    ndvi = (spec["B08"] - spec["B04"]) / np.maximum(spec["B08"] + spec["B04"], 1e-6)
    hi = np.fmax.reduce([spec[b] for b in LOAD_BANDS])
    lo = np.fmin.reduce([spec[b] for b in LOAD_BANDS])
    asphalt = (hi < 0.2) & (ndvi < 0.25) & ((hi - lo) < 0.09)
    vis = (spec["B02"] + spec["B03"] + spec["B04"]) / 3
    red_blue = spec["B04"] / np.maximum(spec["B02"], 1e-6)
    swir_nir = spec["B11"] / np.maximum(spec["B08"], 1e-6)
    built = (ndvi < 0.3) & (
        asphalt
        | ((vis > 0.2) & (red_blue < 1.3))
        | ((spec["B02"] >= 0.15) & (red_blue < 1.45) & (ndvi < 0.2))
        | ((spec["B02"] >= 0.15) & (swir_nir < 1.15) & (red_blue < 1.3))
        | ((spec["B02"] < 0.13) & (red_blue < 1.3) & (hi < 0.2))
    )
    # structures: bright flat roofs and tents, dark vehicles and containers
    roofs = (ndvi < 0.3) & (((vis > 0.28) & (red_blue < 1.25)) | ((hi < 0.2) & (red_blue < 1.3) & ~asphalt))
    built = ndimage.binary_closing(built, iterations=2) & np.isfinite(vis)
    return {"asphalt": asphalt, "built": built, "roofs": roofs & built, "composite": comp}


def _late_composite(stack: xr.DataArray, clear: np.ndarray, n_obs: int = 6, *, from_t: int = 0) -> np.ndarray:
    """Per pixel, the median of its last ``n_obs`` clear observations from date ``from_t`` on.

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


def _runways(asphalt: np.ndarray, gbox: Any, res_m: float) -> list[dict[str, Any]]:
    """Elongated asphalt strips (length >= 400 m, length >= 8 x width) in the early composite."""
    from sitewatch.objects.measure import measure_geometry
    from sitewatch.objects.segment import label_changes, vectorize

    labels = label_changes(asphalt, min_pixels=max(9, int(400 * 15 / res_m**2)))
    out = []
    for lab, geom in vectorize(np.asarray(labels).astype(np.int32), gbox, simplify_px=0.5):
        m = measure_geometry(geom)
        if m["length_m"] >= 400 and m["length_m"] >= 8 * max(m["width_m"], 1):
            out.append({"label": lab, "geometry": geom, **m, "mask": np.asarray(labels) == lab})
    return out


def _unmixed_measure(
    stack: xr.DataArray,
    clear: np.ndarray,
    mask: np.ndarray,
    first_t: int,
    gbox: Any,
    *,
    ring_px: int = 2,
    before_from: int = 0,
    grow_px: int = 8,
) -> dict[str, Any] | None:
    """Sub-pixel size of an object: each pixel's share of the object's change vector.

    Edge pixels only partly covered by a pad change only partly; projecting each pixel's
    before-to-after change on the object's core change gives its covered fraction, whose
    sum is the area. Length and width come from the footprint of pixels at least half
    covered, scaled to that area.

    The object is first completed from its after-state surface: neighbours (up to
    ``grow_px`` away, connected to it) whose ground became the object's material (after
    state within the material's own spread, before state far from it) belong to it even
    where the per-pixel history scored their change weakly (a noisy or hazy reference
    season makes the same step fewer noise units). Returned under ``"footprint"`` (bool
    mask on the whole grid, with those pixels) and ``"grown_px"``.

    A pad laid on earlier earthworks (``before_from``: the date the levelling was first
    seen) is unmixed against two materials, its own and the levelled ground that spills
    beyond it: the levelled spectrum is read on the object between the two dates and
    carried over to the "after" dates by the background's change, and the pad's material
    is read at least 2 px inside the object (the 20 m bands that tell the two apart
    straddle its edge).
    """
    from scipy import ndimage

    from sitewatch.objects.measure import measure_geometry
    from sitewatch.objects.segment import vectorize

    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        return None
    # a margin of background around the object (grown as far as it may grow), to learn how
    # the surroundings changed meanwhile
    pad_px = max(0, grow_px) + 2 * ring_px + 4
    h, w = mask.shape
    r0, r1 = max(0, rows.min() - pad_px), min(h, rows.max() + 1 + pad_px)
    c0, c1 = max(0, cols.min() - pad_px), min(w, cols.max() + 1 + pad_px)
    t_n = stack.sizes["time"]
    sub = stack.values[:, :, r0:r1, c0:c1].astype(np.float32) * np.float32(1e-4)
    cl = clear[:, r0:r1, c0:c1]
    sub[~np.broadcast_to(cl[:, None], sub.shape)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # before: the ground before the object (before the levelling, when there was one)
        end_b = before_from if 0 < before_from < first_t else first_t
        before = np.nanmean(sub[max(0, end_b - 4) : end_b], axis=0)
        after = np.nanmean(sub[first_t : min(t_n, first_t + 6)], axis=0)
        levelled = np.nanmean(sub[end_b + 1 : first_t], axis=0) if end_b < first_t - 1 else None
    ok = np.isfinite(before).all(axis=0) & np.isfinite(after).all(axis=0)
    msub = mask[r0:r1, c0:c1]
    core = ndimage.binary_erosion(msub)
    if core.sum() < 3:
        core = msub
    grown_px = 0
    if grow_px > 0:
        msub = _after_state_footprint(before, after, ok, msub, core, grow_px)
        grown_px = int(msub.sum() - mask[r0:r1, c0:c1].sum())
        if grown_px:
            core = ndimage.binary_erosion(msub)
            if core.sum() < 3:
                core = msub
    region_sub = ndimage.binary_dilation(msub, iterations=ring_px)
    d = np.nan_to_num(after - before)
    before = np.nan_to_num(before)
    # Linear unmixing per pixel: after = f * material + (1 - f) * (what the pixel would have
    # become without the object). The latter is the pixel's own "before" plus the change of
    # the nearby background over the same dates (fields green up or are harvested meanwhile),
    # so that a changing field around a pad is not counted as part of it.
    bg = ok & ~ndimage.binary_dilation(msub, iterations=ring_px + 1)
    d_bg = np.zeros_like(d)
    if bg.sum() >= 8:
        wgt = ndimage.gaussian_filter(bg.astype(np.float32), 2.0)
        for b in range(d.shape[0]):
            d_bg[b] = ndimage.gaussian_filter(np.where(bg, d[b], 0.0), 2.0) / np.maximum(wgt, 1e-6)
        known = wgt > 0.05
        if not known.all():
            _, (iy, ix) = ndimage.distance_transform_edt(~known, return_indices=True)
            d_bg = d_bg[:, iy, ix]
    pure = core
    if levelled is not None:
        # After earthworks the material is told from the levelled ground around it mostly by
        # the 20 m SWIR bands, whose 2 x 2 blocks (and the scenes' residual misregistration)
        # reach a pixel beyond the 10 m outline: read the material at least 2 px inside, so
        # that the levelled margin does not leak into it (a material pulled toward the
        # levelled ground makes the margin read as part of the pad).
        deep = ndimage.binary_erosion(msub, iterations=2) & ok
        if deep.sum() >= 3:
            pure = deep
    material = np.nanmean(np.where(pure, after, np.nan).reshape(after.shape[0], -1), axis=1)
    if not np.isfinite(material).all():
        return None
    expect = before + d_bg  # (B, h, w): the pixel without the object
    contrast = material[:, None, None] - expect
    norm = np.einsum("bhw,bhw->hw", contrast, contrast)
    if not np.isfinite(norm[core]).all() or float(np.median(norm[core])) <= 0:
        return None
    y = d - d_bg
    frac = np.einsum("bhw,bhw->hw", y, contrast) / np.maximum(norm, 1e-9)
    earth = None
    if levelled is not None:
        earth = np.nanmean(np.where(core, levelled, np.nan).reshape(levelled.shape[0], -1), axis=1)
        # The levelled ground is seen on the dates between the levelling and the surface,
        # the object on the "after" dates (other haze and illumination): carry the
        # spectrum over by the background's typical change between those dates, else the
        # margin's mismatch projects onto the material and counts as pad.
        d_lev = after - levelled
        seen = bg & np.isfinite(d_lev).all(axis=0)
        if seen.sum() >= 8:
            earth = earth + np.median(d_lev[:, seen], axis=1)
    two_materials = earth is not None and bool(np.isfinite(earth).all())
    if two_materials:
        assert earth is not None
        # levelling spills beyond the pad: a second material, the levelled ground, so that
        # after = f * material + g * levelled + (1 - f - g) * expected (least squares)
        c2 = earth[:, None, None] - expect
        aa, bb = norm, np.einsum("bhw,bhw->hw", c2, c2)
        ab = np.einsum("bhw,bhw->hw", contrast, c2)
        ay, by = np.einsum("bhw,bhw->hw", contrast, y), np.einsum("bhw,bhw->hw", c2, y)
        det = aa * bb - ab * ab
        solvable = det > 1e-6 * np.maximum(aa * bb, 1e-12)
        frac = np.where(solvable, (ay * bb - by * ab) / np.where(solvable, det, 1.0), frac)
    raw = np.nan_to_num(frac)
    frac = np.clip(raw, 0, 1)
    # where the ground already looked like the material (the old runway a strip extends),
    # the fraction is undefined: the object did not change those pixels
    # (judged on the pixel's own before state: the background's change, added to it, would
    # make an old apron that did not follow the harvest around it read as new material)
    was = np.einsum("bhw,bhw->hw", material[:, None, None] - before, material[:, None, None] - before)
    undefined = ~ok | (norm < 0.1 * float(np.median(norm[core]))) | (was < 0.1 * float(np.median(was[core])))
    frac[undefined] = 0
    raw = np.where(undefined, 0.0, raw)
    frac[~region_sub] = 0
    frac[frac < 0.15] = 0
    # outside the detected object only clear partial cover counts (fields change around pads)
    frac[(frac < 0.3) & ~msub] = 0
    footprint = frac >= 0.5
    lab, _ = ndimage.label(footprint)
    keep = np.unique(lab[msub & footprint])
    footprint = np.isin(lab, keep[keep > 0])
    if footprint.sum() < 3:
        return None
    res = abs(float(gbox.resolution.x))
    geoms = list(vectorize(footprint.astype(np.int32), gbox[r0:r1, c0:c1], simplify_px=0.5))
    if not geoms:
        return None
    m = measure_geometry(shapely.union_all([g for _, g in geoms]))
    compact = m["width_m"] > 0 and m["length_m"] / m["width_m"] < 3
    ring = ndimage.binary_dilation(footprint) & ~footprint
    if compact and not two_materials:
        # The edge ring of a pad holds its partly covered pixels: thresholding their
        # fractions (as noise protection) drops the small shares and under-counts every
        # pad by a few percent. Between the pad and one ground (no levelled spill) the
        # fraction is unbiased, so the ring counts its signed fractions: noise cancels
        # out instead of being cut to one side.
        area = float((frac[footprint].sum() + np.clip(raw[ring], -1, 1).sum()) * res**2)
    else:
        area = float(frac[footprint | ring].sum() * res**2)
    if compact:
        # Pads are rectangles, and the half-covered footprint is the pad grown or shrunk by
        # about the same margin on every side (blur, misregistration, a levelled spill): that
        # keeps length - width, not length / width (scaling the footprint to the area made
        # narrow pads too short and too wide). The rectangle with the footprint's
        # length - width and the unmixed area.
        dlw = m["length_m"] - m["width_m"]
        length_m = (dlw + math.sqrt(dlw * dlw + 4 * area)) / 2
        width_m = area / length_m if length_m > 0 else 0.0
    else:
        # strips: the pixel outline's length, scaled to the area of the outline
        k = math.sqrt(area / m["area_m2"]) if m["area_m2"] > 0 else 1.0
        length_m, width_m = m["length_m"] * k, m["width_m"] * k
    full = np.zeros(mask.shape, bool)
    full[r0:r1, c0:c1] = msub
    return {
        "area_m2": round(area, 1),
        "length_m": round(length_m, 1),
        "width_m": round(width_m, 1),
        "orientation_deg": m["orientation_deg"],
        "footprint": full,
        "grown_px": grown_px,
    }


def _after_state_footprint(
    before: np.ndarray,
    after: np.ndarray,
    ok: np.ndarray,
    msub: np.ndarray,
    core: np.ndarray,
    grow_px: int,
    *,
    min_tol: float = 0.03,
) -> np.ndarray:
    """The object grown over neighbours whose ground became the object's material.

    ``before``/``after`` are ``(B, h, w)`` reflectance composites (NaN where unknown),
    ``core`` the object's interior. A neighbour joins when its after state is as close to
    the material (the core's median after state) as the core's own pixels are (90th
    percentile, at least ``min_tol``), its before state was at least three times further,
    and it is connected to the object within ``grow_px`` pixels.
    """
    from scipy import ndimage

    sel = core & ok
    if sel.sum() < 3:
        return msub
    material = np.median(after[:, sel], axis=1)
    with np.errstate(invalid="ignore"):
        d_after = np.sqrt(np.sum((after - material[:, None, None]) ** 2, axis=0))
        d_before = np.sqrt(np.sum((before - material[:, None, None]) ** 2, axis=0))
    tol = max(min_tol, float(np.quantile(d_after[sel], 0.9)))
    # the material must stand out from what was there before, else nothing tells them apart
    if float(np.median(d_before[sel])) < 3 * tol:
        return msub
    like = ok & (d_after <= tol) & (d_before >= 3 * tol)
    within = ndimage.binary_dilation(msub, iterations=grow_px)
    grown: np.ndarray = ndimage.binary_propagation(msub, mask=msub | (like & within))
    return grown


def _objects(
    result: ScanResult,
    history: xr.Dataset,
    stack: xr.DataArray,
    clear: np.ndarray,
    p: HistoryParams,
    min_area_m2: float,
    split_days: int,
    quicklooks_dir: str | Path | None,
) -> ScanResult:
    from dataclasses import replace

    from scipy import ndimage

    from sitewatch.objects.measure import measure_geometry, to_wgs84
    from sitewatch.objects.segment import label_changes, vectorize

    gbox = stack.odc.geobox
    res_m = abs(float(gbox.resolution.x))
    min_px = max(4, math.ceil(min_area_m2 / res_m**2 * 0.7))
    changed = history["changed"].values
    bidx = history["break_index"].values
    ctx = _context(stack, clear, bidx)
    # join the scattered pixels of one object: an evacuation removes structures one by one,
    # so inside built-up area that was there before the gaps bridged are wider
    joined = ndimage.binary_closing(changed, structure=np.ones((3, 3)), iterations=2)
    in_built = changed & ndimage.binary_dilation(ctx["built"], iterations=2)
    joined |= ndimage.binary_closing(in_built, structure=np.ones((3, 3)), iterations=4) & ctx["built"]
    joined = ndimage.binary_opening(joined, structure=np.ones((2, 2))) | changed
    labels0 = np.asarray(label_changes(joined, min_pixels=min_px))
    times = stack.coords["time"].values
    day0 = times[0].astype("datetime64[D]")
    days = np.where(changed, (times[np.maximum(bidx, 0)].astype("datetime64[D]") - day0).astype(int), -1)
    labels = _split_by_date(labels0, days, split_days, min_px)
    labels = _separate_distinct(labels, changed, days, ctx["built"], min_px)
    runways = _runways(ctx["asphalt"], gbox, res_m)
    # facilities: built-up areas without the roads and tracks that link them
    built_lab, _ = ndimage.label(
        ndimage.binary_opening(ctx["built"], structure=np.ones((3, 3)), iterations=2)
    )
    clear_frac_t = clear.mean(axis=(1, 2))
    shifts = {u["date"]: math.hypot(*u["shift_px"]) for u in result.scenes_used}
    band_names = [str(b) for b in history.coords["band"].values]
    alerts: list[tuple[Alert, int]] = []
    facility_of: dict[int, tuple[int, dt.date, dt.date]] = {}
    for lab, geom in vectorize(labels.astype(np.int32), gbox, simplify_px=0.5):
        m = labels == lab
        pix_changed = m & changed
        n_changed = int(pix_changed.sum())
        if n_changed < min_px:
            continue
        meas = measure_geometry(geom)
        if meas["area_m2"] < min_area_m2:
            continue
        k = bidx[pix_changed]
        # object date: when 30 % of its changed pixels had shown the change
        k_obj = int(np.quantile(k, 0.3, method="lower"))
        obj_clear = clear[:, m].mean(axis=1)
        before_t = [t for t in range(k_obj) if obj_clear[t] >= 0.5]
        lu = before_t[-1] if before_t else None
        spread = float(
            (
                times[int(np.quantile(k, 0.9, method="lower"))]
                - times[int(np.quantile(k, 0.1, method="lower"))]
            )
            / np.timedelta64(1, "D")
        )
        sec = history["second_detected"].values[pix_changed]
        has_second = bool(np.mean(~np.isnat(sec)) >= 0.5)

        def mean_spec(var: str, sel: np.ndarray = pix_changed) -> dict[str, float]:
            v = history[var].values[:, sel]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return {b: float(np.nanmean(v[i])) for i, b in enumerate(band_names)}

        # the material is read on the object's interior: edge pixels mix it with the ground
        # around (a 60 m strip is half edge pixels at 10 m), unless the object is all edge
        # (else the half of its pixels that changed most, the purest ones)
        interior = ndimage.binary_erosion(pix_changed)
        spec_px = interior
        if interior.sum() < max(4, 0.2 * n_changed):
            mag_px = history["magnitude"].values
            spec_px = pix_changed & (mag_px >= np.nanmedian(mag_px[pix_changed]))
            if spec_px.sum() < 4:
                spec_px = pix_changed
        before = mean_spec("before", spec_px)
        early, late = mean_spec("after_early", spec_px), mean_spec("after_late", spec_px)

        def texture(var: str, sel: np.ndarray = pix_changed) -> float | None:
            v = history[var].sel(band=["B02", "B03", "B04"]).values[:, sel].mean(axis=0)
            v = v[np.isfinite(v)]
            return float(np.std(v)) if v.size >= 4 else None

        # context: runway in line, built-up area before
        rw_adj, rw_overlap, rw_len = False, 0.0, None
        for rw in runways:
            overlap = float((rw["mask"] & m).sum() / m.sum())
            near = rw["geometry"].distance(geom) <= 3 * res_m
            dang = abs((meas["orientation_deg"] - rw["orientation_deg"] + 90) % 180 - 90)
            if overlap > rw_overlap:
                rw_overlap = overlap
            if near and dang <= 12 and overlap < 0.5:
                rw_adj, rw_len = True, float(rw["length_m"])
        fac_ids = built_lab[m & (built_lab > 0)]
        fac_overlap = float((m & ctx["built"]).sum() / m.sum())
        fac_area = None
        fac_main = 0
        if fac_ids.size:
            fac_main = int(np.bincount(fac_ids).argmax())
            fac_area = float((built_lab == fac_main).sum() * res_m**2) if fac_main else None
        facts = ObjectFacts(
            area_m2=meas["area_m2"],
            length_m=meas["length_m"],
            width_m=meas["width_m"],
            orientation_deg=meas["orientation_deg"],
            rectangularity=meas["rectangularity"],
            before=before,
            after_early=early,
            after_late=late,
            date_spread_days=spread,
            has_second_change=has_second,
            runway_adjacent=rw_adj
            and rw_overlap < 0.5
            and (is_asphalt_like(late) or not is_built_like(before)),
            runway_overlap=rw_overlap,
            runway_length_m=rw_len,
            facility_overlap=fac_overlap,
            facility_area_m2=fac_area,
            texture_before=texture("before"),
            texture_after=texture("after_late"),
        )
        cls = classify_object(facts)
        first_t = k_obj
        evidence_extra: dict[str, Any] = {}
        if cls.change_type == "evacuation":
            # removals spread over weeks: the evacuation starts with the first ones seen
            first_t = int(np.quantile(k, 0.05, method="lower"))
        if cls.change_type == "new_pad" and cls.extra.get("after_earthworks"):
            sec_days = sec[~np.isnat(sec)]
            if sec_days.size:
                sec_date = np.sort(sec_days)[int(0.3 * (sec_days.size - 1))]
                first_t = int(np.searchsorted(times, sec_date))
                evidence_extra["earthworks_first_detected"] = _d(times[k_obj]).isoformat()
        elif cls.change_type == "new_pad":
            # levelling seen first, the surface laid later: date the pad by when the
            # object itself turns concrete-like (its interior, on clear dates)
            pad_t = _surface_onset(stack, clear, spec_px, k_obj)
            if pad_t is not None and pad_t > k_obj:
                first_t = pad_t
                evidence_extra["earthworks_first_detected"] = _d(times[k_obj]).isoformat()
                cls = replace(
                    cls,
                    detail="after earthworks",
                    reasons=(*cls.reasons, "levelled (bare bright earth) before the concrete"),
                    extra={**cls.extra, "after_earthworks": True},
                )
        before_t = [t for t in range(first_t) if obj_clear[t] >= 0.5]
        lu = before_t[-1] if before_t else None
        extra = dict(cls.extra)
        meas_out = dict(meas)
        if cls.change_type == "evacuation":
            # The share of the facility's structures (roofs, vehicles, containers) that went:
            # each structure pixel's spectral distance from the bare yard they leave behind,
            # before (early composite) and at the end of the series (late composite); the
            # fraction is the structure signal lost over the signal there was, summed over
            # the facility (mixed edge pixels count by how much structure they held).
            from rasterio.features import geometry_mask

            fac = (built_lab == fac_main) if fac_main else m
            hull = geometry_mask([geom.convex_hull], out_shape=m.shape, transform=gbox.affine, invert=True)
            near = ndimage.binary_dilation(hull | m, iterations=3)
            struct = fac & ndimage.binary_dilation(ctx["roofs"]) & near
            # the end state: only dates after the removals (the series may end soon after)
            t_end = min(int(np.quantile(k, 0.95, method="lower")) + 1, len(times) - 2)
            late_comp = _late_composite(stack, clear, from_t=max(0, t_end))
            comp = ctx["composite"]
            gone = pix_changed & struct
            if struct.sum() >= 4 and gone.sum() >= 4:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    yard = np.nanmedian(late_comp[:, gone], axis=1)
                    s_b = np.sqrt(np.nansum((comp[:, struct] - yard[:, None]) ** 2, axis=0))
                    s_a = np.sqrt(np.nansum((late_comp[:, struct] - yard[:, None]) ** 2, axis=0))
                ok_px = np.isfinite(s_b) & np.isfinite(s_a)
                lost = float(np.sum(s_b[ok_px] - np.minimum(s_a[ok_px], s_b[ok_px])))
                total = float(np.sum(s_b[ok_px]))
                if total > 0:
                    extra["fraction_affected"] = round(min(1.0, max(0.0, lost / total)), 3)
                extra["fraction_affected_pixels"] = round(float(gone.sum() / struct.sum()), 3)
            extra["structure_area_before_m2"] = round(float(struct.sum() * res_m**2), 1)
            extra["changed_area_m2"] = round(n_changed * res_m**2, 1)
        else:
            # after earthworks, "before" is the levelled ground, not the field under it
            um = _unmixed_measure(
                stack,
                clear,
                m,
                first_t,
                gbox,
                before_from=k_obj if "earthworks_first_detected" in evidence_extra else 0,
            )
            if um is not None:
                footprint = um.pop("footprint")
                grown_px = int(um.pop("grown_px"))
                meas_out.update(um)
                if grown_px:
                    # the outline covers what was measured: pixels of the after-state
                    # footprint that belong to no other object join this one
                    add = footprint & (labels == 0)
                    if add.any():
                        labels[add] = lab
                        m = labels == lab
                        geom = shapely.union_all(
                            [g for _, g in vectorize(m.astype(np.int32), gbox, simplify_px=0.5)]
                        )
                    evidence_extra["grown_from_after_state_px"] = grown_px
                if "added_length_m" in extra:
                    extra["added_length_m"] = round(um["length_m"], 1)
                    if extra.get("runway_length_before_m"):
                        extra["runway_length_after_m"] = round(
                            extra["runway_length_before_m"] + um["length_m"], 1
                        )
        n_after = float(np.median(history["n_clear_after"].values[pix_changed]))
        n_before = float(np.median(history["n_clear_before"].values[pix_changed]))
        persistence = float(np.nanmean(history["persistence"].values[pix_changed]))
        magnitude = float(np.nanmean(history["magnitude"].values[pix_changed]))
        around = [_d(times[t]).isoformat() for t in range(max(0, first_t - 2), min(len(times), first_t + 3))]
        shift = max([shifts.get(d, 0.0) for d in around] or [0.0])
        parts = confidence_parts(
            score=magnitude,
            threshold=p.threshold,
            persistence=persistence,
            n_clear_before=n_before,
            n_clear_after=n_after,
            shift_px=shift,
        )
        status = "confirmed" if (persistence >= 0.6 and n_after >= 3) else "candidate"
        geom_wgs = to_wgs84(geom, gbox.crs)
        c = geom_wgs.representative_point()
        first_date = _d(times[first_t])
        ib, ia = spectral_indices(before), spectral_indices(late)
        # dates and scenes that show it: the last unchanged, the first changed and the next clear ones
        ev_t = [t for t in ([lu] if lu is not None else []) + [first_t] if t is not None]
        ev_t += [t for t in range(first_t + 1, len(times)) if obj_clear[t] >= 0.5][:2]
        evidence = {
            "indices": {
                "before": {k2: round(v, 4) for k2, v in ib.items()},
                "after": {k2: round(v, 4) for k2, v in ia.items()},
                "delta": {k2: round(ia[k2] - ib[k2], 4) for k2 in ib},
            },
            "dates": [_d(times[t]).isoformat() for t in ev_t],
            "scene_ids": [str(stack.coords["scene_id"].values[t]) for t in ev_t],
            "reasons": list(cls.reasons),
            "n_pixels": n_changed,
            "rectangularity": meas["rectangularity"],
            "date_spread_days": round(spread, 1),
            "clear_observations_before": n_before,
            "clear_observations_after": n_after,
            "clear_fraction_at_detection": round(float(clear_frac_t[first_t]), 3),
            "context": {
                "built_up_before_overlap": round(fac_overlap, 3),
                "runway_overlap": round(rw_overlap, 3),
                "runway_adjacent": bool(facts.runway_adjacent),
            },
            **{k2: v for k2, v in extra.items() if v is not None},
            **evidence_extra,
        }
        alert = Alert(
            id=alert_id(result.aoi.name, cls.change_type, (c.x, c.y), first_date),
            aoi=result.aoi.name,
            change_type=cls.change_type,
            detail=cls.detail,
            status=status,  # type: ignore[arg-type]
            confidence=confidence_from_parts(parts),
            confidence_parts=parts,
            last_unchanged=_d(times[lu]) if lu is not None else None,
            first_detected=first_date,
            area_m2=meas_out["area_m2"],
            length_m=meas_out["length_m"],
            width_m=meas_out["width_m"],
            orientation_deg=meas_out["orientation_deg"],
            geometry=geom_wgs,
            evidence=evidence,
            simulated=result.simulated,
        )
        alerts.append((alert, lab))
        facility_of[lab] = (fac_main if fac_overlap >= 0.5 else 0, _d(times[k.min()]), _d(times[k.max()]))
    alerts = _absorb_into_evacuations(alerts, facility_of, labels, split_days, gbox=gbox)
    alerts.sort(key=lambda al: (al[0].first_detected or dt.date.min, al[0].id))
    labels_da = xr.DataArray(
        labels.astype(np.int32),
        dims=("y", "x"),
        coords={k: v for k, v in stack.coords.items() if set(v.dims) <= {"y", "x"}},
    )
    out = replace(
        result,
        alerts=[a for a, _ in alerts],
        alert_labels=tuple(int(lab) for _, lab in alerts),
        labels=labels_da,
    )
    if quicklooks_dir is not None:
        out = out.with_quicklooks(quicklooks_dir)
    return out


def _quicklook_window(
    result: ScanResult, alert: Alert, label: int
) -> tuple[tuple[int, int, int, int], int, int]:
    """Window ``(r0, r1, c0, c1)`` and the before and after dates (indices) of a quicklook.

    "Before" shows the ground before the object's *first* change: the last date clear over
    the window before ``last_unchanged``, or, for a pad built after earthworks, before the
    earthworks were first seen (``evidence.earthworks_first_detected``), so the panel shows
    the field, not the levelled ground. "After" is the second clear date from
    ``first_detected`` on (the end state for an evacuation, whose removals take weeks).
    """
    assert result.stack is not None and result.labels is not None and result.clear is not None
    lab = result.labels.values
    rows, cols = np.nonzero(lab == label)
    h, w = lab.shape
    pad = max(15, int(0.6 * max(np.ptp(rows) + 1, np.ptp(cols) + 1)))
    r0, r1 = max(0, rows.min() - pad), min(h, rows.max() + pad + 1)
    c0, c1 = max(0, cols.min() - pad), min(w, cols.max() + pad + 1)
    days = result.stack.coords["time"].values.astype("datetime64[D]")
    t_n = len(days)
    clear_win = result.clear.values[:, r0:r1, c0:c1].mean(axis=(1, 2))
    t_first = min(int(np.searchsorted(days, np.datetime64(alert.first_detected))), t_n - 1)
    later = [t for t in range(t_first, t_n) if clear_win[t] >= 0.9]
    t_after = later[min(1, len(later) - 1)] if later else t_first
    if alert.change_type == "evacuation" and later:
        t_after = later[-1]  # removals go on for weeks: show the end state
    first_change = alert.evidence.get("earthworks_first_detected")
    if first_change:
        # the footprint first changed with the earthworks: the ground before them
        t_end = int(np.searchsorted(days, np.datetime64(first_change)))
    elif alert.last_unchanged:
        t_end = int(np.searchsorted(days, np.datetime64(alert.last_unchanged))) + 1
    else:
        t_end = 1
    t_end = max(1, min(t_end, t_n))
    earlier = [t for t in range(t_end - 1, -1, -1) if clear_win[t] >= 0.9]
    t_before = earlier[0] if earlier else t_end - 1
    return (int(r0), int(r1), int(c0), int(c1)), int(t_before), int(t_after)


def _quicklook(result: ScanResult, alert: Alert, label: int, path: Path) -> Path:
    from sitewatch.plots import change_quicklook

    assert result.stack is not None and result.labels is not None
    (r0, r1, c0, c1), t_before, t_after = _quicklook_window(result, alert, label)
    days = result.stack.coords["time"].values.astype("datetime64[D]")
    before = result.stack.isel({"time": t_before, "y": slice(r0, r1), "x": slice(c0, c1)})
    after = result.stack.isel({"time": t_after, "y": slice(r0, r1), "x": slice(c0, c1)})
    sub = result.labels.values[r0:r1, c0:c1]
    mask = (sub == label).astype(np.uint8)
    ew = " (before the earthworks)" if alert.evidence.get("earthworks_first_detected") else ""
    title = (
        f"{'SIMULATED - ' if alert.simulated else ''}{alert.aoi}: {alert.change_type}"
        f"{' (' + alert.detail + ')' if alert.detail else ''}  last unchanged {alert.last_unchanged}  "
        f"first detected {alert.first_detected}\n"
        f"images: before {np.datetime_as_string(days[t_before])}{ew}, "
        f"after {np.datetime_as_string(days[t_after])}  "
        f"conf {alert.confidence:.2f}"
    )
    return change_quicklook(path, before, after, mask, np.where(sub == label, 1, 0), title=title)
