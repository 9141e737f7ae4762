"""Detections to link claims against: one alerts collection per site, whatever wrote them.

Three files hold detections, and ``sitewatch reports link`` takes each:

- a **scan** (``sitewatch scan``): one site, named in its ``sitewatch`` member (``aoi``),
  with the scenes it used;
- a **batch run's merged** ``alerts.geojson`` (``sitewatch scan --all``): several sites
  (``sitewatch.aois``), each alert naming its own (``properties.aoi``); the scenes of each
  site are read from the run's ``aois/<name>/alerts.geojson`` beside it;
- a **two-date comparison** (``sitewatch compare``): untyped changes between a before and
  an after scene, with no site of its own. It is linked to the site the user names
  (``--aoi``), else to the one registered site its changes lie in; its changes carry the
  type ``change`` (a comparison does not type what it finds), so they can show that
  something changed when and where a claim says, never what was built.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sitewatch.errors import DataError
from sitewatch.types import as_date

__all__ = ["UNTYPED_CHANGE", "alert_collections", "check_alerts", "load_alerts"]

#: The change type given to the untyped changes of a two-date comparison.
UNTYPED_CHANGE = "change"
_ALERT_REQUIRED = ("id", "change_type", "first_detected")


def _kind(doc: Mapping[str, Any]) -> str:
    meta = doc.get("sitewatch")
    if not isinstance(meta, Mapping):
        return "none"
    if meta.get("aoi"):
        return "scan"
    if isinstance(meta.get("aois"), list):
        return "run"
    if isinstance(meta.get("before"), Mapping) and isinstance(meta.get("after"), Mapping):
        return "compare"
    return "none"


def check_alerts(doc: Any, *, where: str = "alerts") -> None:
    """Raise :class:`DataError` unless ``doc`` is an alerts collection linking can read.

    Parameters
    ----------
    doc : Any
        A parsed GeoJSON document: a scan's alerts, a batch run's merged alerts, or a
        comparison already given its site (see :func:`load_alerts`).
    where : str
        How to name the document in messages.

    Raises
    ------
    DataError
        If it is not a FeatureCollection with a ``sitewatch`` member naming its site(s), or
        an alert lacks an id, a type or a date.
    """
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise DataError(f"{where} is not a GeoJSON FeatureCollection of alerts")
    kind = _kind(doc)
    if kind == "compare":
        raise DataError(
            f"{where} is a `sitewatch compare` result, which names no site: read it with "
            "load_alerts(path, aoi=NAME), or pass --aoi NAME to `sitewatch reports link`"
        )
    if kind == "none":
        raise DataError(
            f"{where} lacks the 'sitewatch' member with the AOI name (was it written by `sitewatch scan`, "
            "`scan --all` or `compare`?)"
        )
    for i, feat in enumerate(doc.get("features") or []):
        props = (feat or {}).get("properties") or {}
        missing = [k for k in _ALERT_REQUIRED if props.get(k) in (None, "")]
        if kind == "run" and not props.get("aoi"):
            missing.append("aoi")
        if missing:
            raise DataError(f"{where}: alert #{i} lacks {', '.join(missing)}")
        for key in ("first_detected", "last_unchanged"):
            if props.get(key):
                try:
                    as_date(props[key])
                except ValueError:
                    raise DataError(f"{where}: alert {props['id']} has a bad {key} {props[key]!r}") from None


def _footprint_site(doc: Mapping[str, Any], where: str) -> str:
    """The one registered site the changes of a comparison lie in."""
    from shapely.geometry import shape
    from shapely.ops import unary_union

    from sitewatch.aoi import list_aois

    geoms = [shape(f["geometry"]) for f in doc.get("features") or [] if f and f.get("geometry")]
    if not geoms:
        raise DataError(
            f"{where} is a `sitewatch compare` result with no change to place it by, and names no site: "
            "pass --aoi NAME"
        )
    footprint = unary_union(geoms)
    hits = [a.name for a in list_aois() if a.geometry.intersects(footprint)]
    if len(hits) != 1:
        found = f"its changes lie in {', '.join(hits)}" if hits else "its changes lie in no registered site"
        raise DataError(f"{where} is a `sitewatch compare` result and {found}: pass --aoi NAME")
    return hits[0]


def _from_compare(doc: Mapping[str, Any], aoi: str, *, how: str) -> dict[str, Any]:
    """A comparison as an alerts collection of one site: untyped changes, two scenes."""
    meta = doc["sitewatch"]
    before, after = meta["before"], meta["after"]
    fractions = list(meta.get("clear_fraction") or [])
    scenes = []
    for i, scene in enumerate((before, after)):
        if scene.get("date"):
            frac = fractions[i] if i < len(fractions) else None
            scenes.append({"id": scene.get("id"), "date": str(scene["date"])[:10], "clear_fraction": frac})
    features = []
    for k, feat in enumerate(doc.get("features") or []):
        props = dict(feat.get("properties") or {})
        props.update(
            id=str(feat.get("id") or props.get("id") or f"change-{k + 1}"),
            aoi=aoi,
            change_type=UNTYPED_CHANGE,
            status="two-date change",
            last_unchanged=str(before.get("date"))[:10],
            first_detected=str(after.get("date"))[:10],
        )
        features.append({"type": "Feature", "geometry": feat.get("geometry"), "properties": props})
    return {
        "type": "FeatureCollection",
        "features": features,
        "sitewatch": {
            "aoi": aoi,
            "aoi_from": how,
            "kind": "compare",
            "source": "sitewatch compare",
            "start": str(before.get("date"))[:10],
            "end": str(after.get("date"))[:10],
            "scenes_used": scenes,
            "scenes_dropped": [],
        },
    }


def load_alerts(path: str | os.PathLike[str], *, aoi: str | None = None) -> dict[str, Any]:
    """Read detections to link claims against: a scan's, a batch run's, or a comparison's.

    Parameters
    ----------
    path : path-like
        ``alerts.geojson`` of ``sitewatch scan``, a run's merged ``alerts.geojson`` of
        ``sitewatch scan --all``, or the GeoJSON of ``sitewatch compare``.
    aoi : str, optional
        The site a comparison is about (it names none); without it, the one registered
        site its changes lie in. Ignored for scans and runs, which name their sites.

    Returns
    -------
    dict
        A FeatureCollection that :func:`alert_collections` (and so
        :func:`~sitewatch.reports.link.link_claims`) reads. A run's merged file keeps, under
        ``sitewatch.aoi_meta``, the ``sitewatch`` member of each site's own file beside it
        (the scenes it used), so absent alerts can be judged as in the run itself.

    Raises
    ------
    DataError
        If the file is missing, not JSON, or not detections; or a comparison's site
        cannot be told (no ``aoi`` and its changes lie in no registered site, or several).
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"alerts file {p} does not exist (write one with `sitewatch scan`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"alerts file {p} is not valid JSON: {exc}") from None
    if isinstance(doc, Mapping) and doc.get("type") == "FeatureCollection" and _kind(doc) == "compare":
        if aoi is None:
            site, how = _footprint_site(doc, f"alerts file {p}"), "footprint"
        else:
            site, how = aoi, "option"
        doc = _from_compare(doc, site, how=how)
    check_alerts(doc, where=f"alerts file {p}")
    doc = dict(doc)
    if _kind(doc) == "run":
        own: dict[str, Any] = {}
        for name in doc["sitewatch"]["aois"]:
            sibling = p.parent / "aois" / str(name) / "alerts.geojson"
            try:
                meta = json.loads(sibling.read_text(encoding="utf-8")).get("sitewatch")
            except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
                continue  # a merged file copied away from its run: linked on its own dates
            if isinstance(meta, Mapping):
                own[str(name)] = dict(meta)
        doc["sitewatch"] = dict(doc["sitewatch"], aoi_meta=own)
    return doc


def alert_collections(
    alerts: Mapping[str, Any] | Sequence[Mapping[str, Any]],
) -> dict[str, Mapping[str, Any]]:
    """One alerts collection per site, from scans' and batch runs' collections.

    Parameters
    ----------
    alerts : mapping or sequence of mappings
        Collections as :func:`load_alerts` returns them (or as ``sitewatch scan`` writes).

    Returns
    -------
    dict
        Site name -> a FeatureCollection of that site's alerts whose ``sitewatch`` member
        has the site's ``aoi``, ``start``, ``end`` and (where known) ``scenes_used``.

    Raises
    ------
    DataError
        If a collection is malformed.
    """
    docs = [alerts] if isinstance(alerts, Mapping) else list(alerts)
    out: dict[str, Mapping[str, Any]] = {}
    for i, doc in enumerate(docs):
        check_alerts(doc, where=f"alerts collection #{i}")
        meta = doc["sitewatch"]
        if _kind(doc) == "scan":
            out[str(meta["aoi"])] = doc
            continue
        own_meta = meta.get("aoi_meta") or {}
        for name in meta["aois"]:
            feats = [f for f in doc.get("features") or [] if (f.get("properties") or {}).get("aoi") == name]
            site_meta = dict(own_meta.get(name) or {})
            if not site_meta:
                # Without the site's own file the scenes are unknown: absent alerts cannot be judged.
                site_meta = {k: meta.get(k) for k in ("source", "start", "end", "simulated")}
                site_meta["scenes_used"] = []
                site_meta["note"] = "merged run file without the site's own alerts file: scenes unknown"
            site_meta["aoi"] = name
            out[str(name)] = {"type": "FeatureCollection", "features": feats, "sitewatch": site_meta}
    return out
