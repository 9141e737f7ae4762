"""Claims meet detections: which statements the imagery supports, in part or in full, or contradicts.

For each claim at a watched AOI the alerts of that AOI are searched for ones whose
change window ``[last_unchanged, first_detected]`` meets the claimed interval (with a
tolerance) and whose type can show the event (construction -> ``new_pad``,
``runway_change``, ``earthworks``; withdrawal -> ``evacuation``; a comparison's untyped
``change`` for any). Each part of the claim (place, kind of work, every size, the date) is
then judged on its own (:mod:`sitewatch.reports.verdict`). The verdict:

``supported``
    every part the claim states fits: an alert of a type that shows each kind of work named,
    each claimed size matched to its own alert within 15 %, the date, the site's location;
``partly_supported``
    some parts fit and none is contradicted; the others are listed as ``unverified`` (concrete
    claimed where only levelled ground is seen, a second size with no second alert, a size
    20 % off, a site whose location is not established);
``contradicted``
    no fitting alert, though clear scenes before and after the claimed interval would show a
    change of that type and size at 10 m; or a denial that a fitting alert contradicts;
``not_visible``
    the event leaves no mark at 10 m (convoys, landings, troop numbers), or the claimed
    object is smaller than a few pixels;
``no_clear_imagery``
    too few clear scenes before or after the interval to say either way;
``not_assessed``
    the place is unknown or ambiguous, not covered by the alerts given, or the claim names no event.

``Link.parts`` lists the parts (``fits``, ``unverified``, ``contradicted``) and
``Link.strength`` weighs the evidence, derived from the parts as
:mod:`sitewatch.reports.verdict` documents.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sitewatch.reports.claims import Claim
from sitewatch.reports.detections import UNTYPED_CHANGE, alert_collections
from sitewatch.reports.verdict import (
    Part,
    VerdictRules,
    claimed_sizes,
    date_fit,
    evidence_of,
    judge_parts,
    parts_summary,
    strength_of,
    verdict_of,
)
from sitewatch.types import as_date

__all__ = [
    "EVENT_CHANGE_TYPES",
    "VERDICTS",
    "Link",
    "Verdict",
    "link_claims",
]

Verdict = Literal[
    "supported", "partly_supported", "contradicted", "not_visible", "no_clear_imagery", "not_assessed"
]
#: Every verdict, from the most to the least favourable to the claim.
VERDICTS: tuple[str, ...] = (
    "supported",
    "partly_supported",
    "contradicted",
    "not_visible",
    "no_clear_imagery",
    "not_assessed",
)

#: Which alert types can show each event (a comparison's untyped ``change`` can show any, in part).
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


@dataclass(frozen=True)
class Link:
    """The verdict on one claim, with the evidence behind it.

    Parameters
    ----------
    claim_id : str
    site : str or None
    event : str
    verdict : str
        One of :data:`VERDICTS`.
    reason : str
        The verdict in words, with the numbers behind it.
    alerts : tuple of dict
        Fitting alerts, best first: ``id``, ``change_type``, ``status``, ``confidence``,
        ``date_fit``, ``type_fit`` (``exact``, ``partial``, ``untyped``), ``size_fit``
        (``claimed``, ``measured``, ``error``, ``ratio``, ``label``) where a claimed size was
        matched to it, and ``score``.
    related : tuple of dict
        Alerts near in time that do not fit the event type (for the reader's judgement).
    interval : dict
        The interval compared (``start``, ``end``, ``tolerance_days``, ``note``).
    imagery : dict
        Clear scenes before / inside / after the interval (counts, dates and ids).
    negated, hedged : bool
        Copied from the claim: a denial flips what the imagery means.
    strength : {"strong", "moderate", "weak"} or None
        For supported / partly supported / contradicted: how much weight the evidence carries.
    parts : dict
        ``fits``, ``unverified``, ``contradicted``: lists of ``{part, claimed, seen, alert}``.
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
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "claim_id": self.claim_id,
            "site": self.site,
            "event": self.event,
            "verdict": self.verdict,
            "strength": self.strength,
            "reason": self.reason,
            "parts": {k: [dict(p) for p in v] for k, v in self.parts.items()},
            "negated": self.negated,
            "hedged": self.hedged,
            "alerts": [dict(a) for a in self.alerts],
            "related": [dict(a) for a in self.related],
            "interval": dict(self.interval),
            "imagery": dict(self.imagery),
        }


def _clear_scenes(meta: Mapping[str, Any], min_clear_fraction: float) -> list[tuple[dt.date, str, float]]:
    out = []
    for s in meta.get("scenes_used") or []:
        frac = s.get("clear_fraction")
        frac = 1.0 if frac is None else float(frac)
        if frac >= min_clear_fraction and s.get("date"):
            out.append((as_date(s["date"]), str(s.get("id", "")), frac))
    out.sort()
    return out


@dataclass(frozen=True)
class _Settings:
    tolerance_days: int
    min_clear_fraction: float
    min_clear_before: int
    min_clear_after: int
    window_days: int
    min_visible_area_m2: float
    min_visible_width_m: float
    rules: VerdictRules


def _location_certainties(places: Sequence[Any] | None) -> dict[str, str]:
    if places is None:
        from sitewatch.aoi import list_places
        from sitewatch.errors import SitewatchError

        places = []
        with contextlib.suppress(SitewatchError):  # no registry: the place part is not judged
            places = list_places()
    return {p.name: str(p.location_certainty) for p in places}


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
    places: Sequence[Any] | None = None,
    rules: VerdictRules | None = None,
) -> list[Link]:
    """Give every claim a verdict against the alerts of its site.

    Parameters
    ----------
    claims : sequence of Claim
        From :func:`~sitewatch.reports.extract.extract_claims` or
        :func:`~sitewatch.reports.schema.load_claims`.
    alerts : mapping or sequence of mappings
        Alerts collections: one per AOI as ``sitewatch scan`` writes, a batch run's merged
        collection, or a comparison read by :func:`~sitewatch.reports.detections.load_alerts`.
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
    places : sequence of Place, optional
        Where each site's ``location_certainty`` is read (the place part of a verdict);
        defaults to the registry.
    rules : VerdictRules, optional
        Size tolerance and confidence levels of the verdict parts.

    Returns
    -------
    list of Link
        One per claim, in claim order.

    Raises
    ------
    DataError
        If an alerts collection is malformed.

    Examples
    --------
    >>> links = link_claims(claims, load_alerts("alerts.geojson"))   # doctest: +SKIP
    >>> links[0].verdict, links[0].parts["unverified"]                # doctest: +SKIP
    ('partly_supported', [{'part': 'type', 'claimed': 'surface', ...}])
    """
    cols = alert_collections(alerts)
    settings = _Settings(
        tolerance_days,
        min_clear_fraction,
        min_clear_before,
        min_clear_after,
        window_days,
        min_visible_area_m2,
        min_visible_width_m,
        rules or VerdictRules(),
    )
    certainty = _location_certainties(places)
    return [_link_one(claim, cols, settings, certainty) for claim in claims]


def _interval(
    claim: Claim, col_start: dt.date | None, col_end: dt.date | None, tolerance_days: int
) -> tuple[dt.date | None, dt.date | None, dict[str, Any]]:
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
    interval = {
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        "tolerance_days": tolerance_days,
        "note": "; ".join(notes),
    }
    return start, end, interval


def _imagery(
    meta: Mapping[str, Any], start: dt.date | None, end: dt.date | None, s: _Settings
) -> tuple[dict[str, Any], bool]:
    clear = _clear_scenes(meta, s.min_clear_fraction)
    span, tol = dt.timedelta(days=s.window_days), dt.timedelta(days=s.tolerance_days)
    before = [c for c in clear if start is not None and start - span <= c[0] <= start + tol]
    after = [c for c in clear if end is not None and end - tol <= c[0] <= end + span]
    inside = [c for c in clear if start is not None and end is not None and start <= c[0] <= end]
    imagery = {
        "clear_before": len(before),
        "clear_inside": len(inside),
        "clear_after": len(after),
        "last_clear_before": before[-1][0].isoformat() if before else None,
        "first_clear_after": after[0][0].isoformat() if after else None,
        "scene_ids": [c[1] for c in before[-1:] + after[:1]],
        "min_clear_fraction": s.min_clear_fraction,
    }
    return imagery, len(before) >= s.min_clear_before and len(after) >= s.min_clear_after


def _link_one(
    claim: Claim, cols: Mapping[str, Mapping[str, Any]], s: _Settings, certainty: Mapping[str, str]
) -> Link:
    base: dict[str, Any] = {
        "claim_id": claim.id,
        "site": claim.site,
        "event": claim.event,
        "negated": claim.negated,
        "hedged": claim.hedged,
    }
    if claim.site is None:
        if claim.site_match == "ambiguous" and claim.candidates:
            why = (
                f"the name {claim.site_text!r} fits several places ({', '.join(claim.candidates)}); "
                "add the spelling to one place's aliases to decide"
            )
            return Link(**base, verdict="not_assessed", reason=why)
        if claim.site_match == "region":
            why = f"{claim.site_text!r} is a region, not one site: no site's imagery can check it"
            return Link(**base, verdict="not_assessed", reason=why)
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
    start, end, interval = _interval(claim, col_start, col_end, s.tolerance_days)
    tol = dt.timedelta(days=s.tolerance_days)

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

    near = [f["properties"] for f in features if overlaps(f["properties"])]
    types = EVENT_CHANGE_TYPES.get(claim.event)
    if types is None:
        if claim.event in _NOT_VISIBLE_WHY:
            return Link(
                **base,
                verdict="not_visible",
                reason=_NOT_VISIBLE_WHY[claim.event],
                related=tuple(_brief(p) for p in near),
                interval=interval,
            )
        return Link(
            **base,
            verdict="not_assessed",
            reason="the statement names no event that imagery could check",
            interval=interval,
        )
    usable = (*types, UNTYPED_CHANGE)
    fitting = [p for p in near if p.get("change_type") in usable]
    related = tuple(_brief(p) for p in near if p.get("change_type") not in usable)
    scored = sorted((_score(p, window(p), start, end) for p in fitting), key=lambda a: -a["score"])
    imagery, enough = _imagery(meta, start, end, s)
    context = {"base": base, "related": related, "interval": interval, "imagery": imagery}
    if scored and not claim.negated:
        dated = bool(claim.when.get("start") or claim.when.get("end"))
        parts, judged = judge_parts(
            claim,
            scored,
            event_types=types,
            location_certainty=certainty.get(claim.site),
            dated=dated,
            rules=s.rules,
        )
        return _judged(claim, parts, judged, context, s.rules)
    if scored:
        best = scored[0]
        reason = (
            f"the text denies a {claim.event}, but {len(scored)} alert(s) of type {'/'.join(types)} fall in "
            f"the interval: {', '.join(a['id'] for a in scored)}"
        )
        part = Part(
            "event", "contradicted", f"no {claim.event} (denied)", f"{best['change_type']} alert", best["id"]
        )
        return Link(
            **base,
            verdict="contradicted",
            reason=reason,
            alerts=tuple(scored),
            related=related,
            interval=interval,
            imagery=imagery,
            strength=evidence_of(best, s.rules),
            parts=parts_summary([part]),
        )
    return _absent(claim, types, enough, col_start, col_end, meta, context, s)


def _judged(
    claim: Claim, parts: list[Part], alerts: list[dict[str, Any]], ctx: Mapping[str, Any], rules: VerdictRules
) -> Link:
    verdict = verdict_of(parts)
    summary = parts_summary(parts)
    fits = "; ".join(f"{p['part']} {p['claimed']}: {p['seen']}" for p in summary["fits"])
    open_ = "; ".join(f"{p['part']} {p['claimed']}: {p['seen']}" for p in summary["unverified"])
    reason = f"fits: {fits or 'nothing'}"
    if open_:
        reason += f". Unverified: {open_}"
    strength = strength_of(verdict, parts, alerts[0], rules) if verdict != "not_assessed" else None
    return Link(
        **ctx["base"],
        verdict=verdict,
        reason=reason,
        alerts=tuple(alerts),  # type: ignore[arg-type]
        related=ctx["related"],
        interval=ctx["interval"],
        imagery=ctx["imagery"],
        strength=strength,
        parts=summary,
    )


def _absent(
    claim: Claim,
    types: Sequence[str],
    enough: bool,
    col_start: dt.date | None,
    col_end: dt.date | None,
    meta: Mapping[str, Any],
    ctx: Mapping[str, Any],
    s: _Settings,
) -> Link:
    """The verdict when no alert of a fitting type falls in the interval."""
    base, interval, imagery = ctx["base"], ctx["interval"], ctx["imagery"]
    keep = {"related": ctx["related"], "interval": interval, "imagery": imagery}
    tol = dt.timedelta(days=s.tolerance_days)
    start = as_date(interval["start"]) if interval.get("start") else None
    end = as_date(interval["end"]) if interval.get("end") else None
    type_words = "/".join(types)
    if claim.event in _NOT_VISIBLE_WHY:
        # Strike damage may show when large, but its absence proves nothing at 10 m.
        return Link(**base, verdict="not_visible", reason=_NOT_VISIBLE_WHY[claim.event], **keep)
    too_small = _too_small(claimed_sizes(claim), s.min_visible_area_m2, s.min_visible_width_m)
    if too_small:
        return Link(**base, verdict="not_visible", reason=too_small, **keep)
    if (col_start and end and end + tol < col_start) or (col_end and start and start - tol > col_end):
        reason = (
            f"the claimed interval {interval['start']}..{interval['end']} lies outside the imagery "
            f"({meta.get('start')}..{meta.get('end')})"
        )
        return Link(**base, verdict="no_clear_imagery", reason=reason, **keep)
    if not enough:
        lacking = []
        if imagery["clear_before"] < s.min_clear_before:
            lacking.append(
                f"{imagery['clear_before']} clear scene(s) before the interval (need {s.min_clear_before})"
            )
        if imagery["clear_after"] < s.min_clear_after:
            lacking.append(f"{imagery['clear_after']} clear scene(s) after it (need {s.min_clear_after})")
        reason = (
            f"no {type_words} alert, but too little clear imagery to rule it out: {'; '.join(lacking)} "
            f"within {s.window_days} days"
        )
        if meta.get("note"):
            reason += f" ({meta['note']})"
        return Link(**base, verdict="no_clear_imagery", reason=reason, **keep)
    seen = (
        f"{imagery['clear_before']} clear scene(s) before (last {imagery['last_clear_before']}), "
        f"{imagery['clear_inside']} inside and {imagery['clear_after']} after "
        f"(first {imagery['first_clear_after']})"
    )
    claimed = f"{interval['start']}..{interval['end']}"
    if claim.negated:
        part = Part("event", "fits", f"no {claim.event} (denied)", f"no {type_words} alert: {seen}")
        return Link(
            **base,
            verdict="supported",
            reason=f"as the text says, no {type_words} alert: {seen}",
            strength="moderate",
            parts=parts_summary([part]),
            **keep,
        )
    reason = f"no {type_words} alert although {seen} would show one at 10 m"
    if claim.planned:
        reason = f"the plan was not carried out by {interval['end']}, as far as imagery shows: {reason}"
    ample = (
        imagery["clear_after"] >= s.min_clear_after + 2 and imagery["clear_before"] >= s.min_clear_before + 1
    )
    part = Part("event", "contradicted", f"{claim.event} {claimed}", f"no {type_words} alert: {seen}")
    return Link(
        **base,
        verdict="contradicted",
        reason=reason,
        strength="strong" if ample else "moderate",
        parts=parts_summary([part]),
        **keep,
    )


def _score(
    props: Mapping[str, Any], window: tuple[dt.date, dt.date], start: dt.date | None, end: dt.date | None
) -> dict[str, Any]:
    """An alert's brief with how its dates fit, and a score to rank alerts by (date fit x confidence)."""
    fit = date_fit(window, start, end)
    date_score = {"inside": 1.0, "overlaps": 0.85, "within tolerance": 0.6}[fit]
    confidence = float(props.get("confidence") or 0.5)
    out = _brief(props) | {"date_fit": fit}
    for key in ("length_m", "width_m", "area_m2"):
        if props.get(key) is not None:
            out[key] = props[key]
    out["score"] = round(date_score * (0.5 + 0.5 * confidence), 3)
    return out


def _brief(props: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": props.get("id"),
        "change_type": props.get("change_type"),
        "status": props.get("status"),
        "confidence": props.get("confidence"),
        "last_unchanged": props.get("last_unchanged"),
        "first_detected": props.get("first_detected"),
    }


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
