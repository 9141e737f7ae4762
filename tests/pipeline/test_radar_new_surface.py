"""The radar-only new-surface rule: its own darkening, more than the ground around it, not merely darker."""

from __future__ import annotations

import datetime as dt

from sitewatch.core.sar_outline import OrbitChange, OutlineChange, PolarizationChange
from sitewatch.objects.corroborate import own_darkening
from sitewatch.pipeline.radar_stage import _structures_gone

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
    pad = _evidence(-11.5, -15.5, -9.0)
    around = _evidence(-11.5, -11.6, -0.3)  # the ground left around the pad did not change
    assert own_darkening(pad, around)


def test_a_gravel_pad_darkening_by_little_still_counts_when_the_ground_around_does_not() -> None:
    """Gravel is rough at C-band: 1.5 dB, not several; what matters is that it is the outline's own."""
    assert own_darkening(_evidence(-11.5, -13.0, -7.0), _evidence(-11.5, -11.5, 0.0))


def test_a_field_darkening_as_a_whole_is_not() -> None:
    fragment = _evidence(-11.5, -14.5, -9.0)
    field = _evidence(-11.5, -14.0, -8.0)  # the rest of the field darkened alike (harvest, drying)
    assert not own_darkening(fragment, field)
    assert not own_darkening(fragment, None)  # no ground around to compare: no claim


def test_double_bounce_losses_are_the_evacuation_rules() -> None:
    around = _evidence(-11.5, -11.5, 0.0)
    gone = _evidence(-4.0, -12.0, -9.0)
    assert not own_darkening(gone, around) and _structures_gone(gone, around)
    assert not _structures_gone(_evidence(-11.5, -15.5, -9.0), around)  # dark ground before: no structures
    # bright before, but so is all the ground around it (rough or wet ground): no structures
    assert not _structures_gone(gone, _evidence(-5.0, -12.5, -9.0))
