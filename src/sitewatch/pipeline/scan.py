"""``scan()``: watch an AOI through a Sentinel-2 time series and report typed, dated alerts.

A thin composition of public stages (:mod:`sitewatch.pipeline.stages`):

1. search and load every scene of the range over the AOI (any provider: a name for
   :func:`sitewatch.providers.get_provider`, or a :class:`~sitewatch.providers.base.Provider`),
   on the AOI's UTM grid at 10 m;
2. mask clouds, shadows and no data, measure each scene's clear fraction over the covered
   AOI and drop scenes below a threshold;
3. co-register every scene to the clearest one (shifts reported);
4. per-pixel history and confirmed breaks (:func:`sitewatch.core.history.detect_breaks`);
5. the objects: grouped, typed, dated and measured (:func:`sitewatch.objects.describe`);
6. alerts (:func:`~sitewatch.pipeline.stages.alerts_from_objects`) and, on request, quicklooks.

Steps 2 to 6 run in memory (:mod:`~sitewatch.pipeline.in_memory`) or, for AOIs larger than
``ExecutionOptions.chunk_px``, block by block (:mod:`~sitewatch.pipeline.blocks`).

Examples
--------
>>> result = scan("qasrak", "local:scenes/", start="2024-10-01", end="2025-11-30")  # doctest: +SKIP
>>> result.write("out/")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyproj
import xarray as xr

from sitewatch.aoi import load_aoi
from sitewatch.core.bands import BandPlan, as_scan_bands, plan_series
from sitewatch.errors import ConfigError, DataWarning, NoScenesError
from sitewatch.pipeline.blocks import run_in_blocks
from sitewatch.pipeline.in_memory import run_in_memory
from sitewatch.pipeline.options import ExecutionOptions, ScanParams
from sitewatch.pipeline.radar_stage import run_radar_stage
from sitewatch.pipeline.result import ScanOutputs, ScanResult
from sitewatch.pipeline.size_guard import check_size, estimate_size
from sitewatch.pipeline.stages import EventCallback, ScanEvent, emit
from sitewatch.providers.base import Provider, get_provider
from sitewatch.providers.radar import RadarProvider
from sitewatch.redact import redact
from sitewatch.types import AOI, Scene, as_date

__all__ = ["ExecutionOptions", "ScanEvent", "ScanOutputs", "ScanParams", "ScanResult", "scan"]

log = logging.getLogger(__name__)


def _date_range(
    start: dt.date | str | None, end: dt.date | str | None
) -> tuple[dt.date | None, dt.date | None]:
    d0, d1 = (None if start is None else as_date(start)), (None if end is None else as_date(end))
    if d0 and d1 and d1 < d0:
        raise ConfigError(f"the scan range ends ({d1}) before it starts ({d0}); swap --start and --end")
    return d0, d1


def _choose_bands(scenes: Sequence[Scene]) -> tuple[list[Scene], BandPlan, list[str]]:
    """The scenes to load, their band plan (:func:`sitewatch.core.bands.plan_series`) and notes."""
    series = plan_series({s.id: s.bands for s in scenes})
    for msg in series.warnings:
        warnings.warn(msg, DataWarning, stacklevel=3)
    used = [s for s in scenes if s.id not in series.skipped]
    note = series.plan.note()
    return used, series.plan, [*series.warnings, *([note] if note else [])]


def _crs_label(text: str) -> str:
    crs = pyproj.CRS.from_user_input(text)
    epsg = crs.to_epsg()
    if epsg:
        return f"EPSG:{epsg} ({crs.name})"
    method = crs.coordinate_operation.method_name if crs.coordinate_operation else None
    return method or crs.name


def _grid_note(scenes: Sequence[Scene], stack: xr.DataArray) -> str | None:
    """A line saying the scenes came in a CRS other than UTM and were reprojected (None when UTM)."""
    others = sorted({s.crs for s in scenes if s.crs and pyproj.CRS.from_user_input(s.crs).utm_zone is None})
    if not others:
        return None
    target = stack.odc.geobox.crs
    shown = ", ".join(_crs_label(c) for c in others[:2]) + (" ..." if len(others) > 2 else "")
    res = abs(stack.odc.geobox.resolution.x)
    return f"the scenes are in {shown}, not UTM: reprojected to EPSG:{target.epsg} at {res:g} m"


def _no_scenes_message(
    provider: Provider, aoi: AOI, d0: dt.date | None, d1: dt.date | None, source_name: str
) -> str:
    """Why a search found nothing: the AOI lies outside the data (both extents named), or the dates."""
    import shapely

    where = f"AOI {aoi.name} (lon/lat {', '.join(f'{v:.4f}' for v in aoi.bounds)})"
    span = f"from {d0 or 'the first date'} to {d1 or 'the last date'}"
    if getattr(provider, "name", None) == "local":
        # a folder on disk: cheap to look at every scene of the range, wherever it lies
        in_range = list(provider.search(None, d0, d1))
        footprints = [f for f in (s.footprint() for s in in_range) if f is not None]
        if footprints:
            data = ", ".join(f"{v:.4f}" for v in shapely.union_all(footprints).bounds)
            return (
                f"no scene of {source_name} overlaps {where}: its {len(in_range)} scene(s) {span} "
                f"cover lon/lat {data}; check the AOI or the folder"
            )
    return f"no scenes for {where} {span} in {source_name}; check the dates, the AOI and the source"


def _is_simulated(stack: xr.DataArray, scenes: Sequence[Scene]) -> bool:
    # sitewatch.simulate names its scenes SIM_S2_...; other providers may flag them in properties
    return bool(
        any(str(s).startswith("SIM_S2_") for s in stack.coords["scene_id"].values)
        or any(s.properties.get("simulated") for s in scenes)
    )


def scan(
    aoi: AOI | str,
    source: str | Provider,
    *,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    params: ScanParams | None = None,
    execution: ExecutionOptions | None = None,
    cache_dir: str | Path | None = None,
    provider_options: Mapping[str, Any] | None = None,
    quicklooks_dir: str | Path | None = None,
    on_event: EventCallback | None = None,
    sar: str | RadarProvider | None = None,
) -> ScanResult:
    """Scan an AOI through a time series and return typed, dated alerts.

    Parameters
    ----------
    aoi : AOI or str
        An AOI, a registered name or a GeoJSON path (see :func:`sitewatch.load_aoi`).
    source : str or Provider
        Imagery source for :func:`sitewatch.get_provider` (``"local:DIR"``, ``"earth-search"``...),
        or a provider.
    start, end : datetime.date or str, optional
        Date range (inclusive).
    params : ScanParams, optional
        Science settings: the per-pixel history, the object stage, scene selection.
    execution : ExecutionOptions, optional
        In memory or block by block, and scratch space.
    cache_dir : str or path, optional
        With a source name: passed to the provider as ``cache_dir`` (providers that do not
        cache ignore it).
    provider_options : mapping, optional
        With a source name: more options for the provider.
    quicklooks_dir : str or path, optional
        Write one quicklook PNG per alert there.
    on_event : callable, optional
        Called with a :class:`~sitewatch.pipeline.stages.ScanEvent` when the scenes are
        found, when they are loaded, and when each stage is done (progress bars).
    sar : str or RadarProvider, optional
        A Sentinel-1 source (``"local:DIR"``, ``"cdse"``...): every alert gains
        ``corroboration.sar`` and radar-only candidates are added
        (:func:`~sitewatch.pipeline.radar_stage.run_radar_stage`).

    Returns
    -------
    ScanResult

    Raises
    ------
    NoScenesError
        If the source holds no scene for the AOI in the range.
    BandMissingError
        If the scenes lack what a scan needs (B02, B03, B04, B08 or B8A, and B11 or B12; see
        :func:`sitewatch.core.bands.plan_series`): the message names what they have.
    ConfigError, AOIError, ProviderError, DataError
        For bad options, AOIs, sources or data.

    Warns
    -----
    DataWarning
        When every scene is cloudy or snow-covered (empty result), fewer than three scenes
        are clear (nothing confirmed), the data covers only part of the AOI, some scenes lack
        bands others have (the common bands are used; a scene lacking a needed band is left
        out, named), or a scene's data disagree with the offset it was read with.
    """
    the_aoi = aoi if isinstance(aoi, AOI) else load_aoi(aoi)
    d0, d1 = _date_range(start, end)
    p = params or ScanParams()
    ex = execution or ExecutionOptions()
    if isinstance(source, str):
        options = dict(provider_options or {})
        if cache_dir is not None:
            options["cache_dir"] = str(cache_dir)
        provider, source_name = get_provider(source, **options), redact(source)
    else:
        provider, source_name = source, redact(getattr(source, "source", None) or source.name)
    scenes = list(provider.search(the_aoi, d0, d1, max_cloud_fraction=p.max_cloud_fraction))
    emit(on_event, "scenes_found", the_aoi.name, count=len(scenes))
    if not scenes:
        raise NoScenesError(_no_scenes_message(provider, the_aoi, d0, d1, source_name))
    scenes, plan, band_notes = _choose_bands(scenes)
    size = estimate_size(the_aoi, n_dates=len(scenes), n_bands=len(plan.load), resolution_m=p.resolution_m)
    chunk_px = check_size(
        size, aoi_name=the_aoi.name, chunk_px=ex.chunk_px, reads_blocks=provider.reads_blocks, force=ex.force
    )
    lazily = chunk_px is not None and provider.reads_blocks
    extra: dict[str, Any] = {"chunk_px": chunk_px} if lazily else {}
    stack = provider.load(
        scenes, aoi=the_aoi, bands=list(plan.load), crs="utm", resolution_m=p.resolution_m, **extra
    )
    stack = as_scan_bands(stack.sortby("time"), plan)
    emit(on_event, "scenes_loaded", the_aoi.name, count=len(scenes))
    grid_note = _grid_note(scenes, stack)
    result = ScanResult(
        aoi=the_aoi,
        source=source_name,
        start=d0,
        end=d1,
        simulated=_is_simulated(stack, scenes),
        messages=[*band_notes, *([grid_note] if grid_note else [])],
    )
    if chunk_px is not None and max(stack.sizes["y"], stack.sizes["x"]) > chunk_px:
        if stack.chunks is None:
            log.info("%s cannot read in blocks: loaded whole, then scanned block by block", provider)
        stack = stack.chunk({"time": 1, "band": -1, "y": chunk_px, "x": chunk_px})
        out = run_in_blocks(stack, result, p, ex, on_event=on_event)
    else:
        # one block: the in-memory scan, the same result and faster
        out = run_in_memory(stack.compute(), result, p, on_event=on_event)
    if sar is not None:
        out = run_radar_stage(out, sar, provider_options={"cache_dir": str(cache_dir)} if cache_dir else None)
    if quicklooks_dir is not None:
        out = out.with_quicklooks(quicklooks_dir)
    return out
