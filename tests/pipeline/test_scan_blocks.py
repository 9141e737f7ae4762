"""Scans block by block (``chunk_px``) give the in-memory scan's alerts, objects across blocks included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sitewatch
from sitewatch.errors import ConfigError
from sitewatch.simulate import Evacuation, Pad, RunwayExtension, score_alerts, simulate_site

EVENTS = [
    Pad("pad", (-300.0, 350.0), 120.0, 70.0, 30.0, "2024-12-20"),
    RunwayExtension("rw", 200.0, "2025-01-10"),
    Evacuation("ev", "2024-12-01", "2024-12-25", fraction=0.9),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("chunked")
    return simulate_site(
        out, start="2024-10-01", end="2025-02-28", size_px=120, revisit_days=6, seed=3, events=EVENTS
    )


@pytest.fixture(scope="module")
def both(site):
    source = f"local:{site.scenes_dir}"
    eager = sitewatch.scan(site.aoi, source, start="2024-10-01", end="2025-02-28")
    # 48 px blocks: every object of this site crosses a block edge
    blocks = sitewatch.scan(
        site.aoi,
        source,
        start="2024-10-01",
        end="2025-02-28",
        execution=sitewatch.ExecutionOptions(chunk_px=48),
    )
    return eager, blocks


@pytest.mark.e2e
def test_blocks_give_the_in_memory_alerts(both):
    eager, blocks = both
    assert blocks.stack is not None and blocks.stack.chunks is not None  # read lazily, block by block
    assert blocks.history is not None and blocks.history["changed"].chunks is not None
    assert [u["shift_px"] for u in blocks.scenes_used] == [u["shift_px"] for u in eager.scenes_used]
    assert blocks.scenes_dropped == eager.scenes_dropped
    assert [(a.id, a.change_type, a.detail) for a in blocks.alerts] == [
        (a.id, a.change_type, a.detail) for a in eager.alerts
    ]
    for a, b in zip(eager.alerts, blocks.alerts, strict=True):
        assert b.first_detected == a.first_detected and b.last_unchanged == a.last_unchanged
        assert b.area_m2 == pytest.approx(a.area_m2, rel=0.02)
        assert b.length_m == pytest.approx(a.length_m, rel=0.02)
        assert b.confidence == pytest.approx(a.confidence, abs=0.02)


@pytest.mark.e2e
def test_blocks_meet_the_truth_and_write_quicklooks(site, both, tmp_path: Path):
    _, blocks = both
    path = blocks.write(tmp_path).geojson
    fc = json.loads(path.read_text())
    score = score_alerts(fc, json.loads(site.truth_path.read_text()))
    assert all(e["found"] and e["type_ok"] for e in score["events"]), score["events"]
    assert score["n_false"] <= 1
    assert all((tmp_path / f["properties"]["quicklook"]).is_file() for f in fc["features"])
    labels = blocks.labels.values
    assert sorted(set(labels[labels > 0].tolist())) == sorted(blocks.alert_labels)


def test_chunk_px_below_16_is_refused(site):
    with pytest.raises(ConfigError, match="chunk_px"):
        sitewatch.scan(site.aoi, f"local:{site.scenes_dir}", execution=sitewatch.ExecutionOptions(chunk_px=8))


def test_windows_own_every_group_once_and_never_cut_one():
    import numpy as np

    from sitewatch.pipeline.blocks import object_windows

    changed = np.zeros((400, 3000), bool)
    changed[100:104, 50:2900] = True  # a strip longer than any window or block
    changed[300:310, 100:110] = True  # near the strip's start, but the strip's window is too big to merge
    changed[300:310, 2950:2960] = True
    groups, windows = object_windows(changed, margin_px=50, max_window_px=400)
    owned = sorted(g for w in windows for g in w.groups)
    assert owned == list(range(1, int(groups.max()) + 1))  # each group owned exactly once
    strip = groups[101, 60]
    win = next(w for w in windows if strip in w.groups)
    ys, xs, own = win.rows, win.cols, list(win.groups)
    # whole, with its margin (grouping joins pixels 6 px apart: the group is 6 px wider)
    assert (ys.start, ys.stop, xs.start, xs.stop) == (44, 160, 0, 2956) and own == [strip]
    small = np.zeros((200, 200), bool)
    small[50:55, 50:55] = small[50:55, 90:95] = small[180:185, 180:185] = True
    _, small_windows = object_windows(small, margin_px=20, max_window_px=400)
    # groups whose windows overlap share one; a far one has its own
    assert [len(w.groups) for w in small_windows] == [2, 1]
