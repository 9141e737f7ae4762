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
from scipy import ndimage, sparse
from scipy.sparse import csgraph
from shapely.geometry import shape

from sitewatch.alerts import Alert, alert_id, confidence_from_parts, confidence_parts
from sitewatch.core.sar import SarParams, detect_sar_breaks, orbit_groups
from sitewatch.core.sar_null import NullParams, OutlineSignificance, outline_significance
from sitewatch.core.sar_outline import (
    SCENE_OFFSET_COORD,
    OutlineChange,
    outline_breaks,
    outline_change,
    outline_series,
    with_scene_offsets,
)
from sitewatch.errors import DataError, NoScenesError, SitewatchWarning
from sitewatch.objects.corroborate import (
    corroborate,
    double_bounce_before,
    own_darkening,
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
    min_candidate_z : float
        The outline's radar change, as a robust z against the same outline moved over the
        site around it at the same dates (:func:`~sitewatch.core.sar_null.outline_significance`,
        orbits and polarisations pooled), needed for a candidate: the site's own ground,
        fields and all, is the yardstick, not a fixed t.
    min_candidate_t, min_candidate_db : float
        A change with neither the double-bounce loss of structures nor the own darkening of a
        new surface (new structures, roughness) is a candidate only with ``|t|`` and mean
        change (dB) of at least these in some polarisation of every orbit.
    ring_px : tuple of int
        Inner and outer distance (pixels) of the ring of ground an outline's darkening is
        compared with (the inner gap keeps the pixels that mix both out of it).
    confirm_clear_obs : int
        Clear optical views of an outline after the radar change that settle it.
    clear_share : float
        An optical scene views an outline when this share of its pixels is clear.
    null : NullParams
        Where the null outlines are placed.
    """

    sar: SarParams = field(default_factory=SarParams)
    lead_days: int = 120
    min_candidate_px: int = 8
    min_candidate_z: float = 5.0
    min_candidate_t: float = 6.0
    min_candidate_db: float = 3.0
    ring_px: tuple[int, int] = (1, 4)
    confirm_clear_obs: int = 2
    clear_share: float = 0.5
    null: NullParams = field(default_factory=NullParams)


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


def _seed_pixels(ds: xr.Dataset) -> np.ndarray:
    """Seed pixels of radar-only outlines: a lasting break in any orbit, off steep terrain.

    A pixel's break is a weak witness alone (a small pad's pixels reach significance in one
    orbit, a gravel pad's in few), so every break seeds; the outline it belongs to is then
    judged as a whole, against the site (:func:`_significant`).
    """
    return np.asarray(ds["changed"].values & ~ds["steep"].values)


def _revisit_days(stack: xr.DataArray) -> float:
    """The median interval between consecutive acquisitions of one orbit (the radar's dating step)."""
    days = stack.coords["time"].values.astype("datetime64[s]").astype(np.int64) / 86_400.0
    gaps = [np.diff(days[list(g.index)]) for g in orbit_groups(stack) if len(g.index) > 1]
    return float(np.median(np.concatenate(gaps))) if gaps else 12.0


def _changes(ds: xr.Dataset, seeds: np.ndarray, tolerance_days: float) -> tuple[np.ndarray, int]:
    """Label the seeds into changes: neighbours that broke the same way within ``tolerance_days``.

    One change is one event: a pad laid next to a field ploughed a month earlier is two, though
    their pixels touch (as the optical objects are split by date). Pixels are joined to their
    eight neighbours when both broke, in the same direction (the sign of their t summed over
    orbits and polarisations) and at dates no further apart than one revisit.
    """
    h, w = seeds.shape
    day = ds["first_detected"].values.astype("datetime64[s]").astype(np.float64) / 86_400.0
    sign = np.sign(np.nan_to_num(ds["t_stat"].values).sum(axis=(0, 1)))
    flat = np.arange(h * w).reshape(h, w)
    rows, cols = [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = (slice(0, h - dy), slice(max(0, -dx), w - max(0, dx)))
        b = (slice(dy, h), slice(max(0, dx), w - max(0, -dx)))
        join = seeds[a] & seeds[b] & (sign[a] == sign[b]) & (np.abs(day[a] - day[b]) <= tolerance_days)
        rows.append(flat[a][join])
        cols.append(flat[b][join])
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = sparse.coo_matrix((np.ones(r.size, np.int8), (r, c)), shape=(h * w, h * w))
    _, comp = csgraph.connected_components(graph, directed=False)
    labels = np.where(seeds.reshape(-1), comp + 1, 0).reshape(h, w)
    uniq, labels_flat = np.unique(labels, return_inverse=True)
    # 0 (no seed) stays 0 because it is the smallest label
    return labels_flat.reshape(h, w), int(uniq.size - 1)


def _polygon(mask: np.ndarray, geobox: Any) -> Any:
    polys = [shape(g) for g, v in shapes(mask.astype(np.uint8), mask=mask, transform=geobox.affine) if v]
    return shapely.union_all(polys)


def _significant(significance: OutlineSignificance, p: RadarStageParams) -> tuple[bool, str]:
    """Whether an outline's radar change stands out from the site's own ground (and why not).

    The pooled robust z reaches :attr:`RadarStageParams.min_candidate_z` and no orbit says
    the opposite.
    """
    if not np.isfinite(significance.z):
        return False, "no null (too little ground around it)"
    if abs(significance.z) < p.min_candidate_z:
        return False, f"not unusual for the site (z {significance.z:+.1f})"
    if not significance.agree:
        return False, "the orbits disagree"
    return True, ""


def _large(evidence: OutlineChange, p: RadarStageParams) -> bool:
    """Every orbit that saw it shows a large, significant change in some polarisation."""
    return bool(evidence.orbits) and all(
        any(
            abs(c.t_stat) >= p.min_candidate_t and abs(c.delta_db) >= p.min_candidate_db
            for c in o.polarizations
        )
        for o in evidence.orbits
    )


def _ring(mask: np.ndarray, allowed: np.ndarray, p: RadarStageParams) -> np.ndarray:
    inner, outer = p.ring_px
    near = ndimage.binary_dilation(mask, iterations=inner) if inner > 0 else mask
    far: np.ndarray = ndimage.binary_dilation(mask, iterations=outer)
    return far & ~near & allowed


def _structures_gone(evidence: OutlineChange, around: OutlineChange | None) -> bool:
    """A bright (double-bounce) outline that every orbit saw go darker: structures removed."""
    return (
        bool(evidence.orbits)
        and double_bounce_before(evidence, around)
        and all(any(c.direction == "darker" for c in o.polarizations) for o in evidence.orbits)
    )


def _signature(evidence: OutlineChange, around: OutlineChange | None, p: RadarStageParams) -> str:
    """The radar signature that makes a site-unusual change a candidate, or "" for none.

    Per material, as C-band sees it: structures removed lose their double bounce
    (:func:`_structures_gone`); a new smooth surface darkens its own outline more than the
    ground around it (:func:`~sitewatch.objects.corroborate.own_darkening`; gravel by little,
    concrete and asphalt by several dB); anything else (new structures, roughness) must be
    large and significant in every orbit (:func:`_large`).
    """
    if _structures_gone(evidence, around):
        return "structures gone"
    if own_darkening(evidence, around, min_db=p.sar.outline_min_change_db):
        return "own darkening"
    return "large change" if _large(evidence, p) else ""


def _around(
    evidence: OutlineChange, stack: xr.DataArray, mask: np.ndarray, allowed: np.ndarray, p: RadarStageParams
) -> OutlineChange | None:
    """The ground around an outline (a ring of ``ring_px``) over the same dates, or None."""
    ring = _ring(mask, allowed, p)
    if not ring.any():
        return None
    return outline_change(
        stack, ring, event_start=evidence.event_start, event_end=evidence.event_end, params=p.sar
    )


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
    if p.sar.normalize and SCENE_OFFSET_COORD not in stack.coords:
        stack = with_scene_offsets(stack)  # once, not once per outline measured on it
    geobox = stack.odc.geobox
    allowed = ~ds["steep"].values
    for alert in alerts:
        if alert.source == "optical":
            allowed &= ~ndimage.binary_dilation(_mask(alert.geometry, geobox), iterations=2)
    seeds = _seed_pixels(ds) & allowed
    labels, n = _changes(ds, seeds, _revisit_days(stack))
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
        significance = outline_significance(
            stack, mask, event_start=last, event_end=first, params=p.sar, null=p.null
        )
        if not _significant(significance, p)[0]:
            continue
        around = _around(evidence, stack, mask, allowed, p)
        if not _signature(evidence, around, p):
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
        change_type, detail, reason = radar_change_type(evidence, elongation=length / width, around=around)
        c = corroborate(change_type, evidence, detail=detail)
        persistence = float(np.nanmedian(ds["persistence"].values[:, mask]))
        parts = confidence_parts(
            score=abs(significance.z),
            threshold=p.min_candidate_z,
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
                        "radar_site_z": round(significance.z, 2),
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
