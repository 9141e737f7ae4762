"""The radar stage of a scan: Sentinel-1 corroboration of every alert, and radar-only candidates.

Given a finished optical :class:`~sitewatch.pipeline.result.ScanResult` and a radar source
(``--sar local:DIR``, ``cdse``, ``stac:URL#COLLECTION``...):

1. the radar series over the AOI is loaded on the optical grid, from
   :data:`RadarStageParams.lead_days` before the scan's start (the radar's reference window)
   to its end;
2. every optical alert gains ``corroboration.sar``
   (:func:`sitewatch.objects.corroborate.corroborate` over
   :func:`sitewatch.core.sar_outline.outline_change` of its outline across its
   ``last_unchanged`` .. ``first_detected``), and its confidence moves with the verdict;
3. the per-pixel radar breaks (:func:`sitewatch.core.sar.detect_sar_breaks`) outside every
   optical alert are grouped into outlines; an outline that both orbits saw change strongly
   (:class:`RadarStageParams`) becomes a **radar-only candidate** (``source: "sar"``,
   ``status: "candidate"``, typed by :func:`~sitewatch.objects.corroborate.radar_change_type`)
   when no clear optical scene has looked at it since the radar change; once
   ``confirm_clear_obs`` clear optical scenes have seen it without an optical alert, it is
   dropped (the optical scan would have found a lasting change of the ground), and a later
   optical alert over it is that alert's corroboration instead.
"""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import shapely
import xarray as xr
from odc.geo.geom import Geometry
from odc.geo.xr import rasterize
from rasterio.features import shapes
from scipy import ndimage
from shapely.geometry import shape

from sitewatch.alerts import Alert, alert_id, confidence_from_parts, confidence_parts
from sitewatch.core.sar import SarParams, detect_sar_breaks
from sitewatch.core.sar_outline import (
    OutlineChange,
    outline_breaks,
    outline_change,
    outline_series,
    with_scene_offsets,
)
from sitewatch.errors import DataError, NoScenesError, SitewatchWarning
from sitewatch.objects.corroborate import (
    DOUBLE_BOUNCE_BEFORE_DB,
    NEW_SURFACE_DB,
    corroborate,
    radar_change_type,
    sar_adjusted_confidence,
)
from sitewatch.objects.measure import to_wgs84
from sitewatch.pipeline.result import ScanResult
from sitewatch.providers.radar import RadarProvider, get_radar_provider

__all__ = ["RadarStageParams", "corroborate_alerts", "radar_candidates", "run_radar_stage"]


@dataclass(frozen=True)
class RadarStageParams:
    """Settings of the radar stage.

    Attributes
    ----------
    sar : SarParams
        The radar core's settings.
    lead_days : int
        Radar acquisitions loaded before the scan's start (the reference window).
    min_candidate_px : int
        Smallest radar-only outline (pixels of the optical grid).
    min_candidate_t : float
        Its outline's |Welch t| in at least one polarisation, in every orbit that saw it.
    min_candidate_db : float
        Its outline's mean change, dB, in at least one polarisation.
    confirm_clear_obs : int
        Clear optical views of an outline after the radar change that settle it.
    clear_share : float
        An optical scene views an outline when this share of its pixels is clear.
    dark_margin_db : float
        A ground outline gone darker (a new smooth surface) is a candidate when, after the
        change, its VV lies this many dB below the ground around it (a ring of
        ``ring_px``), in every orbit.
    ring_px : tuple of int
        Inner and outer distance (pixels) of that ring from the outline (the inner gap keeps
        the pixels that mix both out of it).
    """

    sar: SarParams = field(default_factory=SarParams)
    lead_days: int = 120
    min_candidate_px: int = 8
    min_candidate_t: float = 6.0
    min_candidate_db: float = 3.0
    confirm_clear_obs: int = 2
    clear_share: float = 0.5
    dark_margin_db: float = 2.0
    ring_px: tuple[int, int] = (1, 4)


def _mask(geom: Any, geobox: Any) -> np.ndarray:
    return np.asarray(rasterize(Geometry(geom, "EPSG:4326"), geobox).values, dtype=bool)


def _outline(alert: Alert, stack: xr.DataArray, p: RadarStageParams) -> OutlineChange | None:
    mask = _mask(alert.geometry, stack.odc.geobox)
    if not mask.any() or alert.first_detected is None:
        return None
    return outline_change(
        stack,
        mask,
        event_start=alert.last_unchanged or alert.first_detected,
        event_end=alert.first_detected,
        params=p.sar,
    )


def corroborate_alerts(
    alerts: list[Alert], stack: xr.DataArray, *, params: RadarStageParams | None = None
) -> list[Alert]:
    """Every alert with its ``corroboration_sar`` set and its confidence moved by the verdict.

    Parameters
    ----------
    alerts : list of Alert
    stack : xarray.DataArray
        Radar ``(time, band, y, x)`` linear power (see :mod:`sitewatch.providers.radar`).
    params : RadarStageParams, optional

    Returns
    -------
    list of Alert
    """
    p = params or RadarStageParams()
    out = []
    for alert in alerts:
        evidence = _outline(alert, stack, p)
        if evidence is None:
            out.append(alert)
            continue
        c = corroborate(alert.change_type, evidence, detail=alert.detail)
        if c.radar_first_changed and alert.first_detected and c.radar_first_changed < alert.first_detected:
            days = (alert.first_detected - c.radar_first_changed).days
            if days > 10:
                c = replace(
                    c, notes=(*c.notes, f"the radar saw the change {days} days before the optical scan")
                )
        out.append(
            replace(alert, corroboration_sar=c, confidence=sar_adjusted_confidence(alert.confidence, c))
        )
    return out


def _viewed_after(clear: xr.DataArray | None, mask: np.ndarray, after: np.datetime64, share: float) -> int:
    """How many optical scenes saw ``mask`` clearly after ``after``."""
    if clear is None:
        return 0
    times = clear.coords["time"].values.astype("datetime64[ns]")
    later = np.nonzero(times > after)[0]
    if later.size == 0:
        return 0
    seen = clear.values[later][:, mask].mean(axis=1) >= share
    return int(seen.sum())


def _strong_pixels(ds: xr.Dataset, p: RadarStageParams) -> np.ndarray:
    """Seed pixels of radar-only outlines: a large change both orbits saw, or a new smooth surface.

    A new smooth surface (concrete, asphalt) reflects the pulse away from the radar: darker
    in VV *and* VH by :data:`~sitewatch.objects.corroborate.NEW_SURFACE_DB`, brighter in no
    orbit. Such a change is smaller than a structure's (a few dB, not 10) and a small pad's
    pixels reach significance in one orbit more often than in both, so one orbit's break
    seeds it; the outline test then asks every orbit (:func:`_new_surface`).
    """
    n_orbits = ds.sizes["orbit"]
    delta_op = ds["delta_db"].values  # (orbit, polarization, y, x)
    delta = np.nan_to_num(np.abs(delta_op)).max(axis=(0, 1))
    orbit_changed = ds["orbit_changed"].values
    usable = ds["changed"].values & ~ds["steep"].values
    large = (ds["n_orbits_changed"].values >= min(2, n_orbits)) & (delta >= p.min_candidate_db)
    darker = (np.nan_to_num(delta_op, nan=0.0) <= -NEW_SURFACE_DB).all(axis=1)  # (orbit, y, x)
    brighter = (ds["direction"].values > 0).any(axis=1)
    smooth = (orbit_changed & darker).any(axis=0) & ~(orbit_changed & brighter).any(axis=0)
    return usable & (large | smooth)


def _polygon(mask: np.ndarray, geobox: Any) -> Any:
    polys = [shape(g) for g, v in shapes(mask.astype(np.uint8), mask=mask, transform=geobox.affine) if v]
    return shapely.union_all(polys)


def _strong_enough(evidence: OutlineChange, p: RadarStageParams) -> bool:
    """Every orbit that saw it shows a large, significant change in some polarisation."""
    if not evidence.orbits:
        return False
    return all(
        any(
            abs(c.t_stat) >= p.min_candidate_t and abs(c.delta_db) >= p.min_candidate_db
            for c in o.polarizations
        )
        for o in evidence.orbits
    )


def _dark_ground(evidence: OutlineChange) -> bool:
    """Ground (no double bounce before) that every orbit saw go darker in every polarisation."""
    changes = [c for o in evidence.orbits for c in o.polarizations]
    befores = [c.before_db for o in evidence.orbits if (c := o.change("VV")) is not None]
    return (
        bool(changes)
        and all(c.direction == "darker" for c in changes)
        and not (befores and max(befores) >= DOUBLE_BOUNCE_BEFORE_DB)
    )


def _ring(mask: np.ndarray, allowed: np.ndarray, p: RadarStageParams) -> np.ndarray:
    inner, outer = p.ring_px
    near = ndimage.binary_dilation(mask, iterations=inner) if inner > 0 else mask
    far: np.ndarray = ndimage.binary_dilation(mask, iterations=outer)
    return far & ~near & allowed


def _new_surface(evidence: OutlineChange, around: OutlineChange | None, p: RadarStageParams) -> bool:
    """A new smooth surface: darker by a few dB in VV and VH, and darker than the ground around it.

    Smooth concrete and asphalt reflect the pulse away from the radar, so a new pad is darker
    than the ground it replaced *and than the ground left around it*. A harvest, a dry spell
    or a smooth field darken the whole field alike: the speckle-cut fragment a detector finds
    of it is no darker than the rest of the field around it. So, in every orbit, VV and VH go
    darker by :data:`~sitewatch.objects.corroborate.NEW_SURFACE_DB` and the outline's VV after
    the change lies :attr:`RadarStageParams.dark_margin_db` below the ring around it, after
    the change too (the same acquisitions); one orbit must be decisive
    (``|t| >= min_candidate_t``): a new surface seen by one orbit's fewer or wetter
    acquisitions stays a new surface.
    """
    if not evidence.orbits or around is None:
        return False
    ring = {o.orbit: o for o in around.orbits}
    for o in evidence.orbits:
        changes = list(o.polarizations)
        if not changes or any(c.direction != "darker" or c.delta_db > -NEW_SURFACE_DB for c in changes):
            return False
        ref = o.change("VV") or changes[0]
        ref_around = ring[o.orbit].change(ref.polarization) if o.orbit in ring else None
        if ref_around is None or ref.after_db > ref_around.after_db - p.dark_margin_db:
            return False
    return max(abs(c.t_stat) for o in evidence.orbits for c in o.polarizations) >= p.min_candidate_t


def radar_candidates(
    ds: xr.Dataset,
    stack: xr.DataArray,
    *,
    aoi_name: str,
    alerts: list[Alert],
    clear: xr.DataArray | None,
    simulated: bool = False,
    params: RadarStageParams | None = None,
) -> tuple[list[tuple[Alert, np.ndarray]], int]:
    """Radar changes no optical alert explains and no clear optical scene has seen since.

    Parameters
    ----------
    ds : xarray.Dataset
        :func:`~sitewatch.core.sar.detect_sar_breaks` of ``stack``.
    stack : xarray.DataArray
        The radar stack (on the optical grid).
    aoi_name : str
    alerts : list of Alert
        The optical alerts (their outlines are left out).
    clear : xarray.DataArray or None
        ``(time, y, x)`` clear mask of the optical scenes used, on the same grid (None: no
        clear optical view at all).
    simulated : bool
    params : RadarStageParams, optional

    Returns
    -------
    tuple
        The candidate alerts with their pixel masks, and how many radar changes clear optical
        views dropped.
    """
    p = params or RadarStageParams()
    geobox = stack.odc.geobox
    allowed = ~ds["steep"].values
    for alert in alerts:
        if alert.source == "optical":
            allowed &= ~ndimage.binary_dilation(_mask(alert.geometry, geobox), iterations=2)
    strong = _strong_pixels(ds, p) & allowed
    labels, n = ndimage.label(ndimage.binary_closing(strong, iterations=1) & strong, np.ones((3, 3), bool))
    out: list[tuple[Alert, np.ndarray]] = []
    dropped = 0
    res = float(abs(geobox.resolution.x))
    for k in range(1, n + 1):
        mask = labels == k
        if mask.sum() < p.min_candidate_px:
            continue
        breaks = outline_breaks(ds, mask)
        if breaks.first_detected is None:
            continue
        first = breaks.first_detected
        last = breaks.last_unchanged or first
        evidence = outline_change(stack, mask, event_start=last, event_end=first, params=p.sar)
        if not _strong_enough(evidence, p):
            # a smaller darkening of ground: a new smooth surface only if darker than the ground around it
            ring = _ring(mask, allowed, p) if _dark_ground(evidence) else None
            around = (
                outline_change(stack, ring, event_start=last, event_end=first, params=p.sar)
                if ring is not None and ring.any()
                else None
            )
            if not _new_surface(evidence, around, p):
                continue
        if _viewed_after(clear, mask, np.datetime64(first.replace(tzinfo=None), "ns"), p.clear_share) >= (
            p.confirm_clear_obs
        ):
            dropped += 1
            continue
        poly = _polygon(mask, geobox)
        rect = poly.minimum_rotated_rectangle
        sides = (
            sorted(
                shapely.distance(shapely.Point(a), shapely.Point(b))
                for a, b in zip(rect.exterior.coords[:-1], rect.exterior.coords[1:], strict=True)
            )[1:3]
            if rect.geom_type == "Polygon"
            else [res, res]
        )
        width, length = max(sides[0], res), max(sides[-1], res)
        change_type, detail, reason = radar_change_type(evidence, elongation=length / width)
        c = corroborate(change_type, evidence, detail=detail)
        t_max = max((abs(x.t_stat) for o in evidence.orbits for x in o.polarizations), default=0.0)
        persistence = float(np.nanmedian(ds["persistence"].values[:, mask]))
        parts = confidence_parts(
            score=t_max,
            threshold=p.min_candidate_t,
            persistence=persistence,
            n_clear_before=0,
            n_clear_after=0,
            shift_px=0.0,
        )
        geom = to_wgs84(poly, geobox.crs)
        centroid = geom.centroid
        first_day = first.date()
        out.append(
            (
                Alert(
                    id=alert_id(aoi_name, change_type, (centroid.x, centroid.y), first_day),
                    aoi=aoi_name,
                    change_type=change_type,
                    detail=detail,
                    status="candidate",
                    confidence=confidence_from_parts(parts),
                    confidence_parts=parts,
                    last_unchanged=last.date(),
                    first_detected=first_day,
                    area_m2=float(mask.sum()) * res * res,
                    length_m=length,
                    width_m=width,
                    orientation_deg=0.0,
                    geometry=geom,
                    evidence={
                        "reasons": [
                            reason,
                            "seen by Sentinel-1 only: no clear optical scene since the radar change",
                        ],
                        "radar_share_changed": round(breaks.share_changed, 3),
                        "radar_orbits": [o.orbit for o in evidence.orbits],
                    },
                    simulated=simulated,
                    source="sar",
                    corroboration_sar=c,
                ),
                mask,
            )
        )
    return out, dropped


def _load(radar: RadarProvider, result: ScanResult, p: RadarStageParams) -> xr.DataArray:
    start = result.start - dt.timedelta(days=p.lead_days) if result.start else None
    scenes = list(radar.search(result.aoi, start, result.end))
    if not scenes:
        raise NoScenesError(
            f"no radar scenes for AOI {result.aoi.name} from {start or 'the first'} to "
            f"{result.end or 'the last'} date in {radar.source}; widen the range or check the --sar source"
        )
    if result.stack is not None:
        return radar.load(scenes, aoi=result.aoi, geobox=result.stack.odc.geobox)
    return radar.load(scenes, aoi=result.aoi, crs="utm", resolution_m=10.0)


def _series_by_alert(
    alerts: list[Alert], candidates: list[tuple[Alert, np.ndarray]], stack: xr.DataArray, p: RadarStageParams
) -> dict[str, xr.DataArray]:
    """Each alert's outline series (the quicklook's radar panel); candidates by their own pixels."""
    geobox = stack.odc.geobox
    masks = [(a, _mask(a.geometry, geobox)) for a in alerts] + list(candidates)
    return {
        a.id: outline_series(stack, m, normalize=p.sar.normalize) for a, m in masks if np.asarray(m).any()
    }


def run_radar_stage(
    result: ScanResult,
    radar: RadarProvider | str,
    *,
    params: RadarStageParams | None = None,
    provider_options: dict[str, Any] | None = None,
) -> ScanResult:
    """Add radar corroboration and radar-only candidates to a scan's result.

    Parameters
    ----------
    result : ScanResult
        The optical scan's result (with its stack and clear mask when scanned in memory).
    radar : RadarProvider or str
        A radar source (``"local:DIR"``, ``"cdse"``...; see
        :func:`~sitewatch.providers.radar.get_radar_provider`) or a provider.
    params : RadarStageParams, optional
    provider_options : dict, optional
        For a source name (``cache_dir``...).

    Returns
    -------
    ScanResult
        Alerts corroborated, radar candidates appended, what the radar lacked in ``messages``,
        each alert's radar series over its outline in ``radar_series``.

    Raises
    ------
    NoScenesError
        If the source has no radar scene over the AOI in the range.
    """
    p = params or RadarStageParams()
    provider = get_radar_provider(radar, **(provider_options or {})) if isinstance(radar, str) else radar
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stack = _load(provider, result, p)
        if p.sar.normalize:
            stack = with_scene_offsets(stack)  # once, not once per outline measured on it
        alerts = corroborate_alerts(list(result.alerts), stack, params=p)
        messages = [f"radar: {stack.sizes['time']} Sentinel-1 acquisitions from {provider.source}"]
        try:
            ds = detect_sar_breaks(stack, params=p.sar)
        except DataError as err:
            messages.append(f"radar: no radar-only candidates ({err})")
            candidates: list[tuple[Alert, np.ndarray]] = []
            dropped = 0
        else:
            candidates, dropped = radar_candidates(
                ds,
                stack,
                aoi_name=result.aoi.name,
                alerts=alerts,
                clear=result.clear,
                simulated=result.simulated,
                params=p,
            )
    # the radar's own warnings (one orbit, one polarisation, dB input...) become messages
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, SitewatchWarning)})
    labels, alert_labels = result.labels, result.alert_labels
    if labels is not None and candidates and len(alert_labels) == len(alerts):
        # paint the candidates as objects of their own, so quicklooks and briefs find them
        painted = labels.values.copy()
        start = int(painted.max()) + 1
        for i, (_, mask) in enumerate(candidates):
            painted[mask & (painted == 0)] = start + i
        labels = labels.copy(data=painted)
        alert_labels = (*alert_labels, *range(start, start + len(candidates)))
    messages += [f"radar: {n}" for n in notes]
    messages.append(
        f"radar: {len(candidates)} radar-only candidate(s); "
        f"{dropped} radar change(s) settled by clear optical scenes"
    )
    return replace(
        result,
        alerts=[*alerts, *(a for a, _ in candidates)],
        labels=labels,
        alert_labels=alert_labels,
        messages=[*result.messages, *messages],
        extra_metadata={**result.extra_metadata, "sar_source": provider.source},
        radar_series=_series_by_alert(alerts, candidates, stack, p),
    )
