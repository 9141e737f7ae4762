"""Radar corroboration of optical alerts, and what radar alone can say (pure logic).

An optical alert says *what* changed; Sentinel-1 says, through any cloud, whether the
backscatter over the same outline changed *the way that change should*. The rules, one per
change type (:data:`SAR_RULES`), follow the physics of C-band backscatter:

- ``evacuation``: structures, containers and vehicles are corner reflectors (double bounce);
  when they go, the outline goes **darker** (VV or VH). Brighter is inconsistent.
- ``new_pad``: smooth concrete, asphalt or compacted gravel reflects the pulse away
  (specular), so a new pad goes **darker** than the ground it replaced.
- ``runway_change``: a new or extended paved strip is a **darker** strip; a resurfacing
  changes little (any direction, or none, is consistent).
- ``earthworks``: levelling and digging change the roughness and the moisture of the ground:
  **a change either way** (brighter or darker) is consistent, no change is not.
- ``other``: any significant change is consistent.

A direction counts when the orbits that saw the outline agree on it (``"mixed"`` counts as
none). The verdict is ``consistent`` when the expected direction is seen, ``inconsistent``
when the radar saw both sides of the event and the opposite or no change, and
``no_radar_data`` when no orbit has acquisitions on both sides.

**Confidence** (:func:`sar_adjusted_confidence`): a consistent radar change closes
:data:`CONSISTENT_GAIN` of the gap between the optical confidence and 1; an inconsistent one
multiplies it by :data:`INCONSISTENT_FACTOR`; no radar data leaves it as it is. The optical
confidence parts are kept unchanged, so the adjustment can be read off.

**Radar alone** (:func:`radar_change_type`): a radar change with no optical alert is typed only
as far as radar can tell: a bright outline (double bounce) that went darker is structures
gone (``evacuation``); ground that went darker by several dB in both polarisations is a new
smooth surface (``new_pad``, or ``other`` / ``dark_strip`` when it is a long thin strip); a
brighter outline is new structures or vehicles (``other`` / ``brighter``); anything else is
a roughness or moisture change (``other`` / ``roughness``).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from sitewatch.core.sar_outline import OutlineChange
from sitewatch.objects.classify import ChangeType

__all__ = [
    "CONSISTENT_GAIN",
    "INCONSISTENT_FACTOR",
    "SAR_RULES",
    "SarCorroboration",
    "SarPolarization",
    "SarVerdict",
    "corroborate",
    "double_bounce_before",
    "own_darkening",
    "radar_change_type",
    "sar_adjusted_confidence",
]

SarVerdict = Literal["consistent", "inconsistent", "no_radar_data"]
Expected = Literal["darker", "brighter", "any", "any_or_none"]

#: The expected radar change per optical change type, and the rule as an investigator reads it.
SAR_RULES: dict[str, tuple[Expected, str]] = {
    "evacuation": ("darker", "structures leaving lose their double-bounce return: the outline goes darker"),
    "new_pad": ("darker", "a smooth concrete/asphalt/gravel pad is darker than the ground it replaced"),
    "runway_change": ("darker", "a new or extended paved strip is a darker strip"),
    "runway_change/resurfacing": ("any_or_none", "resurfacing a paved strip changes its backscatter little"),
    "earthworks": ("any", "earthworks change the ground's roughness and moisture: a change either way"),
    "other": ("any", "any significant radar change over the outline"),
}
#: Share of the gap to 1 a consistent radar change closes.
CONSISTENT_GAIN = 0.3
#: Factor on the confidence of an alert the radar contradicts.
INCONSISTENT_FACTOR = 0.7
#: A radar-only darkening of at least this many dB in both polarisations is a new smooth surface.
NEW_SURFACE_DB = 2.5
#: Outlines brighter than this in VV before the change held double-bounce targets (used when
#: the ground around the outline is not known).
DOUBLE_BOUNCE_BEFORE_DB = -9.0
#: With the ground around known: an outline this many dB brighter in VV than that ground
#: before the change held double-bounce targets (the site's own ground is the yardstick:
#: rough, wet or steep ground is brighter everywhere, not only under structures).
DOUBLE_BOUNCE_CONTRAST_DB = 4.0
#: Length/width above which a radar-only dark outline is a strip, not a pad.
STRIP_ELONGATION = 5.0


@dataclass(frozen=True)
class SarPolarization:
    """One polarisation's change over an outline (the orbit with the strongest evidence).

    Attributes
    ----------
    polarization : str
    direction : {"brighter", "darker", "none", "mixed"}
        What the orbits agree on.
    t_stat : float
        Welch t of after vs before (positive brighter), the largest in size over the orbits.
    delta_db : float
        Mean change of that orbit, dB.
    """

    polarization: str
    direction: str
    t_stat: float
    delta_db: float


@dataclass(frozen=True)
class SarCorroboration:
    """What Sentinel-1 says about an alert's outline across its dates.

    Attributes
    ----------
    verdict : {"consistent", "inconsistent", "no_radar_data"}
    rule : str
        The rule applied (see :data:`SAR_RULES`).
    polarizations : tuple of SarPolarization
    radar_before, radar_after : datetime.date or None
        The radar acquisitions closest to the alert on either side.
    radar_last_unchanged, radar_first_changed : datetime.date or None
        The radar's own dating (two consecutive acquisitions of one orbit on the changed side).
    orbits : tuple of str
        Orbits that saw both sides.
    notes : tuple of str
    """

    verdict: SarVerdict
    rule: str
    polarizations: tuple[SarPolarization, ...] = ()
    radar_before: dt.date | None = None
    radar_after: dt.date | None = None
    radar_last_unchanged: dt.date | None = None
    radar_first_changed: dt.date | None = None
    orbits: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def direction(self, polarization: str) -> str:
        """The direction of one polarisation (``"none"`` when absent)."""
        return next((p.direction for p in self.polarizations if p.polarization == polarization), "none")

    def as_properties(self) -> dict[str, Any]:
        """JSON-ready members (dates ISO, NaN as None)."""

        def num(x: float) -> float | None:
            return round(float(x), 2) if math.isfinite(x) else None

        def day(d: dt.date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "verdict": self.verdict,
            "rule": self.rule,
            **{f"direction_{p.polarization.lower()}": p.direction for p in self.polarizations},
            **{f"t_{p.polarization.lower()}": num(p.t_stat) for p in self.polarizations},
            **{f"delta_{p.polarization.lower()}_db": num(p.delta_db) for p in self.polarizations},
            "radar_before": day(self.radar_before),
            "radar_after": day(self.radar_after),
            "radar_last_unchanged": day(self.radar_last_unchanged),
            "radar_first_changed": day(self.radar_first_changed),
            "orbits": list(self.orbits),
            "notes": list(self.notes),
        }

    @classmethod
    def from_properties(cls, props: Mapping[str, Any]) -> SarCorroboration:
        """Undo :meth:`as_properties`."""

        def day(key: str) -> dt.date | None:
            v = props.get(key)
            return dt.date.fromisoformat(str(v)[:10]) if v else None

        pols = []
        for pol in ("VV", "VH"):
            k = pol.lower()
            if f"direction_{k}" in props:
                t, d = props.get(f"t_{k}"), props.get(f"delta_{k}_db")
                pols.append(
                    SarPolarization(
                        pol,
                        str(props[f"direction_{k}"]),
                        float("nan") if t is None else float(t),
                        float("nan") if d is None else float(d),
                    )
                )
        verdict = props.get("verdict")
        return cls(
            verdict=verdict if verdict in ("consistent", "inconsistent") else "no_radar_data",
            rule=str(props.get("rule") or ""),
            polarizations=tuple(pols),
            radar_before=day("radar_before"),
            radar_after=day("radar_after"),
            radar_last_unchanged=day("radar_last_unchanged"),
            radar_first_changed=day("radar_first_changed"),
            orbits=tuple(props.get("orbits") or ()),
            notes=tuple(props.get("notes") or ()),
        )


def _date(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value is not None else None


def _strongest(evidence: OutlineChange, polarization: str) -> tuple[float, float]:
    best_t, best_d = float("nan"), float("nan")
    for orbit in evidence.orbits:
        c = orbit.change(polarization)
        if c is not None and math.isfinite(c.t_stat) and not (abs(c.t_stat) <= abs(best_t)):
            best_t, best_d = c.t_stat, c.delta_db
    return best_t, best_d


def rule_for(change_type: str, detail: str | None = None) -> tuple[Expected, str]:
    """The expected radar direction and the rule's text for a change type (and detail)."""
    return SAR_RULES.get(f"{change_type}/{detail}") or SAR_RULES.get(change_type) or SAR_RULES["other"]


def corroborate(
    change_type: ChangeType | str, evidence: OutlineChange, *, detail: str | None = None
) -> SarCorroboration:
    """Judge an optical alert against the radar evidence over its outline.

    Parameters
    ----------
    change_type : str
        The optical alert's type.
    evidence : OutlineChange
        From :func:`sitewatch.core.sar_outline.outline_change` over the alert's outline and dates.
    detail : str, optional
        The optical alert's detail (``"resurfacing"`` changes the runway rule).

    Returns
    -------
    SarCorroboration

    Examples
    --------
    >>> from sitewatch.core.sar_outline import OutlineChange
    >>> empty = OutlineChange(10, dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 9), (), None, None)
    >>> corroborate("new_pad", empty).verdict
    'no_radar_data'
    """
    expected, rule = rule_for(change_type, detail)
    pols = []
    for pol in ("VV", "VH"):
        if not any(o.change(pol) is not None for o in evidence.orbits):
            continue
        t, d = _strongest(evidence, pol)
        pols.append(SarPolarization(pol, evidence.direction(pol), t, d))
    firsts = [o.radar_first_changed for o in evidence.orbits if o.radar_first_changed is not None]
    first = min(firsts) if firsts else None
    lasts = [
        o.radar_last_unchanged
        for o in evidence.orbits
        if o.radar_last_unchanged is not None and (first is None or o.radar_last_unchanged < first)
    ]
    common = {
        "rule": rule,
        "polarizations": tuple(pols),
        "radar_before": _date(evidence.last_before),
        "radar_after": _date(evidence.first_after),
        "radar_last_unchanged": _date(max(lasts)) if lasts and first else None,
        "radar_first_changed": _date(first),
        "orbits": tuple(o.orbit for o in evidence.orbits),
        "notes": evidence.notes,
    }
    if not evidence.has_data or not pols:
        return SarCorroboration(verdict="no_radar_data", **common)  # type: ignore[arg-type]
    seen = {p.direction for p in pols} - {"none", "mixed"}
    if expected == "any_or_none":
        ok = True
    elif expected == "any":
        ok = bool(seen)
    else:
        ok = expected in seen and ("brighter" if expected == "darker" else "darker") not in seen
    return SarCorroboration(verdict="consistent" if ok else "inconsistent", **common)  # type: ignore[arg-type]


def sar_adjusted_confidence(confidence: float, corroboration: SarCorroboration | None) -> float:
    """The optical confidence moved by the radar verdict (see the module doc).

    Examples
    --------
    >>> sar_adjusted_confidence(0.6, SarCorroboration("consistent", "r"))
    0.72
    >>> sar_adjusted_confidence(0.6, SarCorroboration("inconsistent", "r"))
    0.42
    """
    if corroboration is None or corroboration.verdict == "no_radar_data":
        return round(confidence, 3)
    if corroboration.verdict == "consistent":
        return round(confidence + CONSISTENT_GAIN * (1.0 - confidence), 3)
    return round(confidence * INCONSISTENT_FACTOR, 3)


def double_bounce_before(evidence: OutlineChange, around: OutlineChange | None = None) -> bool:
    """Whether the outline held double-bounce targets (structures, vehicles) before the change.

    Brighter in VV, in some orbit, by :data:`DOUBLE_BOUNCE_CONTRAST_DB` than the ground
    ``around`` it when that is given, else than :data:`DOUBLE_BOUNCE_BEFORE_DB`.
    """
    ring = {o.orbit: o for o in around.orbits} if around is not None else {}
    for o in evidence.orbits:
        c = o.change("VV")
        if c is None or not math.isfinite(c.before_db):
            continue
        r = ring[o.orbit].change("VV") if o.orbit in ring else None
        if around is None and c.before_db >= DOUBLE_BOUNCE_BEFORE_DB:
            return True
        if (
            r is not None
            and math.isfinite(r.before_db)
            and c.before_db - r.before_db >= DOUBLE_BOUNCE_CONTRAST_DB
        ):
            return True
    return False


def own_darkening(evidence: OutlineChange, around: OutlineChange | None, *, min_db: float = 1.0) -> bool:
    """Ground that went darker in every orbit and polarisation, by more than the ground around it.

    A new smooth surface (concrete, asphalt, compacted gravel) darkens its own outline: the
    ground left around it does not follow, so at least half of the outline's darkening, and
    ``min_db`` (the core's ``outline_min_change_db``), is its own. A harvest, a dry spell or a
    wet date darken a whole field or the whole site alike: a fragment of it is no darker than
    the ground around it. Outlines with double bounce before are structures
    (:func:`double_bounce_before`), not ground.
    """
    if not evidence.orbits or around is None or double_bounce_before(evidence, around):
        return False
    ring = {o.orbit: o for o in around.orbits}
    for o in evidence.orbits:
        if o.orbit not in ring or not o.polarizations:
            return False
        for c in o.polarizations:
            r = ring[o.orbit].change(c.polarization)
            if c.direction != "darker" or r is None:
                return False
            own = c.delta_db - r.delta_db
            if own > -min_db or own > 0.5 * c.delta_db:
                return False
    return True


def radar_change_type(
    evidence: OutlineChange, *, elongation: float = 1.0, around: OutlineChange | None = None
) -> tuple[ChangeType, str | None, str]:
    """What a radar-only change can be said to be: type, detail and the reason.

    Parameters
    ----------
    evidence : OutlineChange
        Over the radar change's own outline and dates.
    elongation : float
        Length over width of the outline.
    around : OutlineChange, optional
        The ground around the outline over the same dates (double bounce is then judged
        against it, :func:`double_bounce_before`).

    Returns
    -------
    tuple
        ``(change_type, detail, reason)``.
    """
    vv, vh = evidence.direction("VV"), evidence.direction("VH")
    befores = [c.before_db for o in evidence.orbits if (c := o.change("VV")) is not None]
    before_vv = max(befores) if befores else float("nan")
    deltas = {
        pol: [c.delta_db for o in evidence.orbits if (c := o.change(pol)) is not None] for pol in ("VV", "VH")
    }
    dark_both = (
        own_darkening(evidence, around)
        if around is not None
        else all(d and max(d) <= -NEW_SURFACE_DB for d in deltas.values() if d) and any(deltas.values())
    )
    if "darker" in (vv, vh) and double_bounce_before(evidence, around):
        return (
            "evacuation",
            "radar",
            (f"bright double-bounce outline ({before_vv:.1f} dB VV) went darker: structures gone"),
        )
    if dark_both and "brighter" not in (vv, vh):
        if elongation >= STRIP_ELONGATION:
            return (
                "other",
                "dark_strip",
                "a long strip went darker in VV and VH: a new smooth surface (road, runway?)",
            )
        return "new_pad", "radar", "ground went darker in VV and VH by several dB: a new smooth surface"
    if "brighter" in (vv, vh) and "darker" not in (vv, vh):
        return "other", "brighter", "the outline went brighter: new structures, vehicles or rougher ground"
    return "other", "roughness", "backscatter changed without a clear signature: roughness or moisture"
