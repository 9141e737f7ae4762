"""KML and KMZ export (simplekml) for Google Earth Pro.

One folder per site holding its AOI outline and one placemark per alert: the outline and a
point at its centre (so a 60 m pad can be found from a regional view), styled by type, with
a ``TimeSpan`` from ``last_unchanged`` to ``first_detected`` so the time slider brackets the
change, and a balloon with the dates, the measurements, the confidence and its parts, the
reasons and the quicklook (embedded in the KMZ under ``files/``; referenced by a relative path
from a plain KML). Colours are the brief's (:data:`sitewatch.brief.TYPE_COLOURS`).
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import zipfile
from pathlib import Path
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from sitewatch.alerts import Alert
from sitewatch.brief import TYPE_COLOURS
from sitewatch.errors import ConfigError
from sitewatch.exports.source import AlertsSource, replace_from_temp
from sitewatch.exports.table import alert_record, timelapse_path
from sitewatch.plots import imagery_credit

__all__ = ["kml_colour", "conform_kml", "write_kml"]

_TYPE_LABELS = {
    "new_pad": "new pad",
    "runway_change": "runway change",
    "evacuation": "evacuation",
    "earthworks": "earthworks",
    "other": "other change",
}


def kml_colour(hex_rgb: str, alpha: int = 255) -> str:
    """A ``#RRGGBB`` colour as KML's ``aabbggrr``.

    Examples
    --------
    >>> kml_colour("#D55E00", 128)
    '80005ed5'
    """
    h = hex_rgb.lstrip("#").lower()
    return f"{alpha:02x}{h[4:6]}{h[2:4]}{h[0:2]}"


def _simplekml() -> Any:
    try:
        import simplekml
    except ImportError:
        raise ConfigError("KML/KMZ export needs simplekml: pip install simplekml") from None
    return simplekml


def _styles(simplekml: Any) -> dict[str, Any]:
    styles = {}
    for kind, colour in TYPE_COLOURS.items():
        style = simplekml.Style()
        style.polystyle.color = kml_colour(colour, 90)
        style.linestyle.color = kml_colour(colour)
        style.linestyle.width = 2.5
        style.iconstyle.color = kml_colour(colour)
        style.iconstyle.scale = 0.9
        style.iconstyle.icon.href = "http://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
        style.labelstyle.scale = 0.8
        styles[kind] = style
    return styles


def _rings(poly: BaseGeometry) -> tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]:
    outer = [(round(x, 7), round(y, 7)) for x, y, *_ in poly.exterior.coords]
    inner = [[(round(x, 7), round(y, 7)) for x, y, *_ in r.coords] for r in poly.interiors]
    return outer, inner


def _row(label: str, value: Any) -> str:
    return f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(str(value))}</td></tr>"


def _size(a: Alert) -> str:
    text = f"{a.length_m:,.0f} m x {a.width_m:,.0f} m, {a.area_m2:,.0f} m²"
    if a.added_length_m:
        text += f" (+{a.added_length_m:,.0f} m)"
    if a.fraction_affected is not None:
        text += f", {a.fraction_affected:.0%} of the facility"
    return text


def _balloon(a: Alert, source: AlertsSource, images: list[str]) -> str:
    rec = alert_record(a, source)
    parts = ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in a.confidence_parts.items())
    kind = _TYPE_LABELS.get(a.change_type, a.change_type) + (f" ({a.detail})" if a.detail else "")
    rows = [
        _row("type", kind),
        _row("status", a.status),
        _row("last unchanged", a.last_unchanged or "?"),
        _row("first detected", a.first_detected or "?"),
    ]
    if a.earthworks_first_detected:
        rows.append(_row("earthworks first seen", a.earthworks_first_detected))
    rows += [
        _row("size", _size(a)),
        _row("orientation", f"{a.orientation_deg:.0f}° from north"),
        _row("confidence", f"{a.confidence:.2f} ({parts})"),
        _row("centre", f"{rec['lat']:.5f}, {rec['lon']:.5f}" if rec["lat"] is not None else "?"),
        _row("site", rec["site"]),
        _row("id", a.id),
    ]
    reasons = "".join(f"<li>{html.escape(str(r))}</li>" for r in a.evidence.get("reasons") or [])
    pics = "".join(f"<p><img src='{html.escape(src)}' width='640'></p>" for src in images)
    sim = "<p><b style='color:#b00'>SIMULATED imagery</b></p>" if a.simulated else ""
    year = str(a.first_detected.year) if a.first_detected else ""
    credit = f"<p><small>{html.escape(imagery_credit(year, simulated=a.simulated))}</small></p>"
    body = (
        f"{sim}<table>{''.join(rows)}</table>"
        f"{'<p><b>Why</b></p><ul>' + reasons + '</ul>' if reasons else ''}{pics}{credit}"
    )
    return f"<![CDATA[{body}]]>"


def _images(a: Alert, source: AlertsSource, kml: Any, out: Path, kmz: bool) -> list[str]:
    """The quicklook (and time-lapse) of an alert as the balloon refers to them."""
    found = [p for p in (source.file(a.quicklook), source.file(timelapse_path(a, source))) if p is not None]
    if kmz:
        return [kml.addfile(str(p)) for p in found]
    return [Path(os.path.relpath(p, out.resolve().parent)).as_posix() for p in found]


def _placemark(folder: Any, a: Alert, style: Any, balloon: str) -> None:
    geom = a.geometry
    label = f"{_TYPE_LABELS.get(a.change_type, a.change_type)}, {a.first_detected}"
    multi = folder.newmultigeometry(name=label)
    if geom is not None and not geom.is_empty:
        polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
        for poly in polys:
            outer, inner = _rings(poly)
            multi.newpolygon(outerboundaryis=outer, innerboundaryis=inner)
        c = geom.representative_point()
        multi.newpoint(coords=[(round(c.x, 7), round(c.y, 7))])
    multi.style = style
    multi.description = balloon
    if a.last_unchanged or a.first_detected:
        begin = a.last_unchanged or a.first_detected
        multi.timespan.begin = begin.isoformat() if isinstance(begin, dt.date) else None
        multi.timespan.end = a.first_detected.isoformat() if a.first_detected else None
    for key in ("id", "change_type", "status", "confidence", "area_m2", "length_m", "width_m"):
        multi.extendeddata.newdata(name=key, value=str(getattr(a, key)))


def write_kml(source: AlertsSource, out: str | os.PathLike[str], *, kmz: bool = True) -> Path:
    """Write the alerts for Google Earth: a KMZ (quicklooks inside) or a plain KML.

    Parameters
    ----------
    source : AlertsSource
    out : path-like
        Written atomically.
    kmz : bool
        A zipped KMZ with the images under ``files/`` (True), or a KML whose balloons refer to
        the images by relative path (False).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ConfigError
        If simplekml is not installed.
    """
    simplekml = _simplekml()
    target = Path(out)
    title = "sitewatch alerts" + (" (SIMULATED)" if source.simulated else "")
    kml = simplekml.Kml(name=title)
    styles = _styles(simplekml)
    aoi_style = simplekml.Style()
    aoi_style.linestyle.color = kml_colour("#FFFFFF")
    aoi_style.linestyle.width = 1.5
    aoi_style.polystyle.fill = 0
    names = sorted({a.aoi for a in source.alerts} | set(source.aois))
    for name in names:
        folder = kml.newfolder(name=source.display_name(name))
        geometry = (source.aois.get(name) or {}).get("geometry")
        if geometry:
            aoi_geom = shape(geometry)
            polys = list(aoi_geom.geoms) if aoi_geom.geom_type == "MultiPolygon" else [aoi_geom]
            for poly in polys:
                outer, inner = _rings(poly)
                pol = folder.newpolygon(name=f"{source.display_name(name)} (watched area)")
                pol.outerboundaryis, pol.innerboundaryis = outer, inner
                pol.style = aoi_style
        for a in (x for x in source.alerts if x.aoi == name):
            balloon = _balloon(a, source, _images(a, source, kml, target, kmz))
            _placemark(folder, a, styles.get(a.change_type, styles["other"]), balloon)
    text = conform_kml(kml.kml(format=False))
    if not kmz:
        return replace_from_temp(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    files = {f"files/{Path(p).name}": Path(p) for p in kml._images}

    def write_zip(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("doc.kml", text)  # first entry: what Google Earth opens
            for arcname, path in files.items():
                zf.write(path, arcname)

    return replace_from_temp(target, write_zip)


#: The order OGC KML 2.2 gives a Feature's own elements (simplekml writes styles first);
#: children not listed (geometries, sub-features, Schema) keep their order after these.
_FEATURE_ORDER = (
    "name",
    "visibility",
    "open",
    "author",
    "link",
    "address",
    "AddressDetails",
    "phoneNumber",
    "Snippet",
    "description",
    "LookAt",
    "Camera",
    "TimeStamp",
    "TimeSpan",
    "styleUrl",
    "Style",
    "StyleMap",
    "Region",
    "Metadata",
    "ExtendedData",
)
_FEATURES = {
    "Document",
    "Folder",
    "Placemark",
    "NetworkLink",
    "GroundOverlay",
    "ScreenOverlay",
    "PhotoOverlay",
}


def conform_kml(kml_text: str) -> str:
    """Make simplekml's output valid OGC KML 2.2: XML ids, and a Feature's elements in schema order.

    simplekml numbers its ids (an XML ID cannot start with a digit) and writes a folder's
    styles before its name; strict readers and the schema refuse both. References
    (``styleUrl`` ``#123``) are renamed with their ids.
    """
    from lxml import etree

    root = etree.fromstring(kml_text.encode("utf-8"))
    renamed: dict[str, str] = {}
    for el in root.iter():
        old = el.get("id")
        if old is not None and not re.match(r"^[A-Za-z_]", old):
            renamed[old] = f"k{old}"
            el.set("id", renamed[old])
    for el in root.iter("{http://www.opengis.net/kml/2.2}styleUrl"):
        ref = (el.text or "").strip()
        if ref.startswith("#") and ref[1:] in renamed:
            el.text = "#" + renamed[ref[1:]]
    rank = {name: i for i, name in enumerate(_FEATURE_ORDER)}
    for el in root.iter():
        if not isinstance(el.tag, str) or etree.QName(el).localname not in _FEATURES:
            continue
        children = list(el)
        children.sort(
            key=lambda c: (
                rank.get(etree.QName(c).localname, len(rank)) if isinstance(c.tag, str) else len(rank)
            )
        )
        el[:] = children
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True).decode("utf-8")
