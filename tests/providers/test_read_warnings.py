# ruff: noqa: F811  (pytest fixtures imported from servers.py are redefined as arguments)
"""Threaded COG reads leave the warning filters as they were (issue 17, item 10).

rasterio builds the destination of every odc-stac reprojection under
``warnings.catch_warnings()`` + ``simplefilter("ignore")``; two reading threads undo each
other's swap of the process-wide filter list. One read then warns "Dataset has no
geotransform" (the assets are georeferenced) and the last thread out can leave "ignore
everything" behind, which silenced sitewatch's own warnings (an unavailable scene, in a
fetch, seen at random in the suite). :func:`racing_reads` replays that interleaving
deterministically; the real threads do it about one fetch in three.
"""

from __future__ import annotations

import datetime as dt
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest
from rasterio.errors import NotGeoreferencedWarning
from servers import SyntheticScene, s2_series, site_aoi, stac_server  # noqa: F401

from sitewatch.errors import ProviderWarning, SitewatchWarning
from sitewatch.providers import get_provider
from sitewatch.providers.network import threaded_reads

BANDS = ["B04", "B11"]
SPURIOUS = "Dataset has no geotransform, gcps, or rpcs. The identity matrix will be returned."


def racing_reads() -> None:
    """Two threads building rasterio MEM datasets in the order that breaks the filters."""
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a_in.set()
            b_in.wait(5)
        a_out.set()  # restores the list it saved while the second thread is still inside

    def second() -> None:
        a_in.wait(5)
        with warnings.catch_warnings():  # saves the first thread's "ignore everything" list
            warnings.simplefilter("ignore")
            b_in.set()
            a_out.wait(5)
            # as rasterio.warp.reproject does when its destination is not yet georeferenced
            warnings.warn_explicit(
                SPURIOUS, NotGeoreferencedWarning, "rasterio/warp.py", 387, "rasterio.warp"
            )
        # leaving last: "ignore everything" stays in place

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_racing_reads_leave_the_filters_and_hide_rasterios_spurious_warning() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        with threaded_reads():
            racing_reads()
        assert list(warnings.filters) == before
        warnings.warn("ours, after the reads", SitewatchWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == ["ours, after the reads"]


def test_nested_and_concurrent_guards_share_one_save() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        before = list(warnings.filters)
        done = threading.Barrier(3)

        def reader() -> None:
            with threaded_reads(), threaded_reads():
                racing_reads()
                done.wait(10)  # all three inside at once

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert list(warnings.filters) == before


def _provider(server: Any, tmp_path: Path) -> Any:
    return get_provider(f"stac:{server.url}#sentinel-2-l2a", cache_dir=tmp_path / "cache")


def test_a_fetch_whose_reads_race_still_warns_once_about_a_gone_scene(
    stac_server: Any, site_aoi: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import odc.stac

    real_load = odc.stac.load

    def load(*args: Any, **kwargs: Any) -> Any:
        racing_reads()  # what the reading threads of one scene may do
        return real_load(*args, **kwargs)

    monkeypatch.setattr(odc.stac, "load", load)
    gone = stac_server.items[1]["id"]
    stac_server.fail(rf"/files/{gone}/", "404", times=100000)
    provider = _provider(stac_server, tmp_path)
    assert provider.inner.fetch_threads > 1  # the scenes are read concurrently
    scenes = list(provider.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 31)))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        before = list(warnings.filters)
        stats = provider.fill(scenes, aoi=site_aoi, bands=BANDS)
        assert list(warnings.filters) == before
        warnings.warn("ours, after the fetch", SitewatchWarning, stacklevel=1)
    assert stats.scenes_unavailable == 1 and stats.scenes_fetched == len(scenes) - 1
    ours = [str(w.message) for w in seen if issubclass(w.category, ProviderWarning)]
    assert len(ours) == 1 and gone in ours[0]
    assert not [w for w in seen if issubclass(w.category, NotGeoreferencedWarning)]
    assert "ours, after the fetch" in [str(w.message) for w in seen]


def test_real_threaded_loads_never_warn_about_a_geotransform(
    stac_server: Any, site_aoi: Any, tmp_path: Path
) -> None:
    # the race is real (odc-stac reads the assets of a scene in threads): about one load in three
    # warned or left the filters changed before the guard
    for attempt in range(4):
        provider = _provider(stac_server, tmp_path / str(attempt))
        scenes = list(provider.search(site_aoi, dt.date(2024, 5, 1), dt.date(2024, 5, 31)))
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            before = list(warnings.filters)
            provider.load(scenes, aoi=site_aoi, bands=["B02", "B8A", "B11", "B12", "SCL"])
            assert list(warnings.filters) == before
        assert not [w for w in seen if "geotransform" in str(w.message)]
