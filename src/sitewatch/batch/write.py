"""Writing a batch run's directory (:mod:`sitewatch.runs`): per-AOI files, merged alerts, summaries, claims.

Only the process that started the run writes here; every write is atomic.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sitewatch.batch.results import CHANGE_TYPES, AOIOutcome
from sitewatch.errors import ConfigError
from sitewatch.pipeline.result import ScanResult
from sitewatch.redact import redact
from sitewatch.runs import (
    AOIState,
    alert_fingerprint,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)
from sitewatch.types import AOI

__all__ = [
    "aoi_record",
    "dumps",
    "extract_claims",
    "link_reports",
    "merged_collection",
    "public_sources",
    "finished_aois",
    "DONE_NAME",
    "summary_csv",
    "write_outcome",
]


def _public_source(source: str) -> str:
    # A source string could carry credentials in a URL; the manifest never keeps them.
    return redact(source)


def public_sources(sources: Mapping[str, str]) -> str | dict[str, str]:
    """The run's source(s) as the manifest keeps them: one, or one per AOI, credentials masked."""
    distinct = set(sources.values())
    if len(distinct) == 1:
        return _public_source(distinct.pop())
    return {name: _public_source(src) for name, src in sorted(sources.items())}


def aoi_record(aoi: AOI) -> dict[str, Any]:
    """The manifest's record of an AOI: names, point, geometry and a hash of its file."""
    import shapely.geometry

    rec: dict[str, Any] = {
        "name": aoi.name,
        "display_name": aoi.display_name,
        "path": aoi.path,
        "point": list(aoi.point) if aoi.point else None,
        "location_certainty": aoi.location_certainty,
        "geometry": shapely.geometry.mapping(aoi.geometry),
    }
    if aoi.path and Path(aoi.path).is_file():
        rec["sha256"] = hashlib.sha256(Path(aoi.path).read_bytes()).hexdigest()
    else:
        rec["geometry_wkt_sha256"] = hashlib.sha256(aoi.geometry.wkt.encode()).hexdigest()
    return rec


def _last_scene_date(result: ScanResult) -> str | None:
    dates = [str(s.get("date"))[:10] for s in result.scenes_used if isinstance(s, Mapping) and s.get("date")]
    return max(dates) if dates else None


def _annotate(
    fc: Mapping[str, Any], previous: AOIState | None, aoi_name: str
) -> tuple[dict[str, Any], list[str], list[str]]:
    """Mark each alert new/updated/seen against the previous run; return the copy and the lists."""
    out = dict(fc)
    features = []
    new: list[str] = []
    updated: list[str] = []
    for feat in fc.get("features") or []:
        feat = dict(feat)
        props = dict(feat.get("properties") or {})
        aid = str(props.get("id") or feat.get("id") or "")
        if previous is None or aid not in previous.alerts:
            props["since_last"] = "new"
            new.append(aid)
        elif dict(previous.alerts[aid]) != alert_fingerprint(props):
            props["since_last"] = "updated"
            updated.append(aid)
        else:
            props["since_last"] = "seen"
        props.setdefault("aoi", aoi_name)
        feat["properties"] = props
        features.append(feat)
    features.sort(key=lambda f: str(f["properties"].get("id") or ""))
    out["features"] = features
    return out, new, updated


def _counts(fc: Mapping[str, Any] | None) -> dict[str, int]:
    counts = dict.fromkeys(CHANGE_TYPES, 0)
    for feat in (fc or {}).get("features") or []:
        kind = (feat.get("properties") or {}).get("change_type")
        counts[kind if kind in counts else "other"] += 1
    return counts


def dumps(data: Any) -> str:
    """JSON text as the run directory writes it (no NaN)."""
    import json

    return json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False, sort_keys=False) + "\n"


def write_outcome(
    run_dir: Path, outcome: AOIOutcome, previous: AOIState | None, since_last: bool
) -> tuple[dict[str, Any], dict[str, Any] | None, AOIState | None]:
    """Write one AOI's files; return its summary row, its annotated alerts and its new state.

    Parameters
    ----------
    run_dir : pathlib.Path
    outcome : AOIOutcome
    previous : AOIState or None
        The AOI's state in the previous run.
    since_last : bool
        Mark alerts new/updated against ``previous``, and count only the new scenes.

    Returns
    -------
    tuple
        The summary row, the alerts collection written (or None) and the AOI's new state.
    """
    folder = run_dir / "aois" / outcome.aoi
    row: dict[str, Any] = {
        "aoi": outcome.aoi,
        "status": outcome.status,
        "start": outcome.start,
        "scenes_used": 0,
        "scenes_dropped": 0,
        **dict.fromkeys(CHANGE_TYPES, 0),
        "alerts": 0,
        "new": 0,
        "updated": 0,
        "seconds": round(outcome.seconds, 2),
        "error": outcome.error or "",
    }
    if outcome.status == "failed":
        atomic_write_text(folder / "error.txt", (outcome.detail or outcome.error or "") + "\n")
        return row, None, previous
    if outcome.status == "up_to_date" or outcome.result is None:
        row["error"] = ""
        return row, None, previous
    # the edge: the typed result becomes the run's GeoJSON here, once
    fc, new, updated = _annotate(outcome.result.to_geojson(), previous if since_last else None, outcome.aoi)
    for rel, data in sorted(outcome.files.items()):
        atomic_write_bytes(folder / rel, data)
    atomic_write_text(folder / "alerts.geojson", dumps(fc))
    used, dropped = list(outcome.result.scenes_used), list(outcome.result.scenes_dropped)
    # Since-last runs count the new scenes only (the baseline before them was counted before).
    used = [u for u in used if str(u.get("date"))[:10] >= outcome.start]
    dropped = [d for d in dropped if not isinstance(d, Mapping) or str(d.get("date"))[:10] >= outcome.start]
    row.update(_counts(fc))
    row.update(
        scenes_used=len(used),
        scenes_dropped=len(dropped),
        alerts=len(fc["features"]),
        new=len(new),
        updated=len(updated),
    )
    fingerprints = dict(previous.alerts) if (previous and since_last) else {}
    for feat in fc["features"]:
        props = feat["properties"]
        fingerprints[str(props.get("id") or feat.get("id"))] = alert_fingerprint(props)
    last = _last_scene_date(outcome.result) or (previous.last_scene_date if previous else None)
    if previous and previous.last_scene_date and last and previous.last_scene_date > last:
        last = previous.last_scene_date
    state = AOIState(outcome.aoi, last, fingerprints, run_dir.name)
    # written last: its presence says the AOI is finished, so an interrupted run resumes after it
    atomic_write_json(folder / DONE_NAME, {"row": row, "state": state.to_json()})
    return row, fc, state


#: Per-AOI file written once all its outputs are: the AOI is finished (read when resuming a run).
DONE_NAME = "done.json"


def finished_aois(
    run_dir: Path, names: Sequence[str]
) -> dict[str, tuple[dict[str, Any], dict[str, Any], AOIState]]:
    """The AOIs an interrupted run finished: name -> (summary row, alerts collection, state).

    An AOI counts as finished when its ``done.json`` and ``alerts.geojson`` read back whole;
    anything else (failed, half written, never reached) is scanned again.
    """
    import json

    kept = {}
    for name in names:
        folder = run_dir / "aois" / name
        try:
            done = json.loads((folder / DONE_NAME).read_text(encoding="utf-8"))
            fc = json.loads((folder / "alerts.geojson").read_text(encoding="utf-8"))
            state = AOIState.from_json(name, done["state"])
            row = dict(done["row"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        kept[name] = (row, fc, state)
    return kept


def merged_collection(
    collections: Mapping[str, Mapping[str, Any]], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The run's ``alerts.geojson``: every AOI's alerts, quicklook paths relative to the run."""
    features = []
    for name in sorted(collections):
        for feat in collections[name].get("features") or []:
            feat = dict(feat)
            props = dict(feat["properties"])
            if props.get("quicklook"):
                props["quicklook"] = f"aois/{name}/{props['quicklook']}"
            feat["properties"] = props
            features.append(feat)
    return {"type": "FeatureCollection", "sitewatch": dict(meta), "features": features}


def summary_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The summary rows as CSV text."""
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return buf.getvalue()


def extract_claims(reports_dir: Path, aois: Sequence[AOI]) -> list[Any]:
    """Read the reports once, before any scan, so a bad reports folder fails the run at once.

    Raises
    ------
    ConfigError
        If the folder does not exist.
    """
    from sitewatch.reports import extract_claims_for

    if not reports_dir.exists():
        raise ConfigError(f"reports folder {reports_dir} does not exist")
    return extract_claims_for(reports_dir, aois)


def link_reports(
    run_dir: Path,
    claims: Sequence[Any],
    collections: dict[str, dict[str, Any]],
    rows: Mapping[str, dict[str, Any]],
) -> None:
    """Link the claims about each scanned AOI to its alerts; write claims, links, cited alerts.

    Parameters
    ----------
    run_dir : pathlib.Path
    claims : sequence of Claim
    collections : dict
        AOI name -> its alerts collection (replaced by the cited one).
    rows : mapping
        AOI name -> its summary row (gains claim counts).
    """
    from sitewatch.reports import attach_links, claims_document, link_claims, links_document

    atomic_write_json(run_dir / "claims.json", claims_document(claims))
    names = set(rows)
    about = [c for c in claims if c.site in names]
    links = link_claims(about, [collections[n] for n in sorted(collections)]) if about else []
    atomic_write_json(run_dir / "links.json", links_document(links, about))
    for name in sorted(names):
        own = [lk for lk in links if lk.site == name]
        rows[name]["claims"] = len(own)
        rows[name]["supported"] = sum(lk.verdict == "supported" for lk in own)
        rows[name]["partly_supported"] = sum(lk.verdict == "partly_supported" for lk in own)
        rows[name]["contradicted"] = sum(lk.verdict == "contradicted" for lk in own)
        if not own and name not in collections:
            continue
        atomic_write_json(run_dir / "aois" / name / "links.json", links_document(own, about))
        if name in collections:
            cited = attach_links(collections[name], own, about)
            collections[name] = cited
            atomic_write_text(run_dir / "aois" / name / "alerts.geojson", dumps(cited))
