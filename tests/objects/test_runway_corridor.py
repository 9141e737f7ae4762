"""Runways found relative to the site, and extensions told apart from the field beside them.

Two failures of dark-soil sites: the absolute pavement prior passes a dark field too, so a
runway touching one is one blob with it and is not found; and an extension laid beside a
field ploughed at the same time is one changed object with it, typed by the blob's outline.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from odc.geo.geobox import GeoBox
from odc.geo.xr import assign_crs
from shapely.geometry import box

from sitewatch.core.history import detect_breaks
from sitewatch.core.morphology import label_uniform
from sitewatch.core.surfaces import paved_prior
from sitewatch.objects import ObjectParams, describe
from sitewatch.objects.context import EarlyContext, Runway, find_runways
from sitewatch.objects.continuation import runway_corridor

B = ("B02", "B03", "B04", "B08", "B11", "B12")
# dark basalt soil: flat and dark enough for the absolute pavement prior
DARK_SOIL = np.array([0.06, 0.07, 0.08, 0.105, 0.14, 0.13])
AGED_ASPHALT = np.array([0.11, 0.125, 0.14, 0.165, 0.20, 0.19])
STUBBLE = np.array([0.12, 0.15, 0.19, 0.25, 0.33, 0.27])
CONCRETE = np.array([0.24, 0.26, 0.28, 0.31, 0.33, 0.29])
NEW_ASPHALT = np.array([0.10, 0.115, 0.13, 0.155, 0.19, 0.18])  # the runway's asphalt, a little darker
FRESH_CONCRETE = np.array([0.28, 0.30, 0.32, 0.34, 0.36, 0.31])
N_Y, N_X = 60, 110
GBOX = GeoBox.from_bbox((500000, 4000000, 500000 + 10 * N_X, 4000000 + 10 * N_Y), "EPSG:32637", resolution=10)
RUNWAY = (slice(20, 25), slice(5, 60))  # 550 m x 50 m along the rows


def _early(comp: np.ndarray) -> EarlyContext:
    spec = {b: comp[i] for i, b in enumerate(B)}
    shape = comp.shape[1:]
    return EarlyContext(
        composite=comp,
        asphalt=np.zeros(shape, bool),
        built=np.zeros(shape, bool),
        roofs=np.zeros(shape, bool),
        paved=paved_prior(spec),
        bands=B,
    )


def _site(field_below_runway: bool, seed: int = 0) -> np.ndarray:
    """An early composite: stubble, the runway, and (optionally) a dark field touching it."""
    rng = np.random.default_rng(seed)
    comp = np.broadcast_to(STUBBLE[:, None, None], (6, N_Y, N_X)).copy()
    if field_below_runway:
        comp[:, 25:50, 20:50] = DARK_SOIL[:, None, None]
    comp[:, RUNWAY[0], RUNWAY[1]] = AGED_ASPHALT[:, None, None]
    comp += rng.normal(0, 0.003, comp.shape)
    return comp.astype(np.float32)


def test_label_uniform_cuts_touching_surfaces_apart_and_keeps_a_noisy_one_whole():
    rng = np.random.default_rng(0)
    v = np.concatenate([np.full((6, 20, 10), 0.1), np.full((6, 20, 10), 0.2)], axis=2)
    v += rng.normal(0, 0.002, v.shape)
    v[:, 0, 0] = np.nan
    labels, joined = label_uniform(v, np.ones((20, 20), bool), tols=(0.08, 1.0), min_pixels=9)
    assert labels.max() == 2
    assert len(np.unique(labels[1:, :10])) == 1 and len(np.unique(labels[:, 10:])) == 1
    assert labels[0, 0] == 0  # a pixel without a full spectrum is in no region
    assert joined.max() == 1  # a step below the tolerance joins
    (none,) = label_uniform(v, np.ones((20, 20), bool), tols=(0.08,), min_pixels=250)
    assert none.max() == 0
    (masked,) = label_uniform(v, np.zeros((20, 20), bool), tols=(1.0,))
    assert masked.max() == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_runway_touching_a_dark_field_is_found_by_its_uniform_surface(seed: int) -> None:
    early = _early(_site(field_below_runway=True, seed=seed))
    assert early.paved is not None and early.paved[30:45, 25:45].mean() > 0.9  # the prior takes the field
    assert not find_runways(early.paved, GBOX)  # one blob for the prior alone
    found = find_runways(early.paved, GBOX, early)
    assert len(found) == 1
    rw = found[0]
    assert rw.length_m == pytest.approx(550, rel=0.05)
    assert (rw.mask & ~np.pad(np.ones((5, 55), bool), ((20, N_Y - 25), (5, N_X - 60)))).sum() <= 10
    assert rw.spectrum is not None and rw.spectrum["B11"] == pytest.approx(0.20, abs=0.01)


def test_a_runway_alone_is_found_once_by_the_prior_and_its_regions():
    early = _early(_site(field_below_runway=False))
    assert early.paved is not None
    assert len(find_runways(early.paved, GBOX)) == 1
    assert len(find_runways(early.paved, GBOX, early)) == 1  # the same strip, not twice


def _aged_runway_on_stubble() -> tuple[Runway, np.ndarray, np.ndarray]:
    """The runway found on stubble, and the site's spectra before and (to be changed) after."""
    m = np.zeros((N_Y, N_X), bool)
    m[RUNWAY] = True
    rw = Runway(1, box(0, 0, 1, 1), m, 550.0, 50.0, 90.0, dict(zip(B, AGED_ASPHALT, strict=True)))
    before = np.broadcast_to(STUBBLE[:, None, None], (6, N_Y, N_X)).copy()
    return rw, before, before.copy()


def test_the_corridor_is_the_runway_axis_beyond_its_ends_where_pixels_became_like_it():
    rw, before, after = _aged_runway_on_stubble()
    after[:, 20:25, 60:80] = AGED_ASPHALT[:, None, None]  # an extension beyond the east end
    after[:, 30:40, 60:80] = DARK_SOIL[:, None, None]  # a field ploughed beside it
    c = runway_corridor((rw,), B, before, after, res_m=10.0)
    assert c[20:25, 60:80].all()
    assert not c[30:40, 60:80].any()  # off the axis
    assert not c[RUNWAY].any() and not c[20:25, 85:].any()  # not the runway; unchanged beyond
    assert not runway_corridor((), B, before, after, res_m=10.0).any()
    # a band the runway's spectrum lacks (NaN) is left out, not the whole corridor
    gappy = Runway(
        1, box(0, 0, 1, 1), rw.mask, 550.0, 50.0, 90.0, {**(rw.spectrum or {}), "B12": float("nan")}
    )
    assert runway_corridor((gappy,), B, before, after, res_m=10.0)[20:25, 60:80].all()


def test_a_field_ploughed_dark_across_a_dark_runways_axis_is_not_its_extension():
    # dark soil comes nearer an aged-asphalt runway than the stubble it replaced did, but it is
    # nearer still to the site's own soil
    rw, before, after = _aged_runway_on_stubble()
    after[:, 15:30, 60:100] = DARK_SOIL[:, None, None]  # ploughed, across the axis
    after[:, 20:25, 60:80] = NEW_ASPHALT[:, None, None]  # the extension
    soil = dict(zip(B, DARK_SOIL, strict=True))
    c = runway_corridor((rw,), B, before, after, res_m=10.0, grounds=(soil,))
    assert c[20:25, 60:80].all()
    assert not c[:, 80:].any() and not c[15:20].any()


def _extension_beside_a_field() -> tuple[xr.DataArray, np.ndarray]:
    """A 24-date series of a dark-soil site: a concrete runway, and on date 12 a concrete extension
    beyond its east end and the stubble field beside it ploughed (to the site's dark soil),
    one changed object; the field reaches 150 m beyond the extension's end."""
    rng = np.random.default_rng(3)
    n_t = 24
    ext = (slice(20, 25), slice(60, 80))
    field = (slice(25, 45), slice(55, 95))
    frames = []
    for t in range(n_t):
        img = np.broadcast_to(DARK_SOIL[:, None, None], (6, N_Y, N_X)).copy()
        img[:, RUNWAY[0], RUNWAY[1]] = CONCRETE[:, None, None]
        img[:, field[0], field[1]] = STUBBLE[:, None, None]
        if t >= 12:
            img[:, ext[0], ext[1]] = FRESH_CONCRETE[:, None, None]
            img[:, field[0], field[1]] = DARK_SOIL[:, None, None]
        frames.append(img + rng.normal(0, 0.004, img.shape))
    data = np.stack(frames).astype(np.float32) * 10000
    times = np.array([np.datetime64("2024-03-01") + np.timedelta64(10 * i, "D") for i in range(n_t)])
    stack = xr.DataArray(
        data,
        dims=("time", "band", "y", "x"),
        coords={"time": times, "band": list(B), "y": GBOX.coords["y"].values, "x": GBOX.coords["x"].values},
    )
    return assign_crs(stack, "EPSG:32637"), np.ones((n_t, N_Y, N_X), bool)


def test_an_extension_ploughed_around_is_split_off_the_field_and_typed():
    stack, clear = _extension_beside_a_field()
    history = detect_breaks(stack, clear)
    objects = describe(history, stack, clear, params=ObjectParams())
    runway = [o for o in objects if o.change_type == "runway_change"]
    assert len(runway) == 1, [(o.change_type, o.area_m2) for o in objects]
    ext = runway[0]
    assert ext.detail == "extension" and ext.first_index == 12
    assert ext.added_length_m == pytest.approx(200, rel=0.15)
    assert ext.area_m2 == pytest.approx(100 * 100, rel=0.3)
