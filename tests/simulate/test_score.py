"""score_alerts and summarize_scores on a full truth: lateness, sizes, false key and stray alerts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import shapely
from shapely.geometry import mapping, shape

from sitewatch.simulate import (
    Climate,
    Evacuation,
    Farmland,
    Pad,
    RunwayExtension,
    World,
    score_alerts,
    simulate_site,
)
from sitewatch.simulate.score import revisit_error, summarize_scores

WORLD = World(truth_detail="full", farmland=Farmland(management=True), climate=Climate(sun_shadows=True))


@pytest.fixture(scope="module")
def truth(tmp_path_factory: pytest.TempPathFactory) -> dict:
    site = simulate_site(
        tmp_path_factory.mktemp("score"),
        start="2024-03-01",
        end="2024-09-30",
        size_px=64,
        revisit_days=10,
        seed=4,
        runway_length_m=300.0,
        events=[
            Pad("pad", (120.0, 150.0), 90.0, 50.0, 20.0, "2024-05-01", build_days=30, stages=2),
            RunwayExtension("rw", 80.0, "2024-06-01"),
            Evacuation("ev", "2024-05-10", "2024-07-20", fraction=0.6),
        ],
        world=WORLD,
    )
    return site.truth


def feature(geom, **props) -> dict:
    return {"type": "Feature", "geometry": mapping(geom), "properties": props}


def event(truth: dict, name: str) -> dict:
    return next(f for f in truth["features"] if f["properties"]["name"] == name)


def test_found_events_are_dated_in_days_and_clear_revisits_and_sized_by_their_type(truth):
    pad, rw, ev = event(truth, "pad"), event(truth, "rw"), event(truth, "ev")
    clear = pad["properties"]["clear_dates"]
    second_clear = [d for d in clear if d >= "2024-05-01"][1]
    alerts = {
        "features": [
            feature(
                shape(pad["geometry"]),
                id="a",
                change_type="new_pad",
                first_detected=second_clear,
                area_m2=4500 * 1.1,
                completed="2024-06-05",
            ),
            feature(
                shape(rw["geometry"]),
                id="b",
                change_type="runway_change",
                first_detected="2024-06-10",
                area_m2=3000,
                evidence={"added_length_m": 72.0},
            ),
            feature(
                shape(ev["geometry"]).buffer(-0.0003),
                id="c",
                change_type="other",
                first_detected="2024-07-01",
                evidence={"fraction_affected": 0.5},
            ),
        ]
    }
    score = score_alerts(alerts, truth)
    by = {e["name"]: e for e in score["events"]}
    assert (
        by["pad"]["revisits_late"] == 1
        and by["pad"]["date_error_days"] == (dt.date.fromisoformat(second_clear) - dt.date(2024, 5, 1)).days
    )
    assert by["pad"]["size_error"] == pytest.approx(0.1, abs=0.01)
    assert by["pad"]["completion_error_days"] == 5  # completed 2024-05-31
    assert by["rw"]["size_error"] == pytest.approx(0.1)  # the added length, not the area
    assert by["ev"]["found"] and not by["ev"]["type_ok"]
    assert by["ev"]["size_error"] == pytest.approx(abs(0.5 - ev["properties"]["fraction_affected"]), abs=1e-3)
    assert score["n_false"] == 0 and score["years"] == pytest.approx(0.58, abs=0.01)


def test_alerts_matching_nothing_are_false_key_or_stray_and_put_down_to_what_they_lie_on(truth):
    harvests = [f for f in truth["features"] if f["properties"]["change_type"] == "field_harvest"]
    field = max(harvests, key=lambda f: shape(f["geometry"]).area)
    harvest_day = dt.date.fromisoformat(field["properties"]["date"])
    on_field = shape(field["geometry"]).representative_point().buffer(0.0004)
    far = shapely.box(0, 0, 0.001, 0.001)
    alerts = {
        "features": [
            feature(on_field, id="x", change_type="other", first_detected=str(harvest_day + dt.timedelta(6))),
            feature(far, id="y", change_type="new_pad", first_detected="2024-06-01"),
        ]
    }
    score = score_alerts(alerts, truth)
    assert (score["n_false"], score["n_false_key"], score["n_stray_other"]) == (2, 1, 1)
    on = {f["id"]: f["on"] for f in score["false_alerts"]}
    assert on["x"] in ("field harvest", "field burning")  # a stubble burning may follow within days
    assert on["y"] is None
    pooled = summarize_scores([score, score])
    assert pooled["false_key"] == 2 and pooled["stray_other"] == 2
    assert pooled["types"]["new_pad"].alerts == 2 and pooled["types"]["new_pad"].precision == 0
    assert pooled["types"]["new_pad"].recall == 0 and pooled["types"]["evacuation"].events == 2


def test_revisit_error_counts_clear_scenes_only():
    clear = ["2024-01-01", "2024-01-11", "2024-02-10", "2024-02-20"]
    assert revisit_error("2024-01-05", "2024-01-11", clear) == 0
    assert revisit_error("2024-01-05", "2024-02-20", clear) == 2
    assert revisit_error("2024-01-05", "2024-01-03", clear) == -1
    assert revisit_error("2024-01-05", None, clear) is None


def test_the_original_truth_scores_as_it_always_did(tmp_path: Path):
    site = simulate_site(
        tmp_path,
        start="2024-03-01",
        end="2024-06-30",
        size_px=48,
        revisit_days=10,
        seed=1,
        base=False,
        events=[Pad("pad", (0.0, 0.0), 80.0, 50.0, 10.0, "2024-05-01")],
    )
    pad = event(site.truth, "pad")
    found = feature(shape(pad["geometry"]), id="a", change_type="new_pad", first_detected="2024-05-04")
    alerts = {"features": [found]}
    score = score_alerts(alerts, site.truth)
    assert score["events"][0]["date_error_days"] == 3 and "revisits_late" not in score["events"][0]
    assert (score["recall"], score["type_accuracy"], score["n_false"]) == (1.0, 1.0, 0)
    # the basic truth has no clear dates of its own: a caller may pass them (the bench reads the SCL)
    late = score_alerts(alerts, site.truth, clear_dates={"pad": ["2024-05-02", "2024-05-12"]})
    assert late["events"][0]["revisits_late"] == 1
