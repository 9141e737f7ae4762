"""Alert assembly: stable ids, confidence parts, properties in the published schema."""

from __future__ import annotations

import datetime as dt

import shapely

from sitewatch.alerts import (
    ALERT_PROPERTIES,
    Alert,
    alert_feature,
    alert_id,
    confidence_from_parts,
    confidence_parts,
)


def test_ids_are_stable_and_discriminating():
    a = alert_id("qasrak", "new_pad", (40.512341, 36.706111), dt.date(2025, 2, 17))
    assert a == alert_id("qasrak", "new_pad", (40.512344, 36.706109), "2025-02-17")
    assert a.startswith("sw-") and len(a) == 19
    assert a != alert_id("qasrak", "earthworks", (40.512341, 36.706111), "2025-02-17")
    assert a != alert_id("qasrak", "new_pad", (40.5133, 36.706111), "2025-02-17")
    assert a != alert_id("qasrak", "new_pad", (40.512341, 36.706111), "2025-02-22")


def test_confidence_parts_are_bounded_and_ordered():
    strong = confidence_parts(
        score=12, threshold=3.5, persistence=1.0, n_clear_before=20, n_clear_after=20, shift_px=0.2
    )
    weak = confidence_parts(
        score=3.6, threshold=3.5, persistence=0.5, n_clear_before=3, n_clear_after=2, shift_px=1.5
    )
    assert set(strong) == {"magnitude", "persistence", "clear_observations", "registration"}
    for parts in (strong, weak):
        assert all(0.0 <= v <= 1.0 for v in parts.values())
    assert confidence_from_parts(strong) > 0.9 > confidence_from_parts(weak)
    assert strong["registration"] == 1.0 and weak["registration"] < 1.0


def test_feature_properties_follow_the_schema():
    alert = Alert(
        id="sw-0123456789abcdef",
        aoi="qasrak",
        change_type="new_pad",
        detail=None,
        status="confirmed",
        confidence=0.81234,
        confidence_parts={
            "magnitude": 0.9,
            "persistence": 1.0,
            "clear_observations": 0.7,
            "registration": 0.5,
        },
        last_unchanged=dt.date(2025, 2, 7),
        first_detected=dt.date(2025, 2, 17),
        area_m2=18142.04,
        length_m=193.0,
        width_m=94.0,
        orientation_deg=75.0,
        geometry=shapely.box(40.51, 36.70, 40.512, 36.701),
        evidence={
            "indices": {"before": {"ndvi": float("nan")}},
            "dates": [dt.date(2025, 2, 17)],
            "scene_ids": ["S"],
        },
        simulated=True,
    )
    feat = alert_feature(alert)
    props = feat["properties"]
    assert tuple(props) == ALERT_PROPERTIES
    assert props["first_detected"] == "2025-02-17" and props["last_unchanged"] == "2025-02-07"
    assert props["evidence"]["indices"]["before"]["ndvi"] is None
    assert props["evidence"]["dates"] == ["2025-02-17"]
    assert props["quicklook"] is None and props["simulated"] is True
    assert alert.with_quicklook("q/a.png").properties()["quicklook"] == "q/a.png"


def test_alerts_read_back_from_geojson_with_their_typed_fields():
    import datetime as dt

    import shapely

    from sitewatch.alerts import Alert, alert_feature, alert_from_feature
    from sitewatch.export import feature_collection

    alert = Alert(
        id="sw-1",
        aoi="x",
        change_type="new_pad",
        detail="after earthworks",
        status="confirmed",
        confidence=0.8,
        confidence_parts={"magnitude": 0.9},
        last_unchanged=dt.date(2025, 1, 1),
        first_detected=dt.date(2025, 2, 1),
        area_m2=9000.0,
        length_m=120.0,
        width_m=75.0,
        orientation_deg=30.0,
        geometry=shapely.box(40.0, 36.0, 40.001, 36.001),
        evidence={"reasons": ["becomes concrete-like"]},
        after_earthworks=True,
        earthworks_first_detected=dt.date(2025, 1, 10),
    )
    feature = feature_collection([alert_feature(alert)])["features"][0]
    # the typed fields are written where the GeoJSON always had them: in evidence
    assert feature["properties"]["evidence"]["earthworks_first_detected"] == "2025-01-10"
    assert feature["properties"]["evidence"]["after_earthworks"] is True
    back = alert_from_feature(feature)
    assert back.after_earthworks is True and back.earthworks_first_detected == dt.date(2025, 1, 10)
    assert back.fraction_affected is None and back.evidence == {"reasons": ["becomes concrete-like"]}
    assert back.properties() == alert.properties()
