"""Which bands a scan or a comparison runs on: the one place the band requirement is decided.

A scan needs the three visible bands, a near infrared band and at least one short-wave
infrared band:

- ``B02 B03 B04`` (blue, green, red): clouds, brightness, the surface tests;
- ``B08`` (NIR, 10 m), or ``B8A`` (narrow NIR, 20 m) standing in for it: vegetation,
  registration;
- ``B11`` and/or ``B12`` (SWIR, 20 m): bare ground against built surfaces, water, snow.

What a set lacks of the full six (:data:`SCAN_BANDS`) is recorded, so that the typing can
say which bands it went without (``evidence.bands_missing``) and the confidence of the
alerts be lowered by :data:`CONFIDENCE_WITHOUT`; the scan summary says it once.
:func:`plan_bands` decides for one band set, :func:`plan_series` for a series whose scenes
may differ (common bands, or the scenes that cannot be used named and left out), and
:func:`as_scan_bands` renames a stand-in in a loaded stack.

Examples
--------
>>> plan = plan_bands(["B02", "B03", "B04", "B8A", "B11", "SCL"])
>>> plan.bands, plan.load, plan.missing
(('B02', 'B03', 'B04', 'B08', 'B11'), ('B02', 'B03', 'B04', 'B8A', 'B11', 'SCL'), ('B12',))
>>> plan.note()
'bands: B08 read from B8A (20 m); no B12 (typing without it, confidence lowered)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import xarray as xr

from sitewatch.errors import BandMissingError

__all__ = [
    "CONFIDENCE_WITHOUT",
    "SCAN_BANDS",
    "STAND_INS",
    "BandPlan",
    "SeriesBands",
    "as_scan_bands",
    "band_requirement",
    "nir_band",
    "plan_bands",
    "plan_series",
    "shortfall_evidence",
    "shortfall_factor",
]

#: The reflectance bands a scan reads when all are there, by their canonical names.
SCAN_BANDS: tuple[str, ...] = ("B02", "B03", "B04", "B08", "B11", "B12")
_VISIBLE: tuple[str, ...] = ("B02", "B03", "B04")
_SWIR: tuple[str, ...] = ("B11", "B12")
#: A band that can take the place of a missing one: the narrow NIR (20 m) for the 10 m NIR.
STAND_INS: Mapping[str, str] = {"B08": "B8A"}
#: Factor on an alert's confidence per band the set lacks (or reads from a stand-in). Every
#: typing rule reads SWIR (concrete, asphalt and bare earth are told apart by B11 against B08,
#: their flatness and brightness by all six bands): without B11 the surface tests lose their
#: main input, without B12 the flatness and the earth/concrete contrast lose one band; B8A is a
#: good NIR but at 20 m, so narrow strips are more mixed.
CONFIDENCE_WITHOUT: Mapping[str, float] = {"B11": 0.75, "B12": 0.9, "B08": 0.95}


def band_requirement() -> str:
    """The requirement in words (for error messages and the docs).

    Examples
    --------
    >>> band_requirement()
    'B02, B03, B04, B08 (or B8A) and B11 or B12'
    """
    return "B02, B03, B04, B08 (or B8A) and B11 or B12"


@dataclass(frozen=True)
class BandPlan:
    """What to load and what the scan works with.

    Attributes
    ----------
    load : tuple of str
        The names to ask the provider for (a stand-in by its own name; ``SCL`` where there).
    bands : tuple of str
        The reflectance bands the scan works on, by canonical name (``B08`` even when read
        from ``B8A``), in :data:`SCAN_BANDS` order.
    missing : tuple of str
        Bands of :data:`SCAN_BANDS` the set lacks (and no stand-in gives).
    stand_ins : mapping
        Canonical name -> the band read for it (``{"B08": "B8A"}``).
    scl : bool
        The set has the scene classification.
    """

    load: tuple[str, ...]
    bands: tuple[str, ...]
    missing: tuple[str, ...] = ()
    stand_ins: Mapping[str, str] = field(default_factory=dict)
    scl: bool = False

    @property
    def complete(self) -> bool:
        """All of :data:`SCAN_BANDS`, none from a stand-in."""
        return not self.missing and not self.stand_ins

    def confidence_factor(self) -> float:
        """The factor on an alert's confidence for what the set lacks (1.0 when complete)."""
        return shortfall_factor(self.missing, self.stand_ins)

    def note(self) -> str | None:
        """One line for the scan summary, or None when the set is complete."""
        if self.complete:
            return None
        parts = [f"{b} read from {s} (20 m)" for b, s in self.stand_ins.items()]
        if self.missing:
            parts.append(f"no {', '.join(self.missing)} (typing without it, confidence lowered)")
        return "bands: " + "; ".join(parts)

    def evidence(self) -> dict[str, object]:
        """What an alert's evidence says about the bands (empty when complete)."""
        return shortfall_evidence(self.missing, self.stand_ins)


def shortfall_factor(missing: Iterable[str], stand_ins: Mapping[str, str]) -> float:
    """The factor on an alert's confidence for missing bands and stand-ins (:data:`CONFIDENCE_WITHOUT`).

    Examples
    --------
    >>> shortfall_factor(["B12"], {})
    0.9
    """
    factor = 1.0
    for band in (*missing, *stand_ins):
        factor *= CONFIDENCE_WITHOUT.get(band, 1.0)
    return round(factor, 3)


def shortfall_evidence(missing: Iterable[str], stand_ins: Mapping[str, str]) -> dict[str, object]:
    """``bands_missing`` and ``band_stand_ins`` for an alert's evidence (only what applies)."""
    out: dict[str, object] = {}
    lacking = list(missing)
    if lacking:
        out["bands_missing"] = lacking
    if stand_ins:
        out["band_stand_ins"] = dict(stand_ins)
    return out


def nir_band(names: Iterable[str]) -> str | None:
    """The near infrared band to read from a band set: ``B08``, else its stand-in.

    The one place the choice is made for everything that reads a NIR band (the masks,
    NDVI in the object stage); the stand-in is the one :data:`STAND_INS` names.

    Parameters
    ----------
    names : iterable of str
        The bands available (a stack's band coordinate, a composite's bands).

    Returns
    -------
    str or None
        ``"B08"`` when there, else its stand-in when there, else None.

    Examples
    --------
    >>> nir_band(["B04", "B08", "B8A"])
    'B08'
    >>> nir_band(["B04", "B8A"])
    'B8A'
    >>> nir_band(["B04", "B11"]) is None
    True
    """
    present = {str(b) for b in names}
    for band in ("B08", STAND_INS["B08"]):
        if band in present:
            return band
    return None


def _unmet(have: set[str]) -> list[str]:
    """What of the requirement a band set does not meet, in words (empty: it is met)."""
    unmet = [b for b in _VISIBLE if b not in have]
    if nir_band(have) is None:
        unmet.append("B08 (or B8A)")
    if not any(b in have for b in _SWIR):
        unmet.append("B11 or B12")
    return unmet


def plan_bands(have: Iterable[str], *, what: str = "the scenes") -> BandPlan:
    """Decide what a scan loads and works with, from the bands a set has.

    Parameters
    ----------
    have : iterable of str
        The bands available (in every scene).
    what : str
        The set's name in the error message (a scene, a date, "the scenes").

    Returns
    -------
    BandPlan

    Raises
    ------
    BandMissingError
        If the set does not meet :func:`band_requirement`: the message names what it has
        and what is needed.

    Examples
    --------
    >>> plan_bands(["B02", "B03", "B04", "B08", "B11", "B12"]).complete
    True
    >>> plan_bands(["B02", "B03", "B04", "B08"])
    Traceback (most recent call last):
    ...
    sitewatch.errors.BandMissingError: ...
    """
    present = {str(b).upper() if str(b).upper() != "SCL" else "SCL" for b in have}
    unmet = _unmet(present)
    if unmet:
        spectral = sorted(b for b in present if b != "SCL")
        raise BandMissingError(
            f"{what}: no {' and no '.join(unmet)} (bands there: {', '.join(spectral) or 'none'}); "
            f"a scan or a comparison needs {band_requirement()}: fetch or export the scenes with them"
        )
    stand_ins = {b: s for b, s in STAND_INS.items() if b not in present and s in present}
    bands = tuple(b for b in SCAN_BANDS if b in present or b in stand_ins)
    missing = tuple(b for b in SCAN_BANDS if b not in bands)
    load = tuple(stand_ins.get(b, b) for b in bands) + (("SCL",) if "SCL" in present else ())
    return BandPlan(load=load, bands=bands, missing=missing, stand_ins=stand_ins, scl="SCL" in present)


@dataclass(frozen=True)
class SeriesBands:
    """The bands of a series: the plan, the scenes left out and what to warn about.

    Attributes
    ----------
    plan : BandPlan
    keep : tuple of str
        Ids of the scenes the scan uses.
    skipped : mapping
        Scene id -> why it is left out (the bands it lacks).
    warnings : tuple of str
        One line each: bands dropped because some scenes lack them, scenes left out.
    """

    plan: BandPlan
    keep: tuple[str, ...]
    skipped: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def _listed(ids: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def plan_series(scene_bands: Mapping[str, Sequence[str]]) -> SeriesBands:
    """Decide the bands of a series whose scenes may differ.

    The scan works on the bands every scene shares. A scene lacking a band the
    requirement needs (a visible band, any NIR, any SWIR) is left out, named, when at
    least half of the series meets the requirement without it; otherwise the series is
    refused with one error naming the scenes and the bands. Bands only some scenes have
    are dropped with a warning naming the scenes that lack them.

    Parameters
    ----------
    scene_bands : mapping
        Scene id -> its bands, in time order.

    Returns
    -------
    SeriesBands

    Raises
    ------
    BandMissingError
        If the usable scenes share no band set that meets :func:`band_requirement`.

    Examples
    --------
    >>> five = ["B02", "B03", "B04", "B08", "B11"]
    >>> s = plan_series({"a": [*five, "B12"], "b": five})
    >>> s.plan.bands, s.keep
    (('B02', 'B03', 'B04', 'B08', 'B11'), ('a', 'b'))
    >>> s.warnings[0]
    'band B12 is missing from scene b (1 of 2); the scan uses the bands all scenes share'
    """
    ids = list(scene_bands)
    sets = {i: {str(b).upper() if str(b).upper() != "SCL" else "SCL" for b in scene_bands[i]} for i in ids}
    unusable = {i: _unmet(sets[i]) for i in ids if _unmet(sets[i])}
    notes: list[str] = []
    if unusable:
        if len(unusable) == len(ids):
            every = set.union(*sets.values())
            plan_bands(every, what=f"the {len(ids)} scenes" if len(ids) > 1 else f"scene {ids[0]}")
        if len(unusable) * 2 > len(ids):
            first = next(iter(unusable))
            raise BandMissingError(
                f"{len(unusable)} of {len(ids)} scenes lack bands a scan needs ({band_requirement()}): "
                f"scene {first} lacks {', '.join(unusable[first])} (it has "
                f"{', '.join(sorted(b for b in sets[first] if b != 'SCL')) or 'no Sentinel-2 band'})"
                + (f"; also {_listed([i for i in unusable if i != first])}" if len(unusable) > 1 else "")
            )
        for i, unmet in unusable.items():
            notes.append(f"scene {i} lacks {', '.join(unmet)} that a scan needs; left out")
    keep = [i for i in ids if i not in unusable]
    common = set.intersection(*(sets[i] for i in keep))
    every = set.union(*(sets[i] for i in keep))
    relevant = {*SCAN_BANDS, *STAND_INS.values(), "SCL"}
    for band in sorted(every - common):
        if band not in relevant:
            continue
        lacking = [i for i in keep if band not in sets[i]]
        notes.append(
            f"band {band} is missing from scene {_listed(lacking)} ({len(lacking)} of {len(keep)}); "
            "the scan uses the bands all scenes share"
        )
    plan = plan_bands(common, what=f"the {len(keep)} scenes together")
    return SeriesBands(
        plan=plan,
        keep=tuple(keep),
        skipped={i: f"lacks {', '.join(u)}" for i, u in unusable.items()},
        warnings=tuple(notes),
    )


def as_scan_bands(stack: xr.DataArray, plan: BandPlan) -> xr.DataArray:
    """A loaded stack with its stand-in bands under their canonical names (``B8A`` as ``B08``).

    The plan goes with it in ``attrs`` (``bands_missing``, ``band_stand_ins``), where the
    object stage and the alerts read it.

    Parameters
    ----------
    stack : xarray.DataArray
        ``(time, band, ...)`` holding ``plan.load``.
    plan : BandPlan

    Returns
    -------
    xarray.DataArray
        The same data (no copy), band coordinate renamed.
    """
    rename = {s: b for b, s in plan.stand_ins.items()}
    names = [rename.get(str(b), str(b)) for b in stack.coords["band"].values]
    out = stack.assign_coords(band=names) if rename else stack.copy(deep=False)
    out.attrs = {
        **stack.attrs,
        "bands_missing": tuple(plan.missing),
        "band_stand_ins": dict(plan.stand_ins),
    }
    return out
