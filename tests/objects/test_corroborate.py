"""The radar rules per change type, the confidence adjustment and radar-only typing (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from sitewatch.core.sar_outline import OrbitChange, OutlineChange, PolarizationChange
from sitewatch.objects.corroborate import (
    SarCorroboration,
    corroborate,
    radar_change_type,
    sar_adjusted_confidence,
)

T0, T1 = dt.datetime(2024, 5, 1, 3), dt.datetime(2024, 5, 13, 3)


def _evidence(vv: float, vh: float, *, before_vv: float = -12.0, orbits: int = 2) -> OutlineChange:
    def pol(name: str, delta: float, before: float) -> PolarizationChange:
        t = 4.0 * delta
        d = "brighter" if t >= 3 else "darker" if t <= -3 else "none"
        return PolarizationChange(name, t, delta, before, before + delta, d)  # type: ignore[arg-type]

    orbit = [
        OrbitChange(
            f"D{79 + k:03d}",
            79 + k,
            "DESCENDING",
            T0,
            T1,
            T0,
            T1,
            8,
            4,
            (pol("VV", vv, before_vv), pol("VH", vh, before_vv - 7)),
        )
        for k in range(orbits)
    ]
    return OutlineChange(40, T0, T1, tuple(orbit), T0, T1)


@pytest.mark.parametrize(
    ("change_type", "vv", "vh", "verdict"),
    [
        ("new_pad", -4.0, -3.5, "consistent"),
        ("new_pad", 3.0, 2.0, "inconsistent"),
        ("new_pad", 0.1, 0.0, "inconsistent"),
        ("evacuation", -8.0, -5.0, "consistent"),
        ("evacuation", 2.0, 1.5, "inconsistent"),
        ("runway_change", -4.0, -4.0, "consistent"),
        ("earthworks", 2.0, 1.0, "consistent"),
        ("earthworks", -2.0, -1.0, "consistent"),
        ("earthworks", 0.0, 0.1, "inconsistent"),
        ("other", 0.0, 0.0, "inconsistent"),
    ],
)
def test_rules_per_change_type(change_type, vv, vh, verdict):
    c = corroborate(change_type, _evidence(vv, vh))
    assert c.verdict == verdict
    assert c.rule  # spelt out
    assert c.radar_before == T0.date() and c.radar_after == T1.date()


def test_resurfacing_accepts_no_change_and_no_data_is_said():
    assert corroborate("runway_change", _evidence(0.0, 0.0), detail="resurfacing").verdict == "consistent"
    assert corroborate("new_pad", _evidence(-4, -4, orbits=0)).verdict == "no_radar_data"


def test_round_trip_and_confidence():
    c = corroborate("new_pad", _evidence(-4.0, -3.0))
    back = SarCorroboration.from_properties(c.as_properties())
    assert back.verdict == c.verdict and back.direction("VV") == "darker"
    assert back.radar_first_changed == c.radar_first_changed
    assert sar_adjusted_confidence(0.5, c) > 0.5
    assert sar_adjusted_confidence(0.5, corroborate("new_pad", _evidence(3, 3))) < 0.5
    assert sar_adjusted_confidence(0.5, None) == 0.5


def test_radar_only_typing():
    assert radar_change_type(_evidence(-9.0, -6.0, before_vv=-4.0))[0] == "evacuation"
    assert radar_change_type(_evidence(-4.0, -4.0))[0] == "new_pad"
    assert radar_change_type(_evidence(-4.0, -4.0), elongation=8.0)[:2] == ("other", "dark_strip")
    assert radar_change_type(_evidence(4.0, 3.0))[:2] == ("other", "brighter")
