"""What an export reads: alerts, the AOIs they are about, and the claims on them.

:func:`read_alerts_source` reads a run directory, a scan's output folder or an alerts
GeoJSON into one typed :class:`AlertsSource` that every writer uses, so a column, a balloon
line and a CSV field never disagree about what an alert says.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitewatch.alerts import Alert, alert_from_feature
from sitewatch.errors import ConfigError, DataError

__all__ = ["AlertsSource", "ClaimRow", "read_alerts_source", "replace_from_temp"]


@dataclass(frozen=True)
class ClaimRow:
    """One report claim about a site, with the verdict the imagery gave it.

    Parameters
    ----------
    claim_id, site, event : str
    verdict : str
        ``supported``, ``contradicted``... or ``not_assessed`` when it was not linked.
    reason, quote, publisher, url, when_text : str
    when_start, when_end : str or None
        ISO dates of the interval the report gives.
    alert_ids : tuple of str
        The alerts the verdict rests on.
    """

    claim_id: str
    site: str
    event: str
    verdict: str
    reason: str = ""
    quote: str = ""
    publisher: str = ""
    url: str = ""
    when_text: str = ""
    when_start: str | None = None
    when_end: str | None = None
    alert_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertsSource:
    """What an export writes: alerts, the AOIs they are about, and the claims on them.

    Parameters
    ----------
    alerts : list of Alert
    base : pathlib.Path
        Folder the alerts' ``quicklook`` (and ``timelapse``) paths are relative to.
    aois : mapping
        AOI name -> ``{"display_name": str, "geometry": GeoJSON mapping or None}``.
    claims : list of ClaimRow
        Empty when no reports were linked.
    metadata : mapping
        The collection's ``sitewatch`` member.
    collection : mapping
        The alerts FeatureCollection as read (GeoJSON export writes it back unchanged).
    """

    alerts: list[Alert]
    base: Path
    aois: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    claims: list[ClaimRow] = field(default_factory=list)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    collection: Mapping[str, Any] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        """True when the collection or any alert comes from simulated imagery."""
        return bool(self.metadata.get("simulated")) or any(a.simulated for a in self.alerts)

    def display_name(self, aoi: str) -> str:
        """The AOI's display name (its name when unknown)."""
        return str((self.aois.get(aoi) or {}).get("display_name") or aoi)

    def file(self, rel: str | None) -> Path | None:
        """The file a relative path in the collection names, if it exists inside :attr:`base`."""
        if not rel:
            return None
        target = (self.base / rel).resolve()
        try:
            target.relative_to(self.base.resolve())
        except ValueError:
            return None  # a path in a collection must never lead the export out of its folder
        return target if target.is_file() else None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} cannot be read as JSON ({exc}); is it a sitewatch file?") from None


def _claim_rows(claims_doc: Any, links_doc: Any) -> list[ClaimRow]:
    links = {str(lk.get("claim_id")): lk for lk in (links_doc or {}).get("links") or []}
    rows = []
    for c in (claims_doc or {}).get("claims") or []:
        link = links.get(str(c.get("id"))) or {}
        when = c.get("when") or {}
        src = c.get("source") or {}
        rows.append(
            ClaimRow(
                claim_id=str(c.get("id")),
                site=str(c.get("site") or ""),
                event=str(c.get("event") or ""),
                verdict=str(link.get("verdict") or "not_assessed"),
                reason=str(link.get("reason") or ""),
                quote=str((c.get("quote") or {}).get("text") or ""),
                publisher=str(src.get("publisher") or ""),
                url=str(src.get("url") or src.get("file") or ""),
                when_text=str(when.get("text") or ""),
                when_start=str(when["start"])[:10] if when.get("start") else None,
                when_end=str(when["end"])[:10] if when.get("end") else None,
                alert_ids=tuple(str(a.get("id")) for a in link.get("alerts") or [] if a.get("id")),
            )
        )
    return rows


def _aoi_of_collection(meta: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The AOI outline a single scan's collection is about, when its name is a watched site."""
    from shapely.geometry import mapping

    from sitewatch.aoi import load_aoi

    name = str(meta.get("aoi") or "")
    if not name:
        return {}
    if meta.get("aoi_outline"):
        return {name: {"display_name": name, "geometry": meta["aoi_outline"]}}
    try:
        aoi = load_aoi(name)
    except (ConfigError, DataError, OSError, ValueError):
        return {name: {"display_name": name, "geometry": None}}  # a file AOI no longer at hand
    return {name: {"display_name": aoi.display_name, "geometry": mapping(aoi.geometry)}}


def read_alerts_source(path: str | os.PathLike[str]) -> AlertsSource:
    """Read what an export writes from a run directory, a scan's folder or an alerts GeoJSON.

    Parameters
    ----------
    path : path-like
        A batch run directory (``manifest.json`` and ``alerts.geojson`` at its root; claims
        from ``claims.json``/``links.json``), a folder holding ``alerts.geojson`` (as ``scan``
        and ``demo`` write), or an alerts GeoJSON (claims from ``<stem>.claims.json`` and
        ``<stem>.links.json`` beside it, when reports were linked).

    Returns
    -------
    AlertsSource

    Raises
    ------
    ConfigError
        If the path does not exist or holds no alerts collection.
    DataError
        If a file is not readable JSON.
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p} does not exist; give a run directory or an alerts GeoJSON")
    if p.is_dir():
        manifest = _read_json(p / "manifest.json")
        geojson = p / "alerts.geojson"
        if not geojson.is_file():
            raise ConfigError(f"{p} holds no alerts.geojson; give a run directory or an alerts GeoJSON")
        collection = _read_json(geojson) or {}
        if manifest is not None:
            aois = {
                str(rec["name"]): {
                    "display_name": str(rec.get("display_name") or rec["name"]),
                    "geometry": rec.get("geometry"),
                }
                for rec in manifest.get("aois") or []
            }
            claims = _claim_rows(_read_json(p / "claims.json"), _read_json(p / "links.json"))
            return _source(collection, p, aois, claims)
        path_json = geojson
    else:
        path_json = p
        collection = _read_json(p) or {}
    if collection.get("type") != "FeatureCollection":
        raise ConfigError(f"{path_json} is not a GeoJSON FeatureCollection of alerts")
    meta = collection.get("sitewatch") or {}
    claims = _claim_rows(
        _read_json(path_json.with_name(f"{path_json.stem}.claims.json")),
        _read_json(path_json.with_name(f"{path_json.stem}.links.json")),
    )
    return _source(collection, path_json.parent, _aoi_of_collection(meta), claims)


def _source(
    collection: Mapping[str, Any], base: Path, aois: dict[str, Any], claims: list[ClaimRow]
) -> AlertsSource:
    alerts = [alert_from_feature(f) for f in collection.get("features") or []]
    return AlertsSource(
        alerts=alerts,
        base=base,
        aois=aois,
        claims=claims,
        metadata=dict(collection.get("sitewatch") or {}),
        collection=collection,
    )


def replace_from_temp(target: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
    """Let ``write`` fill a temporary file beside ``target``, then rename it over ``target``.

    For writers that only take a path (a zip, a GeoPackage): readers see the old file or
    the whole new one, and a failure leaves no temporary file behind.

    Parameters
    ----------
    target : path-like
    write : callable
        Called with the temporary path (which has the target's extension).

    Returns
    -------
    pathlib.Path
    """
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=f".partial{out.suffix}", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # some writers refuse an existing file (GDAL would try to update it)
    try:
        write(tmp)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return out
