"""The radar-only new-surface rule: darker than the ground around it, not merely darker."""

from __future__ import annotations

import datetime as dt

from sitewatch.core.sar_outline import OrbitChange, OutlineChange, PolarizationChange
from sitewatch.pipeline.radar_stage import RadarStageParams, _dark_ground, _new_surface

DAY = dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc)


def _evidence(before: float, after: float, t: float) -> OutlineChange:
    def pol(name: str, offset: float) -> PolarizationChange:
        b, a = before + offset, after + offset
        direction = "darker" if a < b - 1.0 and abs(t) >= 2 else "none"
        return PolarizationChange(name, t, a - b, b, a, direction)

    orbits = tuple(
        OrbitChange(label, rel, d, DAY, DAY, None, None, 8, 4, (pol("VV", 0.0), pol("VH", -7.0)))
        for label, rel, d in (("A014", 14, "ASCENDING"), ("D079", 79, "DESCENDING"))
    )
    return OutlineChange(40, DAY, DAY, orbits, DAY, DAY)


def test_a_pad_darker_than_its_surroundings_is_a_new_surface() -> None:
    p = RadarStageParams()
    pad = _evidence(-11.5, -15.5, -9.0)
    around = _evidence(-11.5, -11.6, -0.3)  # the ground left around the pad did not change
    assert _dark_ground(pad) and _new_surface(pad, around, p)


def test_a_field_darkening_as_a_whole_is_not() -> None:
    p = RadarStageParams()
    fragment = _evidence(-11.5, -14.5, -9.0)
    field = _evidence(-11.5, -14.0, -8.0)  # the rest of the field darkened alike (harvest, drying)
    assert _dark_ground(fragment) and not _new_surface(fragment, field, p)
    assert not _new_surface(fragment, None, p)  # no ground around to compare: no claim


def test_weak_or_double_bounce_changes_are_not() -> None:
    p = RadarStageParams()
    around = _evidence(-11.5, -11.5, 0.0)
    assert not _new_surface(_evidence(-11.5, -15.5, -4.0), around, p)  # no decisive orbit
    assert not _new_surface(_evidence(-11.5, -13.0, -9.0), around, p)  # less than a new surface darkens
    assert not _dark_ground(_evidence(-4.0, -12.0, -9.0))  # structures gone: the evacuation rule's
