"""What a scan found (:class:`ScanResult`), and the one place it is written (:meth:`ScanResult.write`)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from sitewatch.alerts import Alert, alert_feature, alert_from_feature
from sitewatch.export import feature_collection, write_geojson
from sitewatch.pipeline.imagery import (
    SiteImagery,
    site_imagery,
    write_alert_quicklook,
    write_alert_timelapse,
    write_site_composites,
)
from sitewatch.plots import QuicklookFormat
from sitewatch.types import AOI
from sitewatch.version import __version__

__all__ = ["ScanOutputs", "ScanResult", "quicklook_window", "write_quicklook"]

_METADATA_KEYS = frozenset(
    {
        "version",
        "aoi",
        "source",
        "simulated",
        "start",
        "end",
        "coverage",
        "messages",
        "scenes_used",
        "scenes_dropped",
        "aoi_outline",
    }
)


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
    extra_metadata : mapping
        More members of the collection's ``sitewatch`` metadata (a batch's tiles, a run id).
    radar_series : mapping of str to xarray.DataArray
        With ``--sar``: per alert id, the Sentinel-1 backscatter over its outline
        (:func:`sitewatch.core.sar_outline.outline_series`), for the quicklook's radar panel.
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
    extra_metadata: Mapping[str, Any] = field(default_factory=dict)
    radar_series: Mapping[str, xr.DataArray] = field(default_factory=dict, repr=False)

    @classmethod
    def from_geojson(cls, collection: Mapping[str, Any], aoi: AOI) -> ScanResult:
        """The result an alerts collection in the sitewatch schema describes (no rasters).

        Parameters
        ----------
        collection : mapping
            A FeatureCollection with the ``sitewatch`` member (as :meth:`to_geojson` writes).
        aoi : AOI
            The AOI it is about.

        Returns
        -------
        ScanResult
        """
        meta = dict(collection.get("sitewatch") or {})

        def day(key: str) -> dt.date | None:
            value = meta.get(key)
            return dt.date.fromisoformat(str(value)[:10]) if value else None

        return cls(
            aoi=aoi,
            source=str(meta.get("source") or ""),
            start=day("start"),
            end=day("end"),
            alerts=[alert_from_feature(f) for f in collection.get("features") or []],
            scenes_used=list(meta.get("scenes_used") or []),
            scenes_dropped=list(meta.get("scenes_dropped") or []),
            coverage=float(meta.get("coverage") or 0.0),
            messages=list(meta.get("messages") or []),
            simulated=bool(meta.get("simulated", False)),
            extra_metadata={k: v for k, v in meta.items() if k not in _METADATA_KEYS},
        )

    def metadata(self) -> dict[str, Any]:
        """The ``sitewatch`` foreign member of the alerts collection."""
        return {
            "version": __version__,
            "aoi": self.aoi.name,
            # the watched outline travels with the alerts, so exports and briefs can draw it
            "aoi_outline": _rounded_mapping(self.aoi.geometry),
            "source": self.source,
            "simulated": self.simulated,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "coverage": round(self.coverage, 4),
            "messages": list(self.messages),
            "scenes_used": self.scenes_used,
            "scenes_dropped": self.scenes_dropped,
            **self.extra_metadata,
        }

    def to_geojson(self) -> dict[str, Any]:
        """The alerts as an RFC 7946 FeatureCollection (WGS84, right-hand rings)."""
        return feature_collection(
            [alert_feature(a) for a in self.alerts], foreign={"sitewatch": self.metadata()}
        )

    def write(
        self,
        destination: str | Path,
        *,
        quicklooks: bool | str | Path = True,
        reports_dir: str | Path | None = None,
        name: str = "alerts.geojson",
        as_file: bool | None = None,
        quicklook_format: QuicklookFormat = "png",
        timelapse: bool = False,
    ) -> ScanOutputs:
        """Write the alerts collection (and, as asked, quicklooks and report citations): the one edge.

        Parameters
        ----------
        destination : str or pathlib.Path
            A folder (``name`` is written in it) or a ``.geojson``/``.json`` file path.
        quicklooks : bool or path
            True: one PNG per alert under ``quicklooks/`` beside the collection; a path: in
            that folder; False: none. The alerts' ``quicklook`` paths are relative to the
            collection's folder.
        reports_dir : str or pathlib.Path, optional
            Link the claims of the reports in this folder to the alerts
            (:func:`sitewatch.reports.cite_reports`): alerts gain their citations, and
            ``<stem>.claims.json`` and ``<stem>.links.json`` are written beside the collection.
        name : str
            File name of the collection when ``destination`` is a folder.
        as_file : bool, optional
            ``destination`` is the collection's file (True) or a folder (False); by default a
            file when it ends in ``.geojson`` or ``.json``.
        quicklook_format : {"png", "pdf", "svg"}
            Format of the quicklooks.
        timelapse : bool
            Also write a time-lapse GIF per alert beside its quicklook.

        Returns
        -------
        ScanOutputs
        """
        dest = Path(destination)
        if as_file is None:
            as_file = dest.suffix.lower() in (".geojson", ".json")
        path = dest if as_file else dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        result = self
        if quicklooks is not False and self.alerts:
            folder, rel = (
                (path.parent / "quicklooks", path.parent)
                if quicklooks is True
                else (Path(quicklooks), path.resolve().parent)
            )
            result = self.with_quicklooks(
                folder, relative_to=rel, quicklook_format=quicklook_format, timelapse=timelapse
            )
        collection = result.to_geojson()
        links: list[Any] = []
        claims_path = links_path = None
        if reports_dir is not None:
            collection, links, claims_path, links_path = _cite_reports(
                collection, Path(reports_dir), self.aoi, path
            )
            written = write_geojson(
                path, collection["features"], foreign={"sitewatch": collection["sitewatch"]}
            )
        else:
            # from the alerts themselves: the file is exactly ``to_geojson()`` (converted once)
            written = write_geojson(
                path, [alert_feature(a) for a in result.alerts], foreign={"sitewatch": result.metadata()}
            )
        return ScanOutputs(
            geojson=written,
            collection=collection,
            result=result,
            links=links,
            claims_path=claims_path,
            links_path=links_path,
        )

    def with_quicklooks(
        self,
        directory: str | Path,
        *,
        relative_to: str | Path | None = None,
        quicklook_format: QuicklookFormat = "png",
        timelapse: bool = False,
    ) -> ScanResult:
        """Write one quicklook per alert (and its time-lapse), and the site's before/after composites.

        Parameters
        ----------
        directory : str or pathlib.Path
            Folder for the pictures: ``<alert id>.png`` (or ``.pdf``/``.svg``), ``<alert id>.gif``;
            the composites go to ``imagery/`` beside it (``before.png``, ``after.png``,
            ``imagery.json``), for the brief's map layers.
        relative_to : str or pathlib.Path, optional
            The alerts' ``quicklook`` paths are made relative to this folder.
        quicklook_format : {"png", "pdf", "svg"}
        timelapse : bool
            Also write an animated GIF of every clear date around each change.

        Returns
        -------
        ScanResult
            A copy whose alerts carry their quicklook paths.
        """
        if self.stack is None or self.history is None or self.labels is None:
            return self
        site = site_imagery(self)
        if site is None:
            return self
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        write_site_composites(self, site, folder.parent / "imagery")
        new = []
        for alert, label in zip(self.alerts, self.alert_labels, strict=True):
            picture = write_quicklook(
                self, alert, label, folder / f"{alert.id}.{quicklook_format}", site=site
            )
            if timelapse:
                write_alert_timelapse(self, alert, label, site, folder / f"{alert.id}.gif")
            # relpath of both resolved: the folder may be relative, beside or outside the collection's
            rel = (
                os.path.relpath(picture.resolve(), Path(relative_to).resolve())
                if relative_to
                else str(picture)
            )
            new.append(alert.with_quicklook(rel.replace("\\", "/")))
        return replace(self, alerts=new)

    def without_rasters(self) -> ScanResult:
        """A copy without the stack, masks, history and labels (small, to send between processes)."""
        return replace(self, history=None, stack=None, clear=None, labels=None, radar_series={})


def _rounded_mapping(geometry: Any) -> dict[str, Any] | None:
    """GeoJSON of a WGS84 geometry, coordinates to 1e-7 degrees (about 1 cm)."""
    import shapely
    from shapely.geometry import mapping

    if geometry is None or geometry.is_empty:
        return None
    return dict(mapping(shapely.set_precision(geometry, 1e-7)))


@dataclass(frozen=True)
class ScanOutputs:
    """What :meth:`ScanResult.write` wrote.

    Attributes
    ----------
    geojson : pathlib.Path
        The alerts collection.
    collection : dict
        Its content (RFC 7946 FeatureCollection with the ``sitewatch`` member).
    result : ScanResult
        The result written (alerts with their quicklook paths).
    links : list of Link
        Report claims linked to the alerts (with ``reports_dir``).
    claims_path, links_path : pathlib.Path or None
        The claims and links documents beside the collection (with ``reports_dir``).
    """

    geojson: Path
    collection: dict[str, Any]
    result: ScanResult
    links: list[Any] = field(default_factory=list)
    claims_path: Path | None = None
    links_path: Path | None = None


def _cite_reports(
    collection: dict[str, Any], reports_dir: Path, aoi: AOI, out: Path
) -> tuple[dict[str, Any], list[Any], Path, Path]:
    """Link the reports' claims about the AOI to the alerts; write claims and links beside ``out``."""
    from sitewatch.reports import cite_reports, claims_document, links_document
    from sitewatch.runs import atomic_write_json

    cited, claims, links = cite_reports(collection, reports_dir, aois=[aoi])
    claims_path, links_path = (
        out.with_name(f"{out.stem}.claims.json"),
        out.with_name(f"{out.stem}.links.json"),
    )
    atomic_write_json(claims_path, claims_document(claims))
    atomic_write_json(links_path, links_document(links, claims))
    return cited, links, claims_path, links_path


def quicklook_window(
    result: ScanResult, alert: Alert, label: int
) -> tuple[tuple[int, int, int, int], int, int]:
    """Window ``(r0, r1, c0, c1)`` and the before and after dates (indices) of a quicklook.

    "Before" shows the ground before the object's *first* change: the last date clear over
    the window before ``last_unchanged``, or, for a pad built after earthworks, before the
    earthworks were first seen (``evidence.earthworks_first_detected``), so the panel shows
    the field, not the levelled ground. "After" is the second clear date from
    ``first_detected`` on (the end state for an evacuation, whose removals take weeks).

    Returns
    -------
    tuple
        ``((r0, r1, c0, c1), t_before, t_after)``.
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
    first_change = alert.earthworks_first_detected
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


def write_quicklook(
    result: ScanResult,
    alert: Alert,
    label: int,
    path: Path,
    *,
    site: SiteImagery | None = None,
    dpi: int = 200,
) -> Path:
    """Write the print-grade quicklook of ``alert`` (object ``label`` of ``result.labels``); return it.

    The format follows ``path``'s extension (``.png``, ``.pdf``, ``.svg``); ``site`` is the
    result's shared imagery (:func:`sitewatch.pipeline.imagery.site_imagery`), computed when
    not given.
    """
    site = site or site_imagery(result)
    assert site is not None, "a quicklook needs the result's rasters"
    _, t_before, t_after = quicklook_window(result, alert, label)
    return write_alert_quicklook(
        result, alert, label, site, path, t_before=t_before, t_after=t_after, dpi=dpi
    )
