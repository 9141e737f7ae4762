"""Scripted changes of a simulated site: what happens, where, and over which days.

Events are abrupt (on one day) or gradual (spread over weeks to months: a pad laid in
sections, a compound emptied structure by structure, a grove felled over weeks). Each
gives the truth its onset (first day anything changed) and completion (first day the
change was whole).

Fields added after the first simulator (``build_days``, ``stages``, ``end``,
``material`` of a runway extension, ``remains``) default to the original behaviour and are
only written to a basic truth file when they differ from their defaults, so the original
scenarios keep their truth files byte for byte.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar, Literal

from sitewatch.types import as_date

__all__ = [
    "Earthworks",
    "Evacuation",
    "Event",
    "Pad",
    "RunwayExtension",
    "VegetationLoss",
    "event_record",
    "onset_and_completion",
]


@dataclass(frozen=True)
class Pad:
    """A concrete (or gravel, or asphalt) pad, optionally after earthworks, at once or in stages.

    Parameters
    ----------
    name : str
        Identifier in the truth file.
    center_m : tuple of float
        ``(east, north)`` offset of the pad centre from the site centre, metres.
    length_m, width_m : float
        Sides of the rectangle.
    orientation_deg : float
        Direction of the long side, degrees clockwise from north.
    date : str or datetime.date
        First day the (first section of the) pad is on the ground.
    earthworks_days : int
        Days of levelling (bare, bright subsoil) before ``date``; 0 for none.
    material : str
        A material of the world: ``"concrete"``, ``"gravel"``, ``"asphalt"``, or a fresh
        variant (``"concrete_fresh"``, ``"asphalt_fresh"``) that weathers over months.
    build_days : int
        0: laid at once. Otherwise the pad is laid in ``stages`` sections along its
        length, the last ``build_days`` after ``date`` (the completion).
    stages : int
        Sections of a staged pad.
    """

    name: str
    center_m: tuple[float, float]
    length_m: float
    width_m: float
    orientation_deg: float
    date: str | dt.date
    earthworks_days: int = 0
    material: str = "concrete"
    build_days: int = 0
    stages: int = 4

    ADDED_FIELDS: ClassVar[tuple[str, ...]] = ("build_days", "stages")


@dataclass(frozen=True)
class RunwayExtension:
    """The site's runway lengthened by ``added_length_m`` on ``date``.

    Parameters
    ----------
    name : str
    added_length_m : float
    date : str or datetime.date
        First day the (first section of the) extension is paved.
    earthworks_days : int
        Days of levelling before ``date``.
    end : {"far", "near"}
        The end that grows: ``"far"`` is the one the runway's orientation points to
        (north-east in the original world).
    material : str or None
        Surface of the extension; None: the original world's ``"asphalt"``.
    build_days : int
        0: paved at once; else in ``stages`` sections outward, the last ``build_days``
        after ``date``.
    stages : int
    """

    name: str
    added_length_m: float
    date: str | dt.date
    earthworks_days: int = 0
    end: Literal["far", "near"] = "far"
    material: str | None = None
    build_days: int = 0
    stages: int = 3

    ADDED_FIELDS: ClassVar[tuple[str, ...]] = ("end", "material", "build_days", "stages")


@dataclass(frozen=True)
class Evacuation:
    """Structures of the site's compound removed one by one between ``start`` and ``end``.

    Parameters
    ----------
    name : str
    start, end : str or datetime.date
        First and last day of removals (days apart: abrupt; weeks to months: gradual).
    fraction : float
        Share of structures that go.
    remains : {"yard", "slab"}
        What a removed structure leaves: the yard's gravel, or the concrete slab it
        stood on.
    """

    name: str
    start: str | dt.date
    end: str | dt.date
    fraction: float = 0.9
    remains: Literal["yard", "slab"] = "yard"

    ADDED_FIELDS: ClassVar[tuple[str, ...]] = ("remains",)


@dataclass(frozen=True)
class Earthworks:
    """Ground levelled and cleared from ``date`` on (no pad follows)."""

    name: str
    center_m: tuple[float, float]
    length_m: float
    width_m: float
    orientation_deg: float
    date: str | dt.date

    ADDED_FIELDS: ClassVar[tuple[str, ...]] = ()


@dataclass(frozen=True)
class VegetationLoss:
    """A grove or orchard that stands from the start and is cleared for good.

    Parameters
    ----------
    name : str
    center_m : tuple of float
    length_m, width_m, orientation_deg : float
        The grove's rectangle.
    date : str or datetime.date
        First day of the clearing.
    clear_days : int
        0: felled at once; else cleared in strips until ``clear_days`` later.
    kind : {"olive", "orchard", "pine"}
        What grows there before (see :class:`~sitewatch.simulate.Grove`).
    canopy : float
        Crown cover in leaf.
    """

    name: str
    center_m: tuple[float, float]
    length_m: float
    width_m: float
    orientation_deg: float
    date: str | dt.date
    clear_days: int = 0
    kind: Literal["olive", "orchard", "pine"] = "olive"
    canopy: float = 0.45

    ADDED_FIELDS: ClassVar[tuple[str, ...]] = ()


Event = Pad | RunwayExtension | Evacuation | Earthworks | VegetationLoss


def onset_and_completion(event: Any) -> tuple[dt.date, dt.date]:
    """First day an event changed the ground, and first day the change was whole.

    Examples
    --------
    >>> onset_and_completion(Pad("p", (0, 0), 50, 40, 0, "2024-05-01", build_days=30))
    (datetime.date(2024, 5, 1), datetime.date(2024, 5, 31))
    """
    if isinstance(event, Evacuation):
        return as_date(event.start), as_date(event.end)
    day = as_date(event.date)
    span = int(getattr(event, "build_days", 0) or getattr(event, "clear_days", 0) or 0)
    return day, day + dt.timedelta(days=span)


def event_record(event: Any, *, basic: bool) -> dict[str, Any]:
    """An event as a JSON-ready record (``type`` and its fields; dates as ISO strings).

    ``basic`` leaves out fields added after the first simulator while they hold their
    defaults, as that simulator wrote them.
    """
    doc = asdict(event)
    if basic:
        defaults = {f.name: f.default for f in fields(event)}
        for name in type(event).ADDED_FIELDS:
            if doc.get(name) == defaults.get(name):
                doc.pop(name, None)
    return {
        "type": type(event).__name__,
        **{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in doc.items()},
    }
