"""The site brief: one self-contained HTML page per run, for the analyst to open.

:func:`write_brief` reads a run directory (see :mod:`sitewatch.runs`) and writes
``brief.html`` into it: per AOI a map (Leaflet, bundled and inlined, so the page works
offline and needs no CDN) with the alerts drawn as polygons coloured by type, a clickable
list of the alerts showing each one's quicklook, dates, measurements, confidence and, with
``--sar``, its Sentinel-1 evidence (:func:`radar_evidence`), and a
timeline (SVG) with the detections and the report claims side by side, with their verdicts.
Quicklooks are embedded as data URIs: the page is one file that can be mailed or archived.

Examples
--------
>>> from sitewatch.brief import write_brief
>>> write_brief("runs/2025-11-30")  # doctest: +SKIP
PosixPath('runs/2025-11-30/brief.html')
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sitewatch.errors import ConfigError, DataError
from sitewatch.runs import atomic_write_text, read_manifest

__all__ = [
    "TYPE_COLOURS",
    "VERDICT_COLOURS",
    "RunView",
    "SiteView",
    "build_brief",
    "radar_evidence",
    "read_run",
    "write_brief",
]

#: Colour of each alert type on maps, lists and timelines (colour-blind safe, Okabe-Ito).
TYPE_COLOURS: dict[str, str] = {
    "new_pad": "#D55E00",
    "runway_change": "#0072B2",
    "evacuation": "#CC79A7",
    "earthworks": "#E69F00",
    "vegetation_loss": "#009E73",
    "other": "#777777",
}
#: Colour of each claim verdict.
VERDICT_COLOURS: dict[str, str] = {
    "supported": "#009E73",
    "partly_supported": "#8FC9A8",
    "contradicted": "#C0392B",
    "not_visible": "#8C8C8C",
    "no_clear_imagery": "#E69F00",
    "not_assessed": "#BBBBBB",
}
_TYPE_LABELS = {
    "new_pad": "new pad",
    "runway_change": "runway change",
    "evacuation": "evacuation",
    "earthworks": "earthworks",
    "vegetation_loss": "vegetation loss",
    "other": "other",
}
_MIME = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".gif": "image/gif",
}
_MAX_QUICKLOOK_BYTES = 5_000_000
#: Status of a site an interrupted run never reached (no outputs at all).
NOT_SCANNED = "not scanned (run interrupted)"


@dataclass(frozen=True)
class SiteView:
    """What the brief shows of one AOI.

    Parameters
    ----------
    name, display_name : str
    geometry : mapping or None
        The AOI outline as GeoJSON (WGS84).
    status : str
        ``ok``, ``up_to_date`` or ``failed``.
    row : mapping
        Its summary row.
    alerts : mapping or None
        Its alerts FeatureCollection.
    links : sequence of mapping
        Verdicts on the report claims about it (with the claims embedded).
    quicklooks : mapping of str to str
        Alert id to a data URI of its quicklook.
    error : str
        Why it failed.
    timelapses : mapping of str to str
        Alert id to a data URI of its time-lapse GIF.
    imagery : mapping
        ``before``/``after`` -> ``{"uri", "bounds" [[south, west], [north, east]], "start", "end"}``:
        the site's true-colour composites for the map (empty when the run has none).
    """

    name: str
    display_name: str
    geometry: Mapping[str, Any] | None
    status: str
    row: Mapping[str, Any]
    alerts: Mapping[str, Any] | None
    links: Sequence[Mapping[str, Any]] = ()
    quicklooks: Mapping[str, str] = field(default_factory=dict)
    error: str = ""
    timelapses: Mapping[str, str] = field(default_factory=dict)
    imagery: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def features(self) -> list[Mapping[str, Any]]:
        """The alert features (empty when none)."""
        return list((self.alerts or {}).get("features") or [])


@dataclass(frozen=True)
class RunView:
    """A run directory read for the brief: its manifest and one :class:`SiteView` per AOI."""

    path: Path
    manifest: Mapping[str, Any]
    sites: tuple[SiteView, ...]

    @property
    def simulated(self) -> bool:
        """True when any alert or collection says it comes from simulated imagery."""
        for site in self.sites:
            meta = (site.alerts or {}).get("sitewatch") or {}
            if meta.get("simulated") or any(
                (f.get("properties") or {}).get("simulated") for f in site.features
            ):
                return True
        return False


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path} cannot be read: {exc}") from None


def _data_uri(path: Path) -> str | None:
    mime = _MIME.get(path.suffix.lower())
    if mime is None or not path.is_file() or path.stat().st_size > _MAX_QUICKLOOK_BYTES:
        return None
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inside(base: Path, rel: str) -> Path | None:
    target = (base / rel).resolve()
    try:
        target.relative_to(base.resolve())
    except ValueError:
        return None  # a quicklook path must never lead the page out of the run
    return target


def _pictures(folder: Path, alerts: Mapping[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    """Data URIs of each alert's quicklook and time-lapse (the GIF beside it), inside ``folder`` only."""
    quicklooks: dict[str, str] = {}
    timelapses: dict[str, str] = {}
    for feat in (alerts or {}).get("features") or []:
        props = feat.get("properties") or {}
        rel = props.get("quicklook")
        target = _inside(folder, str(rel)) if rel else None
        uri = _data_uri(target) if target else None
        if uri:
            quicklooks[str(props.get("id"))] = uri
        gif = _data_uri(target.with_suffix(".gif")) if target else None
        if gif:
            timelapses[str(props.get("id"))] = gif
    return quicklooks, timelapses


def _imagery(folder: Path) -> dict[str, dict[str, Any]]:
    """The site's before/after composites (``imagery/imagery.json`` and its PNGs) for the map."""
    doc = _read_json(folder / "imagery" / "imagery.json") or {}
    out = {}
    for name, layer in (doc.get("layers") or {}).items():
        target = _inside(folder / "imagery", str(layer.get("file") or ""))
        uri = _data_uri(target) if target else None
        if uri and layer.get("bounds"):
            out[str(name)] = {
                "uri": uri,
                "bounds": layer["bounds"],
                "start": layer.get("start"),
                "end": layer.get("end"),
            }
    return out


def _scan_folder(path: Path) -> RunView:
    """A single scan's output folder (``alerts.geojson`` and what ``ScanResult.write`` put beside it)."""
    alerts = _read_json(path / "alerts.geojson") or {}
    meta = alerts.get("sitewatch") or {}
    name = str(meta.get("aoi") or path.name)
    links_doc = _read_json(path / "alerts.links.json") or {}
    quicklooks, timelapses = _pictures(path, alerts)
    manifest = {
        "run_id": path.name,
        "status": "complete",
        "settings": {"start": meta.get("start"), "end": meta.get("end"), "source": meta.get("source")},
        "versions": {"sitewatch": meta.get("version")},
        "aois": [{"name": name, "display_name": name, "geometry": meta.get("aoi_outline")}],
    }
    site = SiteView(
        name=name,
        display_name=name,
        geometry=meta.get("aoi_outline"),
        status="ok",
        row={"scenes_used": len(meta.get("scenes_used") or []), "alerts": len(alerts.get("features") or [])},
        alerts=alerts,
        links=tuple(links_doc.get("links") or ()),
        quicklooks=quicklooks,
        timelapses=timelapses,
        imagery=_imagery(path),
    )
    return RunView(path, manifest, (site,))


def read_run(run_dir: str | os.PathLike[str]) -> RunView:
    """Read a run directory (or a single scan's output folder) into what the brief shows.

    Parameters
    ----------
    run_dir : path-like
        A directory written by :func:`sitewatch.batch.scan_all`, or a folder holding the
        ``alerts.geojson`` a single scan wrote (as ``sitewatch demo`` does).

    Returns
    -------
    RunView

    Raises
    ------
    ConfigError
        If it is not a run directory.
    DataError
        If one of its files is corrupt.
    """
    path = Path(run_dir)
    if not path.is_dir():
        raise ConfigError(f"run directory {path} does not exist")
    if not (path / "manifest.json").exists() and (path / "alerts.geojson").is_file():
        return _scan_folder(path)
    manifest = read_manifest(path)
    rows = {r["aoi"]: r for r in (_read_json(path / "summary.json") or []) if isinstance(r, Mapping)}
    sites = []
    for rec in manifest.get("aois") or []:
        name = str(rec["name"])
        folder = path / "aois" / name
        alerts = _read_json(folder / "alerts.geojson")
        links_doc = _read_json(folder / "links.json") or {}
        quicklooks, timelapses = _pictures(folder, alerts)
        error = ""
        if (folder / "error.txt").is_file():
            error = (
                rows.get(name, {}).get("error") or (folder / "error.txt").read_text(encoding="utf-8")[-400:]
            )
        sites.append(
            SiteView(
                name=name,
                display_name=str(rec.get("display_name") or name),
                geometry=rec.get("geometry"),
                status=_site_status(rows.get(name, {}), error=error, scanned=alerts is not None),
                row=rows.get(name, {}),
                alerts=alerts,
                links=tuple(links_doc.get("links") or ()),
                quicklooks=quicklooks,
                error=error,
                timelapses=timelapses,
                imagery=_imagery(folder),
            )
        )
    return RunView(path, manifest, tuple(sites))


def _site_status(row: Mapping[str, Any], *, error: str, scanned: bool) -> str:
    """A site's status; a site of an interrupted run with no output at all was never scanned."""
    if row.get("status"):
        return str(row["status"])
    if error:
        return "failed"
    return "ok" if scanned else NOT_SCANNED


def _run_state(manifest: Mapping[str, Any]) -> str:
    """``run complete, finished 2025-...`` or, for a run killed or stopped, ``run interrupted``."""
    if manifest.get("finished") and manifest.get("status") not in ("running", "aborted"):
        return f"run {manifest.get('status')}, finished {manifest.get('finished')}"
    return "run interrupted (not finished; scan --all on the same --out-dir resumes it)"


# ---------------------------------------------------------------------------------------------
# timeline


def _day(value: Any) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


_Row = tuple[str, "dt.date | None", dt.date, str, str]


def _claim_when(when: Mapping[str, Any], a: dt.date | None, b: dt.date | None) -> str:
    text = str(when.get("text") or "").strip()
    if text:
        return text
    if a and b and a != b:
        return f"{a.isoformat()} to {b.isoformat()}"
    day = a or b
    return day.isoformat() if day else "undated"


def _timeline_rows(site: SiteView) -> tuple[list[_Row], list[_Row]]:
    """The timeline's rows: alerts ("new pad, 2025-03-05"), then claims ("construction claim, ISWNews, 2025").

    Claims that say the same thing (event, publisher, interval, verdict) are one row with a count.
    """
    alerts: list[_Row] = []
    for feat in site.features:
        p = feat.get("properties") or {}
        first = _day(p.get("first_detected"))
        if first is None:
            continue
        kind = str(p.get("change_type") or "other")
        colour = TYPE_COLOURS.get(kind, TYPE_COLOURS["other"])
        label = f"{_TYPE_LABELS.get(kind, kind)}, {first.isoformat()}"
        alerts.append((label, _day(p.get("last_unchanged")), first, colour, "alert"))
    grouped: dict[tuple[str, dt.date | None, dt.date, str], int] = {}
    for link in site.links:
        claim = link.get("claim") or {}
        when = claim.get("when") or link.get("interval") or {}
        a, b = _day(when.get("start")), _day(when.get("end"))
        if a is None and b is None:
            continue
        src = claim.get("source") or {}
        publisher = src.get("publisher") or Path(str(src.get("file") or "")).stem or "report"
        label = f"{link.get('event')} claim, {publisher}, {_claim_when(when, a, b)}"
        end_day = b or a
        assert end_day is not None
        key = (label, a or b, end_day, VERDICT_COLOURS.get(str(link.get("verdict")), "#BBBBBB"))
        grouped[key] = grouped.get(key, 0) + 1
    claims: list[_Row] = [
        (f"{label} (x{n})" if n > 1 else label, a, b, colour, "claim")
        for (label, a, b, colour), n in grouped.items()
    ]
    return alerts, claims


def timeline_svg(
    site: SiteView, *, start: dt.date | None = None, end: dt.date | None = None, width_in: float = 9.0
) -> str:
    """Draw one site's timeline as SVG text: scenes, detections and report claims with verdicts.

    Detections are drawn as their change window (from the last scene showing no change to
    the first showing it) in the colour of their type; claims as the interval the report
    gives, in the colour of their verdict, so agreement and contradiction read side by side.
    The axis spans the imagery (the scenes); a claim outside it is an arrow at the edge
    with its date. Rows read "new pad, 2025-03-05" and "construction claim, ISWNews, early 2025".

    Parameters
    ----------
    site : SiteView
    start, end : datetime.date, optional
        The time axis (default: the scenes' period).
    width_in : float
        Figure width in inches.

    Returns
    -------
    str
        An ``<svg>`` element (no XML prolog) ready to inline in HTML.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    meta = (site.alerts or {}).get("sitewatch") or {}
    scenes = [d for d in (_day(s.get("date")) for s in meta.get("scenes_used") or []) if d]
    dropped = [
        d
        for d in (
            _day(s.get("date") if isinstance(s, Mapping) else None) for s in meta.get("scenes_dropped") or []
        )
        if d
    ]
    alert_rows, claim_rows = _timeline_rows(site)
    rows = alert_rows + claim_rows
    # the axis spans the imagery: a claim years away must not squeeze the months we observed
    seen = scenes + dropped
    lo = start or (min(seen) if seen else None)
    hi = end or (max(seen) if seen else None)
    if lo is None or hi is None:
        dates = [d for r in rows for d in r[1:3] if d]
        lo = lo or (min(dates) if dates else dt.date.today())
        hi = hi or (max(dates) if dates else lo + dt.timedelta(days=30))
    if alert_rows:
        lo = min(lo, *(r[1] or r[2] for r in alert_rows))
        hi = max(hi, *(r[2] for r in alert_rows))
    if hi <= lo:
        hi = lo + dt.timedelta(days=1)
    pad = dt.timedelta(days=max(1, (hi - lo).days // 40))

    with plt.rc_context({"svg.fonttype": "none", "font.size": 8, "svg.hashsalt": site.name}):
        fig, ax = plt.subplots(figsize=(width_in, 0.9 + 0.28 * (len(rows) + 1)))
        try:
            ax.vlines(mdates.date2num(scenes), -0.35, 0.35, color="#444444", lw=0.8)
            ax.vlines(mdates.date2num(dropped), -0.2, 0.2, color="#BBBBBB", lw=0.8)
            labels = ["scenes"]
            x_lo, x_hi = mdates.date2num(lo - pad), mdates.date2num(hi + pad)
            for i, (label, a, b, colour, kind) in enumerate(rows, start=1):
                a = a or b
                if b < lo or a > hi:
                    # outside the imagery: an arrow at the edge, with the claim's date
                    left = b < lo
                    x = x_lo + (x_hi - x_lo) * (0.012 if left else 0.988)
                    ax.plot([x], [i], marker="<" if left else ">", color=colour, ms=7)
                    ax.annotate(
                        f"{a.isoformat()}" + (f" to {b.isoformat()}" if b != a else ""),
                        (x, i),
                        xytext=(8 if left else -8, 0),
                        textcoords="offset points",
                        ha="left" if left else "right",
                        va="center",
                        fontsize=7,
                        color="#444444",
                    )
                else:
                    a_in, b_in = max(a, lo - pad), min(b, hi + pad)
                    ax.plot(
                        mdates.date2num([a_in, b_in]),
                        [i, i],
                        color=colour,
                        lw=5 if kind == "alert" else 3,
                        solid_capstyle="butt",
                        alpha=0.85,
                    )
                    marker = "o" if kind == "alert" else "D"
                    ax.plot(mdates.date2num([b_in]), [i], marker=marker, color=colour, ms=5)
                labels.append(label)
            ax.set_yticks(range(len(labels)), labels)
            ax.set_ylim(len(labels) - 0.5, -0.6)
            ax.set_xlim(float(x_lo), float(x_hi))
            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.grid(axis="x", color="#EEEEEE")
            for spine in ("top", "right", "left"):
                ax.spines[spine].set_visible(False)
            ax.tick_params(axis="y", length=0)
            fig.tight_layout()
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


# ---------------------------------------------------------------------------------------------
# the page


def _static(*parts: str) -> str:
    node = resources.files("sitewatch").joinpath("static")
    for part in parts:
        node = node.joinpath(part)
    return node.read_text(encoding="utf-8")


def _leaflet_css() -> str:
    css = _static("leaflet", "leaflet.css")
    images = resources.files("sitewatch").joinpath("static").joinpath("leaflet").joinpath("images")

    def inline(match: re.Match[str]) -> str:
        data = images.joinpath(match.group(1)).read_bytes()
        return f"url(data:image/png;base64,{base64.b64encode(data).decode('ascii')})"

    # Leaflet's CSS points at images/*.png beside it; inlined, the page needs no other file.
    return re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)


def _leaflet_js() -> str:
    js = _static("leaflet", "leaflet.js")
    return re.sub(r"//# sourceMappingURL=\S+\s*$", "", js)


def _script_json(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, default=str)
    # Inside <script>, "</" could end the element early; report quotes are untrusted text.
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _fmt(value: Any, unit: str = "", digits: int = 0) -> str:
    if value is None or value == "":
        return "–"
    try:
        return f"{float(value):,.{digits}f}{unit}"
    except (TypeError, ValueError):
        return _e(value)


_SUMMARY_KEYS = ("scenes_used", "scenes_dropped", "alerts", "new", "updated", "claims")


def _summary_table(view: RunView) -> str:
    head = ("site", "status", "scenes", "dropped", "alerts", "new", "updated", "claims", "time")
    out = ["<table class='summary'><thead><tr>", *[f"<th>{h}</th>" for h in head], "</tr></thead><tbody>"]
    for s in view.sites:
        r = s.row
        out.append(
            f"<tr class='st-{_e(s.status)}'><td><a href='#site-{_e(s.name)}'>{_e(s.display_name)}</a></td>"
            f"<td>{_e(s.status)}</td>"
            + "".join(f"<td>{_e(r.get(k, ''))}</td>" for k in _SUMMARY_KEYS)
            + f"<td>{_fmt(r.get('seconds'), ' s', 1)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def radar_evidence(props: Mapping[str, Any]) -> str:
    """One line of an alert's Sentinel-1 evidence (``corroboration.sar``), or ``""`` without radar.

    The verdict, per polarisation the direction, the change (dB) and the Welch t over the
    outline, the radar acquisitions either side of the event and the orbits that saw it.

    Examples
    --------
    >>> radar_evidence({"corroboration": {"sar": {"verdict": "consistent", "direction_vv": "darker",
    ...     "t_vv": -8.1, "delta_vv_db": -4.2, "radar_before": "2024-07-14", "radar_after": "2024-07-26",
    ...     "orbits": ["A021"]}}})
    'consistent: VV darker -4.2 dB (t -8.1); radar 2024-07-14 → 2024-07-26; orbits A021'
    """
    sar = (props.get("corroboration") or {}).get("sar")
    if not isinstance(sar, Mapping):
        return ""
    parts = []
    for pol in ("vv", "vh"):
        if f"direction_{pol}" not in sar:
            continue
        delta, t = sar.get(f"delta_{pol}_db"), sar.get(f"t_{pol}")
        size = f" {float(delta):+.1f} dB" if delta is not None else ""
        stat = f" (t {float(t):+.1f})" if t is not None else ""
        parts.append(f"{pol.upper()} {sar.get(f'direction_{pol}')}{size}{stat}")
    text = str(sar.get("verdict", "?")).replace("_", " ")
    if parts:
        text += ": " + ", ".join(parts)
    if sar.get("radar_before") or sar.get("radar_after"):
        text += f"; radar {sar.get('radar_before') or '?'} → {sar.get('radar_after') or '?'}"
    if sar.get("orbits"):
        text += "; orbits " + ", ".join(str(o) for o in sar["orbits"])
    return text


def _alert_item(site: SiteView, feat: Mapping[str, Any]) -> str:
    p = feat.get("properties") or {}
    kind = str(p.get("change_type") or "other")
    colour = TYPE_COLOURS.get(kind, TYPE_COLOURS["other"])
    conf = p.get("confidence")
    mark = p.get("since_last")
    badge = f"<span class='badge b-{_e(mark)}'>{_e(mark)}</span>" if mark in ("new", "updated") else ""
    radar = radar_evidence(p)
    if radar:
        rule = ((p.get("corroboration") or {}).get("sar") or {}).get("rule")
        only = "Sentinel-1 only · " if p.get("source") == "sar" else ""
        radar = f"<span class='radar' title='{_e(rule)}'>{only}radar {_e(radar)}</span>"
    return (
        f"<li class='alert' tabindex='0' role='button' data-aoi='{_e(site.name)}' "
        f"data-alert='{_e(p.get('id'))}'>"
        f"<span class='swatch' style='background:{colour}'></span>"
        f"<b>{_e(_TYPE_LABELS.get(kind, kind))}</b> {badge}"
        f"<span class='when'>{_e(p.get('last_unchanged') or '?')} → {_e(p.get('first_detected'))}</span>"
        f"<span class='meas'>{_fmt(p.get('area_m2'), ' m²')} · {_fmt(p.get('length_m'), ' m')} × "
        f"{_fmt(p.get('width_m'), ' m')} · conf {_fmt(conf, '', 2)} · {_e(p.get('status'))}</span>"
        f"{radar}</li>"
    )


def _source_link(where: Any) -> str:
    text = str(where or "")
    if re.match(r"https?://", text):
        # A link the reader may follow; rel=noreferrer so the page never tells the source who read it.
        return f"<a href='{_e(text)}' rel='noreferrer noopener' target='_blank'>{_e(text)}</a>"
    return _e(text)


def _source_text(source: Any) -> str:
    if isinstance(source, Mapping):
        return "per site (" + ", ".join(f"{k}: {v}" for k, v in source.items()) + ")"
    return str(source or "")


def _parts(link: Mapping[str, Any]) -> str:
    """What of the claim fits, what stays unverified, what is contradicted (the verdict's parts)."""
    rows = []
    for status in ("fits", "unverified", "contradicted"):
        items = (link.get("parts") or {}).get(status) or []
        if items:
            what = "; ".join(f"{p.get('part')} {p.get('claimed')}: {p.get('seen')}" for p in items)
            rows.append(f"<br><small><b>{_e(status)}</b>: {_e(what)}</small>")
    return "".join(rows)


def _claims_table(site: SiteView) -> str:
    if not site.links:
        return ""
    out = [
        "<table class='claims'><thead><tr><th>verdict</th><th>claim</th><th>when</th><th>source</th>"
        "<th>why</th></tr></thead><tbody>"
    ]
    for link in site.links:
        claim = link.get("claim") or {}
        when = claim.get("when") or {}
        src = claim.get("source") or {}
        verdict = str(link.get("verdict"))
        flags = " (denied)" if link.get("negated") else (" (hedged)" if link.get("hedged") else "")
        where = src.get("url") or src.get("file") or ""
        out.append(
            f"<tr><td><span class='verdict' style='background:{VERDICT_COLOURS.get(verdict, '#BBB')}'>"
            f"{_e(verdict.replace('_', ' '))}</span>"
            f"{'<br><small>' + _e(link.get('strength')) + '</small>' if link.get('strength') else ''}</td>"
            f"<td><b>{_e(link.get('event'))}</b>{_e(flags)}: “{_e(claim.get('quote'))}”</td>"
            f"<td>{_e(when.get('start') or '?')} – {_e(when.get('end') or '?')}</td>"
            f"<td>{_e(src.get('publisher') or '')} {_e(src.get('published') or '')}<br>"
            f"<small>{_source_link(where)}</small></td><td>{_e(link.get('reason'))}{_parts(link)}</td></tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _site_section(site: SiteView, start: dt.date | None, end: dt.date | None) -> str:
    parts = [
        f"<section class='site' id='site-{_e(site.name)}' data-aoi='{_e(site.name)}'>",
        f"<h2>{_e(site.display_name)} <small>{_e(site.name)} · {_e(site.status)}</small></h2>",
    ]
    if site.status == "failed":
        parts.append(f"<p class='error'>This site failed: {_e(site.error.strip())}</p>")
    elif site.status == "up_to_date":
        parts.append("<p class='note'>No new scene since the previous run.</p>")
    elif site.status == NOT_SCANNED:
        parts.append("<p class='note'>Not scanned (run interrupted).</p>")
    feats = site.features
    parts.append("<div class='row'>")
    parts.append(
        f"<div class='map' id='map-{_e(site.name)}' role='region' "
        f"aria-label='map of {_e(site.display_name)}'></div>"
    )
    parts.append("<div class='side'>")
    if feats:
        parts.append(f"<ul class='alerts' id='alerts-{_e(site.name)}'>")
        parts += [_alert_item(site, f) for f in feats]
        parts.append("</ul>")
    elif site.status != NOT_SCANNED:
        parts.append("<p class='note'>No alert.</p>")
    parts.append(f"<div class='detail' id='detail-{_e(site.name)}' hidden></div></div></div>")
    if feats or site.links:
        parts.append("<h3>Timeline: detections and report claims</h3><div class='timeline'>")
        parts.append(timeline_svg(site, start=start, end=end))
        parts.append("</div>")
    if site.links:
        parts.append("<h3>What the reports claim, and what the imagery says</h3>")
        parts.append(_claims_table(site))
    parts.append("</section>")
    return "".join(parts)


def build_brief(
    run_dir: str | os.PathLike[str] | RunView,
    *,
    tiles: str | None = None,
    tiles_attribution: str = "",
) -> str:
    """Return the brief of a run as one self-contained HTML document.

    Parameters
    ----------
    run_dir : path-like or RunView
        The run directory (or what :func:`read_run` made of it).
    tiles : str, optional
        A tile URL template (``https://.../{z}/{y}/{x}``) offered as an optional background
        layer for when the page is online; off by default, so the page makes no request.
    tiles_attribution : str
        Credit shown for the tiles.

    Returns
    -------
    str
    """
    view = run_dir if isinstance(run_dir, RunView) else read_run(run_dir)
    m = view.manifest
    settings = m.get("settings") or {}
    start, end = _day(settings.get("start")), _day(settings.get("end"))
    data = {
        "colours": TYPE_COLOURS,
        "tiles": tiles,
        "tilesAttribution": tiles_attribution,
        "sites": {
            s.name: {
                "aoi": s.geometry,
                "features": s.features,
                "quicklooks": dict(s.quicklooks),
                "radar": {
                    str((f.get("properties") or {}).get("id")): text
                    for f in s.features
                    if (text := radar_evidence(f.get("properties") or {}))
                },
                "timelapses": dict(s.timelapses),
                "imagery": {k: dict(v) for k, v in s.imagery.items()},
                "simulated": view.simulated,
            }
            for s in view.sites
        },
    }
    legend = "".join(
        f"<span><span class='swatch' style='background:{c}'></span> {_e(_TYPE_LABELS[k])}</span>"
        for k, c in TYPE_COLOURS.items()
    ) + "".join(
        f"<span><span class='verdict' style='background:{c}'>{_e(k.replace('_', ' '))}</span></span>"
        for k, c in VERDICT_COLOURS.items()
    )
    n_alerts = sum(len(s.features) for s in view.sites)
    failed = [s.display_name for s in view.sites if s.status == "failed"]
    title = f"sitewatch brief: {m.get('run_id', view.path.name)}"
    body = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{_e(title)}</title><style>{_leaflet_css()}</style><style>{_static('brief.css')}</style></head><body>",
        f"<header><h1>{_e(title)}</h1><p>{len(view.sites)} sites · {n_alerts} alerts · "
        f"{_e(settings.get('start'))} to {_e(settings.get('end'))} · "
        f"source {_e(_source_text(settings.get('source')))} · "
        f"{_e(_run_state(m))} · sitewatch "
        f"{_e((m.get('versions') or {}).get('sitewatch'))}</p></header>",
    ]
    if view.simulated:
        body.append(
            "<div class='sim'>SIMULATED IMAGERY: these alerts come from the sitewatch simulator, "
            "not from real observations.</div>"
        )
    body.append("<main>")
    if failed:
        body.append(f"<p class='error'>Failed sites: {_e(', '.join(failed))}</p>")
    body.append(f"<div class='legend'>{legend}</div>")
    body.append(_summary_table(view))
    body += [_site_section(s, start, end) for s in view.sites]
    body.append("</main>")
    body.append(
        "<div id='lightbox' class='lightbox' hidden role='dialog' aria-modal='true' "
        "aria-label='alert pictures'>"
        "<button type='button' class='close' aria-label='close'>×</button><div class='content'></div></div>"
    )
    body.append(f"<script id='sitewatch-data' type='application/json'>{_script_json(data)}</script>")
    body.append(f"<script>{_leaflet_js()}</script><script>{_static('brief.js')}</script></body></html>")
    return "\n".join(body)


def write_brief(
    run_dir: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    tiles: str | None = None,
    tiles_attribution: str = "",
) -> Path:
    """Write the brief of a run (``brief.html`` in the run directory unless ``out`` says otherwise).

    Parameters
    ----------
    run_dir : path-like
        A directory written by :func:`sitewatch.batch.scan_all`.
    out : path-like, optional
        Where to write the page.
    tiles, tiles_attribution : str, optional
        See :func:`build_brief`.

    Returns
    -------
    pathlib.Path
        The page.

    Raises
    ------
    ConfigError
        If ``run_dir`` is not a run directory.
    RunError
        If the page cannot be written.

    Examples
    --------
    >>> write_brief("runs/2025-11-30")  # doctest: +SKIP
    """
    page = build_brief(run_dir, tiles=tiles, tiles_attribution=tiles_attribution)
    target = Path(out) if out is not None else Path(run_dir) / "brief.html"
    return atomic_write_text(target, page)
