"""Verdict parts: what of a claim the alerts show, what they leave open, what they contradict.

A claim states several checkable things at once: a place, a kind of work (levelling,
concrete, a runway), one or more sizes, a time. Each is a **part**, judged on its own:

``fits``
    the alerts show it: an alert of a type that shows that kind of work (bare ground from an
    ``earthworks`` alert never stands for concrete: that needs ``new_pad`` or
    ``runway_change``); a claimed size matched to its own alert within
    :attr:`VerdictRules.good_size_error` (15 %) on every dimension; the alert's change window
    ``[last_unchanged, first_detected]`` meeting the claimed interval; the site's location
    established (not ``location_certainty: unknown``).
``unverified``
    the alerts neither show nor rule it out: a second claimed size with no second alert, a size
    off by more than 15 % (within a factor of two: a fair match, not a fit), concrete where only
    levelled ground is seen, a site whose location is not established, a claim with no date.
``contradicted``
    the imagery says otherwise: a denied event that an alert shows, or an event that clear
    scenes before and after its interval would show and no alert does.

The verdict follows from the parts: ``supported`` only when every part fits,
``partly_supported`` when some fit and none contradict, ``contradicted`` when one does.

``strength`` (how much weight the evidence carries) is derived from the parts and the alerts,
in this order:

1. the evidence of the best alert: ``strong`` when it is ``confirmed`` with confidence
   >= :attr:`VerdictRules.strong_confidence` (0.6), ``moderate`` from
   :attr:`VerdictRules.moderate_confidence` (0.4), else ``weak``;
2. ``supported``: that evidence, one step lower when the date fits only within the tolerance;
3. ``partly_supported``: at most ``moderate``, one step lower when fewer parts fit than are
   left unverified (the place not counted);
4. ``contradicted`` by absence: ``strong`` with at least two clear scenes more than needed
   after the interval and one more before, else ``moderate``; by a denied event an alert
   shows: the evidence of that alert.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sitewatch.reports.claims import Claim
from sitewatch.reports.works import WORK_TYPES, works_named

__all__ = [
    "Part",
    "PartStatus",
    "VerdictRules",
    "claim_works",
    "claimed_sizes",
    "date_fit",
    "judge_parts",
    "parts_summary",
    "strength_of",
    "verdict_of",
]

PartStatus = Literal["fits", "unverified", "contradicted"]
_LEVELS = ("weak", "moderate", "strong")
_RUNWAY_WORDS = ("runway", "airstrip", "taxiway", "apron", "مهبط", "مدرج")


@dataclass(frozen=True)
class VerdictRules:
    """The numbers verdicts are decided by, each with its reason.

    Parameters
    ----------
    good_size_error : float
        A claimed size fits when every dimension's relative error is at most this (0.15):
        reports round sizes ("about 193 by 94 m") and a 10 m pixel blurs each edge by up to
        half a pixel, which on a 60 m side is 8 %.
    min_size_ratio : float
        A claimed size is compared with an alert only when the smaller of the two is at least
        this share of the larger (0.5): beyond a factor of two the alert is another object.
    strong_confidence, moderate_confidence : float
        Alert confidence from which evidence is ``strong`` (with a ``confirmed`` status) or
        ``moderate``.
    """

    good_size_error: float = 0.15
    min_size_ratio: float = 0.5
    strong_confidence: float = 0.6
    moderate_confidence: float = 0.4


@dataclass(frozen=True)
class Part:
    """One checkable part of a claim, and what the imagery says of it.

    Parameters
    ----------
    part : {"place", "type", "size", "date", "event"}
        What is checked.
    status : {"fits", "unverified", "contradicted"}
    claimed : str
        What the report says ("levelling", "193 by 94 meters", "2025-01-01..2025-04-30").
    seen : str
        What the alerts show, in words.
    alert : str or None
        The alert the part was checked against.
    """

    part: str
    status: PartStatus
    claimed: str
    seen: str
    alert: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the status, which is the list it sits in)."""
        out = {"part": self.part, "claimed": self.claimed, "seen": self.seen}
        if self.alert is not None:
            out["alert"] = self.alert
        return out


def parts_summary(parts: Sequence[Part]) -> dict[str, list[dict[str, Any]]]:
    """Parts grouped by status: ``{"fits": [...], "unverified": [...], "contradicted": [...]}``."""
    out: dict[str, list[dict[str, Any]]] = {"fits": [], "unverified": [], "contradicted": []}
    for p in parts:
        out[p.status].append(p.as_dict())
    return out


def claim_works(claim: Claim) -> tuple[str, ...]:
    """The kinds of construction work a claim names (from the claim, or its quote for old files)."""
    if claim.works:
        return tuple(w for w in claim.works if w in WORK_TYPES) or ("building",)
    from sitewatch.reports.language import fold_arabic

    text = " ".join(
        [
            fold_arabic(claim.quote.get("text", "")).text,
            claim.trigger or "",
            *[str(q.get("noun") or "") for q in claim.quantities],
        ]
    )
    return works_named(text)


def claimed_sizes(claim: Claim) -> list[dict[str, Any]]:
    """The sizes a claim states: dimensions, areas and lengths (not distances or counts)."""
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


def _rel_error(claimed: float | None, measured: Any) -> float | None:
    if claimed is None or measured is None or claimed <= 0 or float(measured) <= 0:
        return None
    return abs(float(measured) - claimed) / claimed


def _ratio(a: float | None, b: Any) -> float | None:
    if a is None or b is None or a <= 0 or float(b) <= 0:
        return None
    return min(a, float(b)) / max(a, float(b))


def _size_match(size: Mapping[str, Any], props: Mapping[str, Any]) -> tuple[float, float] | None:
    """(worst relative error, worst side ratio) of a claimed size against an alert, or None."""
    if size["kind"] == "dimensions":
        el = _rel_error(size["length_m"], props.get("length_m"))
        ew = _rel_error(size["width_m"], props.get("width_m"))
        if el is not None and ew is not None:
            rl = _ratio(size["length_m"], props.get("length_m"))
            rw = _ratio(size["width_m"], props.get("width_m"))
            return max(el, ew), min(rl or 0.0, rw or 0.0)
        area = size["length_m"] * size["width_m"]
        e, r = _rel_error(area, props.get("area_m2")), _ratio(area, props.get("area_m2"))
    elif size["kind"] == "area":
        e, r = (
            _rel_error(size["area_m2"], props.get("area_m2")),
            _ratio(size["area_m2"], props.get("area_m2")),
        )
    else:
        if props.get("change_type") != "runway_change" and size.get("noun") in _RUNWAY_WORDS:
            return None  # a claimed runway length says nothing of a pad's length
        e, r = (
            _rel_error(size["length_m"], props.get("length_m")),
            _ratio(size["length_m"], props.get("length_m")),
        )
    return (e, r) if e is not None and r is not None else None


def _measured(props: Mapping[str, Any]) -> str:
    length, width, area = props.get("length_m"), props.get("width_m"), props.get("area_m2")
    if length and width:
        return f"{float(length):.0f} x {float(width):.0f} m"
    if area:
        return f"{float(area):.0f} m2"
    if length:
        return f"{float(length):.0f} m long"
    return "no size"


def _assign_sizes(
    sizes: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]], rules: VerdictRules
) -> dict[int, tuple[int, float, float]]:
    """Each claimed size to its own alert (size index -> alert index, error, ratio), best total fit."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    if not sizes or not alerts:
        return {}
    cost = np.full((len(sizes), len(alerts)), 10.0)
    fits: dict[tuple[int, int], tuple[float, float]] = {}
    for i, size in enumerate(sizes):
        for j, props in enumerate(alerts):
            m = _size_match(size, props)
            if m is not None and m[1] >= rules.min_size_ratio:
                fits[(i, j)] = m
                cost[i, j] = min(m[0], 5.0)
    rows, cols = linear_sum_assignment(cost)
    return {int(i): (int(j), *fits[(i, j)]) for i, j in zip(rows, cols, strict=True) if (i, j) in fits}


def date_fit(window: tuple[dt.date, dt.date], start: dt.date | None, end: dt.date | None) -> str:
    """``inside``, ``overlaps`` or ``within tolerance``: how an alert's change window meets an interval."""
    a, b = window
    if start is not None and end is not None and start <= a and b <= end:
        return "inside"
    if start is not None and end is not None and a <= end and b >= start:
        return "overlaps"
    return "within tolerance"


def judge_parts(
    claim: Claim,
    alerts: Sequence[Mapping[str, Any]],
    *,
    event_types: Sequence[str],
    location_certainty: str | None,
    dated: bool,
    rules: VerdictRules = VerdictRules(),
) -> tuple[list[Part], list[dict[str, Any]]]:
    """Judge each part of a claim against the alerts of a fitting kind in its interval.

    Parameters
    ----------
    claim : Claim
    alerts : sequence of mapping
        Alert properties (with ``date_fit`` set), best first.
    event_types : sequence of str
        The alert types that show the claim's event (for events other than construction,
        whose kinds of work decide).
    location_certainty : str or None
        Of the claim's site in the registry (``exact``, ``approximate``, ``unknown``); None
        when the site is not in the registry (the place part is then not judged).
    dated : bool
        Whether the claim has any date bound (its own, or the publication date).
    rules : VerdictRules

    Returns
    -------
    parts : list of Part
    alerts : list of dict
        The alerts, each with ``type_fit`` (``exact`` when it shows every kind of work named,
        ``partial`` when some, ``untyped`` for a comparison's change) and, for those a size
        was matched to, ``size_fit`` (``claimed``, ``measured``, ``error``, ``ratio``,
        ``label``: ``good`` within 15 %, ``fair`` within a factor of two).
    """
    out = [dict(a) for a in alerts]
    parts: list[Part] = []
    site = claim.site or claim.site_text
    if location_certainty == "unknown":
        parts.append(
            Part(
                "place",
                "unverified",
                site,
                "the site's location is not established; the alerts lie "
                "in its search area, not surely at the site",
            )
        )
    elif location_certainty is not None:
        parts.append(Part("place", "fits", site, f"alerts inside the {location_certainty} site area"))

    works = claim_works(claim) if claim.event == "construction" else ()
    needs = {w: WORK_TYPES[w] for w in works}
    if not needs:
        needs = {claim.event: tuple(event_types)}
    for a in out:
        kind = str(a.get("change_type"))
        shown = [w for w, types in needs.items() if kind in types]
        a["type_fit"] = (
            "untyped" if kind == "change" else ("exact" if len(shown) == len(needs) else "partial")
        )
    for work, types in needs.items():
        hit = next((a for a in out if a.get("change_type") in types), None)
        if hit is not None:
            parts.append(Part("type", "fits", work, f"{hit['change_type']} alert", str(hit["id"])))
        else:
            seen = ", ".join(sorted({str(a.get("change_type")) for a in out})) or "none"
            why = f"needs {' or '.join(types)}; seen: {seen}"
            if seen == "change":
                why = "a two-date comparison does not type its changes"
            parts.append(Part("type", "unverified", work, why))

    best = out[0] if out else None
    if best is not None:
        interval = f"{claim.when.get('start') or '…'}..{claim.when.get('end') or '…'}"
        seen = (
            f"{best.get('change_type')} between {best.get('last_unchanged')} and {best.get('first_detected')}"
        )
        if not dated:
            parts.append(Part("date", "unverified", "no date", seen, str(best["id"])))
        else:
            parts.append(Part("date", "fits", interval, f"{seen} ({best.get('date_fit')})", str(best["id"])))

    sizes = claimed_sizes(claim)
    assigned = _assign_sizes(sizes, out, rules)
    for i, size in enumerate(sizes):
        text = str(size.get("text"))
        if i not in assigned:
            near = [(m[1], a) for a in out if (m := _size_match(size, a)) is not None]
            seen = "no alert of a fitting size"
            if near:
                _, a = max(near, key=lambda t: t[0])
                seen += f" (nearest: {a['id']}, {_measured(a)})"
            elif len(sizes) > 1:
                seen = "no alert left to measure it against"
            parts.append(Part("size", "unverified", text, seen))
            continue
        j, error, ratio = assigned[i]
        a = out[j]
        good = error <= rules.good_size_error
        label = "good" if good else "fair"
        a["size_fit"] = {
            "claimed": text,
            "measured": {k: a.get(k) for k in ("length_m", "width_m", "area_m2") if a.get(k) is not None},
            "error": round(error, 3),
            "ratio": round(ratio, 3),
            "label": label,
        }
        seen = f"{a['id']} measures {_measured(a)} ({error:.0%} off)"
        parts.append(Part("size", "fits" if good else "unverified", text, seen, str(a["id"])))
    return parts, out


def verdict_of(
    parts: Sequence[Part],
) -> Literal["supported", "partly_supported", "contradicted", "not_assessed"]:
    """``supported`` when every part fits, ``partly_supported`` when some fit and none contradict."""
    if any(p.status == "contradicted" for p in parts):
        return "contradicted"
    if all(p.status == "fits" for p in parts):
        return "supported"
    return "partly_supported" if any(p.status == "fits" for p in parts) else "not_assessed"


def evidence_of(alert: Mapping[str, Any], rules: VerdictRules = VerdictRules()) -> str:
    """``strong`` / ``moderate`` / ``weak``: the weight of one alert (status and confidence)."""
    confidence = float(alert.get("confidence") or 0.0)
    if alert.get("status") == "confirmed" and confidence >= rules.strong_confidence:
        return "strong"
    return "moderate" if confidence >= rules.moderate_confidence else "weak"


def _lower(level: str) -> str:
    return _LEVELS[max(0, _LEVELS.index(level) - 1)]


def strength_of(
    verdict: str, parts: Sequence[Part], best: Mapping[str, Any], rules: VerdictRules = VerdictRules()
) -> str:
    """The strength of a verdict from alerts, as the module docstring sets out (rules 1-3)."""
    level = evidence_of(best, rules)
    if verdict == "supported":
        dates = [p for p in parts if p.part == "date"]
        if any(re.search(r"within tolerance", p.seen) for p in dates):
            level = _lower(level)
        return level
    if verdict == "partly_supported":
        level = "moderate" if level == "strong" else level
        checked = [p for p in parts if p.part != "place"]
        if sum(p.status == "fits" for p in checked) < sum(p.status == "unverified" for p in checked):
            level = _lower(level)
        return level
    return level
