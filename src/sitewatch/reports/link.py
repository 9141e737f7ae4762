"""Claims meet detections: which statements the imagery supports, contradicts, or cannot judge.

For each claim at a watched AOI the alerts of that AOI are searched for ones whose
change window ``[last_unchanged, first_detected]`` overlaps the claimed interval
(with a tolerance) and whose type fits the event (construction -> ``new_pad``,
``runway_change``, ``earthworks``; withdrawal -> ``evacuation``). Claimed sizes are
compared with measured ones. The verdict:

``supported``
    fitting alerts exist (listed with how well dates, type and size fit);
``contradicted``
    no fitting alert, though clear scenes before and after the claimed interval would
    show a change of that type and size at 10 m (or, for a denial, a fitting alert exists);
``not_visible``
    the event leaves no mark at 10 m (convoys, landings, troop numbers), or the claimed
    object is smaller than a few pixels;
``no_clear_imagery``
    too few clear scenes before or after the interval to say either way;
``not_assessed``
    the place is unknown, not covered by the alerts given, or the claim names no event.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sitewatch.errors import DataError, ReportError
from sitewatch.reports.extract import CLAIMS_VERSION, EVENTS, Claim
from sitewatch.types import as_date

__all__ = [
    "CLAIMS_SCHEMA",
    "EVENT_CHANGE_TYPES",
    "Link",
    "Verdict",
    "attach_links",
    "link_claims",
    "links_document",
    "load_alerts",
    "load_claims",
]

Verdict = Literal["supported", "contradicted", "not_visible", "no_clear_imagery", "not_assessed"]

#: Which alert types can show each event.
EVENT_CHANGE_TYPES: dict[str, tuple[str, ...]] = {
    "construction": ("new_pad", "runway_change", "earthworks"),
    "withdrawal": ("evacuation",),
    "attack": ("other", "earthworks"),
}
_NOT_VISIBLE_WHY = {
    "arrival": (
        "convoys, deliveries and reinforcements are vehicles that come and go within hours; a 10 m pixel "
        "and a 5-day revisit do not record them as a lasting change"
    ),
    "air_activity": (
        "a landing aircraft or a helicopter stays for hours at most and is a few pixels across at 10 m; "
        "it leaves no lasting change for Sentinel-2 to detect"
    ),
    "presence": (
        "troop numbers and the presence of forces are not changes of the ground; imagery at 10 m cannot "
        "count people"
    ),
    "attack": (
        "strike damage is usually smaller than a 10 m pixel; no fitting alert was found, and its absence "
        "says little"
    ),
}
_RUNWAY_WORDS = ("runway", "airstrip", "taxiway", "apron")

_QUANTITY_SCHEMA = {
    "type": "object",
    "required": ["kind", "value", "unit"],
    "properties": {
        "kind": {"enum": ["length", "distance", "area", "dimensions", "count"]},
        "value": {"type": "number"},
        "unit": {"enum": ["m", "m2", "count"]},
        "qualifier": {"enum": ["exact", "approx", "lt", "le", "gt", "ge"]},
        "length_m": {"type": ["number", "null"]},
        "width_m": {"type": ["number", "null"]},
        "text": {"type": "string"},
        "offset": {"type": "integer"},
        "noun": {"type": ["string", "null"]},
    },
}
_DATE = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"}
#: JSON schema of the claims file that ``sitewatch reports extract`` writes.
CLAIMS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["sitewatch_claims", "claims"],
    "properties": {
        "sitewatch_claims": {"type": "string"},
        "sources": {"type": "array", "items": {"type": "object"}},
        "claims": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "id",
                    "source",
                    "quote",
                    "site",
                    "site_text",
                    "event",
                    "negated",
                    "hedged",
                    "when",
                ],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "source": {"type": "object"},
                    "quote": {
                        "type": "object",
                        "required": ["start", "end", "text"],
                        "properties": {
                            "start": {"type": "integer", "minimum": 0},
                            "end": {"type": "integer", "minimum": 0},
                            "text": {"type": "string"},
                        },
                    },
                    "site": {"type": ["string", "null"]},
                    "site_text": {"type": "string"},
                    "site_kind": {"enum": ["site", "place", None]},
                    "site_match": {"enum": ["exact", "fuzzy", "coreference", "context", "unknown"]},
                    "event": {"enum": list(EVENTS)},
                    "trigger": {"type": ["string", "null"]},
                    "negated": {"type": "boolean"},
                    "hedged": {"type": "boolean"},
                    "planned": {"type": "boolean"},
                    "cues": {"type": "array", "items": {"type": "string"}},
                    "when": {
                        "type": "object",
                        "required": ["start", "end"],
                        "properties": {"start": _DATE, "end": _DATE, "text": {"type": "string"}},
                    },
                    "quantities": {"type": "array", "items": _QUANTITY_SCHEMA},
                },
            },
        },
    },
}


def load_claims(path: str | os.PathLike[str]) -> list[Claim]:
    """Read and validate a claims file written by ``sitewatch reports extract``.

    Parameters
    ----------
    path : path-like
        The claims JSON file.

    Returns
    -------
    list of Claim

    Raises
    ------
    ReportError
        If the file is missing, not JSON, or does not follow :data:`CLAIMS_SCHEMA`
        (the message names the first offending field).
    """
    import jsonschema

    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(
            f"claims file {p} does not exist (write one with `sitewatch reports extract`)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"claims file {p} is not valid JSON: {exc}") from None
    validator = jsonschema.Draft202012Validator(CLAIMS_SCHEMA)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(x) for x in err.absolute_path) or "(top level)"
        raise ReportError(
            f"claims file {p} is not a sitewatch claims file: at {where}: {err.message} "
            f"({len(errors)} problem(s); re-create it with `sitewatch reports extract`)"
        )
    if str(doc["sitewatch_claims"]).split(".")[0] != CLAIMS_VERSION.split(".")[0]:
        raise ReportError(
            f"claims file {p} has version {doc['sitewatch_claims']}; this sitewatch reads {CLAIMS_VERSION}"
        )
    claims = [Claim.from_dict(c) for c in doc["claims"]]
    for c in claims:
        start, end = c.when.get("start"), c.when.get("end")
        for value in (start, end):
            if value is not None:
                try:
                    dt.date.fromisoformat(value)
                except ValueError:
                    raise ReportError(
                        f"claims file {p}: claim {c.id} has an impossible date {value!r}"
                    ) from None
        if start and end and start > end:
            raise ReportError(
                f"claims file {p}: claim {c.id} interval ends ({end}) before it starts ({start})"
            )
    return claims


_ALERT_REQUIRED = ("id", "change_type", "first_detected")


def load_alerts(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read an alerts GeoJSON FeatureCollection (as written by ``sitewatch scan``).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    dict
        The FeatureCollection, checked for the members linking needs.

    Raises
    ------
    DataError
        If the file is missing, not JSON, or not an alerts collection.
    """
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"alerts file {p} does not exist (write one with `sitewatch scan`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"alerts file {p} is not valid JSON: {exc}") from None
    check_alerts(doc, where=str(p))
    return dict(doc)


def check_alerts(doc: Any, *, where: str = "alerts") -> None:
    """Raise :class:`DataError` unless ``doc`` is an alerts FeatureCollection with a ``sitewatch`` member."""
    if not isinstance(doc, Mapping) or doc.get("type") != "FeatureCollection":
        raise DataError(f"{where} is not a GeoJSON FeatureCollection of alerts")
    meta = doc.get("sitewatch")
    if not isinstance(meta, Mapping) or not meta.get("aoi"):
        raise DataError(
            f"{where} lacks the 'sitewatch' member with the AOI name (was it written by `sitewatch scan`?)"
        )
    for i, feat in enumerate(doc.get("features") or []):
        props = (feat or {}).get("properties") or {}
        missing = [k for k in _ALERT_REQUIRED if props.get(k) in (None, "")]
        if missing:
            raise DataError(f"{where}: alert #{i} lacks {', '.join(missing)}")
        for key in ("first_detected", "last_unchanged"):
            if props.get(key):
                try:
                    as_date(props[key])
                except ValueError:
                    raise DataError(f"{where}: alert {props['id']} has a bad {key} {props[key]!r}") from None


@dataclass(frozen=True)
class Link:
    """The verdict on one claim, with the evidence behind it.

    Parameters
    ----------
    claim_id : str
    site : str or None
    event : str
    verdict : {"supported", "contradicted", "not_visible", "no_clear_imagery", "not_assessed"}
    reason : str
        The verdict in words, with the numbers behind it.
    alerts : tuple of dict
        Fitting alerts: ``id``, ``change_type``, ``status``, ``confidence``, ``date_fit``,
        ``type_fit``, ``size_fit`` (``claimed``, ``measured``, ``ratio``, ``label``) and ``score``.
    related : tuple of dict
        Alerts near in time that do not fit the event type (for the reader's judgement).
    interval : dict
        The interval compared (``start``, ``end``, ``tolerance_days``, ``note``).
    imagery : dict
        Clear scenes before / inside / after the interval (counts, dates and ids).
    negated, hedged : bool
        Copied from the claim: a denial flips what the imagery means.
    strength : {"strong", "moderate", "weak"} or None
        For supported / contradicted: how much weight the evidence carries.
    """

    claim_id: str
    site: str | None
    event: str
    verdict: Verdict
    reason: str
    alerts: tuple[dict[str, Any], ...] = ()
    related: tuple[dict[str, Any], ...] = ()
    interval: dict[str, Any] = field(default_factory=dict)
    imagery: dict[str, Any] = field(default_factory=dict)
    negated: bool = False
    hedged: bool = False
    strength: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "claim_id": self.claim_id,
            "site": self.site,
            "event": self.event,
            "verdict": self.verdict,
            "strength": self.strength,
            "reason": self.reason,
            "negated": self.negated,
            "hedged": self.hedged,
            "alerts": [dict(a) for a in self.alerts],
            "related": [dict(a) for a in self.related],
            "interval": dict(self.interval),
            "imagery": dict(self.imagery),
        }


def _collections(alerts: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    docs = [alerts] if isinstance(alerts, Mapping) else list(alerts)
    out: dict[str, Mapping[str, Any]] = {}
    for i, doc in enumerate(docs):
        check_alerts(doc, where=f"alerts collection #{i}")
        out[str(doc["sitewatch"]["aoi"])] = doc
    return out


def _claimed_sizes(claim: Claim) -> list[dict[str, Any]]:
    out = []
    for q in claim.quantities:
        if q.get("kind") == "dimensions":
            out.append(
                {
                    "kind": "dimensions",
                    "length_m": q["length_m"],
                    "width_m": q["width_m"],
                    "text": q.get("text"),
                }
            )
        elif q.get("kind") == "area":
            out.append({"kind": "area", "area_m2": q["value"], "text": q.get("text")})
        elif q.get("kind") == "length":
            out.append(
                {"kind": "length", "length_m": q["value"], "noun": q.get("noun"), "text": q.get("text")}
            )
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a <= 0 or b <= 0:
        return None
    return min(a, b) / max(a, b)


def _size_fit(size: Mapping[str, Any], props: Mapping[str, Any]) -> float | None:
    if size["kind"] == "dimensions":
        ml, mw = props.get("length_m"), props.get("width_m")
        rl, rw = _ratio(size["length_m"], ml), _ratio(size["width_m"], mw)
        if rl is not None and rw is not None:
            return math.sqrt(rl * rw)
        return _ratio(size["length_m"] * size["width_m"], props.get("area_m2"))
    if size["kind"] == "area":
        return _ratio(size["area_m2"], props.get("area_m2"))
    return _ratio(size["length_m"], props.get("length_m"))


def _label(ratio: float) -> str:
    return "good" if ratio >= 0.75 else "fair" if ratio >= 0.5 else "poor"


def _is_runway_claim(claim: Claim) -> bool:
    words = " ".join(
        [
            claim.quote.get("text", ""),
            claim.trigger or "",
            *[str(q.get("noun") or "") for q in claim.quantities],
        ]
    ).lower()
    return any(w in words for w in _RUNWAY_WORDS)


def _clear_scenes(meta: Mapping[str, Any], min_clear_fraction: float) -> list[tuple[dt.date, str, float]]:
    out = []
    for s in meta.get("scenes_used") or []:
        frac = s.get("clear_fraction")
        frac = 1.0 if frac is None else float(frac)
        if frac >= min_clear_fraction and s.get("date"):
            out.append((as_date(s["date"]), str(s.get("id", "")), frac))
    out.sort()
    return out


def link_claims(
    claims: Sequence[Claim],
    alerts: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    *,
    tolerance_days: int = 15,
    min_clear_fraction: float = 0.5,
    min_clear_before: int = 1,
    min_clear_after: int = 2,
    window_days: int = 90,
    min_visible_area_m2: float = 800.0,
    min_visible_width_m: float = 20.0,
) -> list[Link]:
    """Give every claim a verdict against the alerts of its site.

    Parameters
    ----------
    claims : sequence of Claim
        From :func:`~sitewatch.reports.extract.extract_claims` or :func:`load_claims`.
    alerts : mapping or sequence of mappings
        One alerts FeatureCollection per AOI (the ``sitewatch`` member names the AOI).
    tolerance_days : int
        Slack on both ends of the claimed interval when matching alert windows (reports
        round dates; a change is first seen at the next clear pass).
    min_clear_fraction : float
        A scene counts as clear when at least this share of the AOI was clear.
    min_clear_before, min_clear_after : int
        Clear scenes needed before the interval starts and after it ends (within
        ``window_days``) to call an absent alert a contradiction.
    window_days : int
        How far before / after the interval clear scenes are looked for.
    min_visible_area_m2, min_visible_width_m : float
        Below these a claimed object is too small to be seen at 10 m (about 8 pixels, 2 pixels wide).

    Returns
    -------
    list of Link
        One per claim, in claim order.

    Raises
    ------
    DataError
        If an alerts collection is malformed.
    """
    cols = _collections(alerts)
    out = []
    for claim in claims:
        out.append(
            _link_one(
                claim,
                cols,
                tolerance_days=tolerance_days,
                min_clear_fraction=min_clear_fraction,
                min_clear_before=min_clear_before,
                min_clear_after=min_clear_after,
                window_days=window_days,
                min_visible_area_m2=min_visible_area_m2,
                min_visible_width_m=min_visible_width_m,
            )
        )
    return out


def _link_one(
    claim: Claim,
    cols: Mapping[str, Mapping[str, Any]],
    *,
    tolerance_days: int,
    min_clear_fraction: float,
    min_clear_before: int,
    min_clear_after: int,
    window_days: int,
    min_visible_area_m2: float,
    min_visible_width_m: float,
) -> Link:
    base: dict[str, Any] = {
        "claim_id": claim.id,
        "site": claim.site,
        "event": claim.event,
        "negated": claim.negated,
        "hedged": claim.hedged,
    }
    if claim.site is None:
        return Link(
            **base, verdict="not_assessed", reason=f"the place {claim.site_text!r} is not in the registry"
        )
    col = cols.get(claim.site)
    if col is None:
        known = ", ".join(sorted(cols)) or "none"
        return Link(
            **base,
            verdict="not_assessed",
            reason=f"no alerts were given for {claim.site} (alerts cover: {known})",
        )
    meta = col["sitewatch"]
    features = [f for f in col.get("features") or [] if f]
    col_start = as_date(meta["start"]) if meta.get("start") else None
    col_end = as_date(meta["end"]) if meta.get("end") else None

    start = as_date(claim.when["start"]) if claim.when.get("start") else None
    end = as_date(claim.when["end"]) if claim.when.get("end") else None
    notes = []
    if start is None:
        start = col_start
        notes.append("open start: compared from the start of the imagery")
    if end is None:
        end = col_end
        notes.append("open end: compared up to the end of the imagery")
    if claim.planned and col_end is not None and end is not None and end < col_end:
        # A plan reported in May may be carried out any time later: look up to the end of the imagery.
        end = col_end
        notes.append("a plan: looked for up to the end of the imagery")
    elif col_end is not None and start is not None and end is not None and start <= col_end < end:
        # "from July 2025 onward" ends at publication; imagery can only speak up to its last scene.
        end = col_end
        notes.append(f"the imagery ends on {col_end.isoformat()}: judged up to then")
    tol = dt.timedelta(days=tolerance_days)
    interval = {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "tolerance_days": tolerance_days,
        "note": "; ".join(notes),
    }

    def window(props: Mapping[str, Any]) -> tuple[dt.date, dt.date]:
        first = as_date(props["first_detected"])
        last = as_date(props["last_unchanged"]) if props.get("last_unchanged") else (col_start or first)
        return min(last, first), first

    def overlaps(props: Mapping[str, Any]) -> bool:
        a, b = window(props)
        lo = (start - tol) if start else dt.date.min
        hi = (end + tol) if end else dt.date.max
        # last_unchanged shows no change yet: the change lies in (last_unchanged, first_detected].
        return (a < hi or a == b) and b >= lo

    near = [f for f in features if overlaps(f["properties"])]
    types = EVENT_CHANGE_TYPES.get(claim.event)
    if types is None:
        if claim.event in _NOT_VISIBLE_WHY:
            related = tuple(_brief(f["properties"]) for f in near)
            return Link(
                **base,
                verdict="not_visible",
                reason=_NOT_VISIBLE_WHY[claim.event],
                related=related,
                interval=interval,
            )
        return Link(
            **base,
            verdict="not_assessed",
            reason="the statement names no event that imagery could check",
            interval=interval,
        )

    fitting = [f["properties"] for f in near if f["properties"].get("change_type") in types]
    related = tuple(_brief(f["properties"]) for f in near if f["properties"].get("change_type") not in types)
    sizes = _claimed_sizes(claim)
    runway = _is_runway_claim(claim)
    scored = [_score(p, claim, sizes, runway, start, end, tol, window) for p in fitting]
    scored.sort(key=lambda a: -a["score"])

    clear = _clear_scenes(meta, min_clear_fraction)
    span = dt.timedelta(days=window_days)
    before = [s for s in clear if start is not None and start - span <= s[0] <= start + tol]
    after = [s for s in clear if end is not None and end - tol <= s[0] <= end + span]
    inside = [s for s in clear if start is not None and end is not None and start <= s[0] <= end]
    imagery = {
        "clear_before": len(before),
        "clear_inside": len(inside),
        "clear_after": len(after),
        "last_clear_before": before[-1][0].isoformat() if before else None,
        "first_clear_after": after[0][0].isoformat() if after else None,
        "scene_ids": [s[1] for s in before[-1:] + after[:1]],
        "min_clear_fraction": min_clear_fraction,
    }
    enough = len(before) >= min_clear_before and len(after) >= min_clear_after
    type_words = "/".join(types)

    if scored and not claim.negated:
        best = scored[0]
        strength = _strength(scored)
        fits = ", ".join(
            f"{a['id']} ({a['change_type']}, {a['date_fit']}, size {a['size_fit']['label']})"
            if a.get("size_fit")
            else f"{a['id']} ({a['change_type']}, {a['date_fit']})"
            for a in scored
        )
        reason = f"{len(scored)} fitting alert(s): {fits}; best {best['id']} (score {best['score']:.2f})"
        return Link(
            **base,
            verdict="supported",
            reason=reason,
            alerts=tuple(scored),
            related=related,
            interval=interval,
            imagery=imagery,
            strength=strength,
        )
    if scored and claim.negated:
        reason = (
            f"the text denies a {claim.event}, but {len(scored)} alert(s) of type {type_words} fall in "
            f"the interval: {', '.join(a['id'] for a in scored)}"
        )
        return Link(
            **base,
            verdict="contradicted",
            reason=reason,
            alerts=tuple(scored),
            related=related,
            interval=interval,
            imagery=imagery,
            strength=_strength(scored),
        )

    if claim.event in _NOT_VISIBLE_WHY:
        # Strike damage may show when large, but its absence proves nothing at 10 m.
        return Link(**base, verdict="not_visible", reason=_NOT_VISIBLE_WHY[claim.event], related=related,
                    interval=interval, imagery=imagery)  # fmt: skip
    too_small = _too_small(sizes, min_visible_area_m2, min_visible_width_m)
    if too_small:
        return Link(
            **base,
            verdict="not_visible",
            reason=too_small,
            related=related,
            interval=interval,
            imagery=imagery,
        )
    if (col_start and end and end + tol < col_start) or (col_end and start and start - tol > col_end):
        reason = (
            f"the claimed interval {interval['start']}..{interval['end']} lies outside the imagery "
            f"({meta.get('start')}..{meta.get('end')})"
        )
        return Link(
            **base,
            verdict="no_clear_imagery",
            reason=reason,
            related=related,
            interval=interval,
            imagery=imagery,
        )
    if not enough:
        lacking = []
        if len(before) < min_clear_before:
            lacking.append(f"{len(before)} clear scene(s) before the interval (need {min_clear_before})")
        if len(after) < min_clear_after:
            lacking.append(f"{len(after)} clear scene(s) after it (need {min_clear_after})")
        reason = (
            f"no {type_words} alert, but too little clear imagery to rule it out: {'; '.join(lacking)} "
            f"within {window_days} days"
        )
        return Link(
            **base,
            verdict="no_clear_imagery",
            reason=reason,
            related=related,
            interval=interval,
            imagery=imagery,
        )
    seen = (
        f"{len(before)} clear scene(s) before (last {imagery['last_clear_before']}), {len(inside)} inside "
        f"and {len(after)} after (first {imagery['first_clear_after']})"
    )
    if claim.negated:
        reason = f"as the text says, no {type_words} alert: {seen}"
        return Link(
            **base,
            verdict="supported",
            reason=reason,
            related=related,
            interval=interval,
            imagery=imagery,
            strength="moderate",
        )
    reason = f"no {type_words} alert although {seen} would show one at 10 m"
    if claim.planned:
        reason = f"the plan was not carried out by {interval['end']}, as far as imagery shows: {reason}"
    strength = (
        "strong" if len(after) >= min_clear_after + 2 and len(before) >= min_clear_before + 1 else "moderate"
    )
    return Link(
        **base,
        verdict="contradicted",
        reason=reason,
        related=related,
        interval=interval,
        imagery=imagery,
        strength=strength,
    )


def _brief(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": props.get("id"),
        "change_type": props.get("change_type"),
        "status": props.get("status"),
        "confidence": props.get("confidence"),
        "last_unchanged": props.get("last_unchanged"),
        "first_detected": props.get("first_detected"),
    }


def _score(
    props: Mapping[str, Any],
    claim: Claim,
    sizes: Sequence[Mapping[str, Any]],
    runway: bool,
    start: dt.date | None,
    end: dt.date | None,
    tol: dt.timedelta,
    window: Any,
) -> dict[str, Any]:
    a, b = window(props)
    if start is not None and end is not None and start <= a and b <= end:
        date_fit, date_score = "inside", 1.0
    elif start is not None and end is not None and a <= end and b >= start:
        date_fit, date_score = "overlaps", 0.85
    else:
        date_fit, date_score = "within tolerance", 0.6
    kind = props.get("change_type")
    if claim.event == "construction":
        exact = (kind == "runway_change") == runway or (
            kind == "new_pad" and any(s["kind"] == "dimensions" for s in sizes)
        )
        type_fit, type_score = ("exact", 1.0) if exact else ("compatible", 0.75)
    else:
        type_fit, type_score = "exact", 1.0
    out = _brief(props) | {"date_fit": date_fit, "type_fit": type_fit}
    best: tuple[float, Mapping[str, Any]] | None = None
    for size in sizes:
        if size["kind"] == "length" and (kind != "runway_change") and size.get("noun") in _RUNWAY_WORDS:
            continue
        r = _size_fit(size, props)
        if r is not None and (best is None or r > best[0]):
            best = (r, size)
    size_score = 1.0
    if best is not None:
        r, size = best
        measured = {k: props.get(k) for k in ("length_m", "width_m", "area_m2") if props.get(k) is not None}
        out["size_fit"] = {
            "claimed": size.get("text"),
            "measured": measured,
            "ratio": round(r, 3),
            "label": _label(r),
        }
        size_score = 0.4 + 0.6 * r
    confidence = float(props.get("confidence") or 0.5)
    out["score"] = round(date_score * type_score * size_score * (0.5 + 0.5 * confidence), 3)
    return out


def _strength(scored: Sequence[Mapping[str, Any]]) -> str:
    best = scored[0]
    confirmed = best.get("status") == "confirmed"
    if confirmed and best["score"] >= 0.6:
        return "strong"
    if best["score"] >= 0.4:
        return "moderate"
    return "weak"


def _too_small(sizes: Sequence[Mapping[str, Any]], min_area: float, min_width: float) -> str | None:
    areas = []
    for s in sizes:
        if s["kind"] == "dimensions":
            if s["width_m"] < min_width or s["length_m"] * s["width_m"] < min_area:
                areas.append(s)
            else:
                return None
        elif s["kind"] == "area":
            if s["area_m2"] < min_area:
                areas.append(s)
            else:
                return None
    if areas:
        text = ", ".join(str(s.get("text")) for s in areas)
        return (
            f"the claimed object ({text}) is smaller than {min_area:.0f} m2 or {min_width:.0f} m wide: "
            "too few 10 m pixels to detect"
        )
    return None


def links_document(links: Sequence[Link], claims: Sequence[Claim] = ()) -> dict[str, Any]:
    """Wrap links into the links file (``{"sitewatch_links": ..., "links": [...]}``).

    Parameters
    ----------
    links : sequence of Link
    claims : sequence of Claim, optional
        Embedded so the file reads on its own (quote, site, interval of each claim).

    Returns
    -------
    dict
    """
    by_id = {c.id: c for c in claims}
    out = []
    for link in links:
        d = link.as_dict()
        claim = by_id.get(link.claim_id)
        if claim is not None:
            d["claim"] = {
                "quote": claim.quote.get("text"),
                "site_text": claim.site_text,
                "when": claim.when,
                "source": claim.source,
            }
        out.append(d)
    counts: dict[str, int] = {}
    for link in links:
        counts[link.verdict] = counts.get(link.verdict, 0) + 1
    return {"sitewatch_links": CLAIMS_VERSION, "summary": counts, "links": out}


def attach_links(
    collection: Mapping[str, Any], links: Sequence[Link], claims: Sequence[Claim] = ()
) -> dict[str, Any]:
    """Return a copy of an alerts collection with the claims that cite each alert in its properties.

    Each alert gains ``claims``: a list of ``{claim_id, verdict, event, quote, source, score}``
    (empty when no claim fits), which is what ``sitewatch scan --reports`` writes.

    Parameters
    ----------
    collection : mapping
        An alerts FeatureCollection.
    links : sequence of Link
        From :func:`link_claims`.
    claims : sequence of Claim, optional
        For the quotes.

    Returns
    -------
    dict
    """
    import copy

    by_id = {c.id: c for c in claims}
    doc = copy.deepcopy(dict(collection))
    cites: dict[str, list[dict[str, Any]]] = {}
    for link in links:
        for a in link.alerts:
            claim = by_id.get(link.claim_id)
            cites.setdefault(str(a["id"]), []).append(
                {
                    "claim_id": link.claim_id,
                    "verdict": link.verdict,
                    "event": link.event,
                    "score": a.get("score"),
                    "quote": claim.quote.get("text") if claim else None,
                    "source": claim.source.get("file") if claim else None,
                }
            )
    for feat in doc.get("features") or []:
        props = feat.setdefault("properties", {})
        props["claims"] = cites.get(str(props.get("id")), [])
    return doc


def cite_reports(
    collection: Mapping[str, Any],
    reports: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    aois: Sequence[Any],
    published: dt.date | str | None = None,
    tolerance_days: int = 15,
) -> tuple[dict[str, Any], list[Claim], list[Link]]:
    """Extract the claims of reports, link those about the scanned AOIs, and cite them in the alerts.

    This is what ``sitewatch scan --reports DIR`` does in one go.

    Parameters
    ----------
    collection : mapping
        An alerts FeatureCollection of a scan (its ``sitewatch`` member names the AOI).
    reports : path-like or sequence of path-like
        Report files or folders.
    aois : sequence of AOI
        The scanned areas (known as places even when they are user files).
    published : date or str, optional
        Publication date for reports that do not say it.
    tolerance_days : int
        Slack on dates when matching claims to alerts.

    Returns
    -------
    collection : dict
        A copy of ``collection`` whose alerts carry ``properties.claims`` (see :func:`attach_links`).
    claims : list of Claim
        Every claim about the scanned AOIs.
    links : list of Link
        One per claim, with its verdict.

    Raises
    ------
    ReportError
        If a report path is missing or unreadable.
    """
    from sitewatch.reports.extract import extract_claims_for

    names = {aoi.name for aoi in aois}
    claims = [c for c in extract_claims_for(reports, aois, published=published) if c.site in names]
    links = link_claims(claims, collection, tolerance_days=tolerance_days) if claims else []
    return attach_links(collection, links, claims), claims, links
