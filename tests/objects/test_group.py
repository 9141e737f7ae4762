"""Grouping changed pixels into objects (sitewatch.objects.group): a clearing split from works beside it."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.objects.group import split_off


def _blocks(rng: np.random.Generator, size: int = 30) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An object of a clearing (``loss``) and a patch of works touching it, at random places."""
    h = int(rng.integers(5, 9))
    w1, w2 = int(rng.integers(5, 10)), int(rng.integers(4, 9))
    r0, c0 = int(rng.integers(0, size - h)), int(rng.integers(0, size - w1 - w2))
    loss = np.zeros((size, size), bool)
    loss[r0 : r0 + h, c0 : c0 + w1] = True
    works = np.zeros((size, size), bool)
    works[r0 : r0 + h, c0 + w1 : c0 + w1 + w2] = True
    changed = (loss | works) & (rng.random((size, size)) > 0.1)  # a few pixels not confirmed
    return loss | works, changed, loss


@pytest.mark.parametrize("seed", range(5))
def test_a_clearing_touching_works_is_split_and_every_pixel_goes_to_one_part(seed):
    rng = np.random.default_rng(seed)
    mask, changed, loss = _blocks(rng)
    parts = split_off(mask, changed, loss, min_pixels=4)
    assert parts is not None
    lost, rest = parts
    assert not (lost & rest).any() and ((lost | rest) == mask).all()
    assert (lost[changed & loss]).all() and (rest[changed & ~loss]).all()


def test_scattered_losses_or_too_few_works_are_not_split():
    rng = np.random.default_rng(7)
    mask, changed, loss = _blocks(rng)
    # the loss as single pixels apart: no clearing, only noise in the history
    sparse = loss & (np.add.outer(np.arange(30), np.arange(30)) % 3 == 0) & (np.arange(30) % 3 == 0)
    assert split_off(mask, changed, sparse, min_pixels=4) is None
    # a clearing with no works beside it, or works too small for an object of their own
    assert split_off(mask & loss, changed, loss, min_pixels=4) is None
    works = mask & ~loss
    assert split_off(mask, changed, loss, min_pixels=int(works.sum()) + 1) is None


def test_a_split_part_keeps_the_outline_of_its_change():
    """Unchanged pixels of the object far from the part's change stay with the rest.

    A pad and the field it was laid on are one object whose outline runs along the field; the
    pad's part is the pad (and its edge), not every pixel nearer to it than to the field's
    changed pixels.
    """
    size = 40
    mask = np.zeros((size, size), bool)
    mask[5:35, 2:38] = True
    pad = np.zeros_like(mask)
    pad[8:14, 4:12] = True
    field = np.zeros_like(mask)
    field[25:35, 20:38] = True
    changed = pad | field
    parts = split_off(mask, changed, pad, min_pixels=4)
    assert parts is not None
    own, rest = parts
    assert not (own & rest).any() and ((own | rest) == mask).all()
    assert own[pad].all() and not own[field].any()
    rows, cols = np.nonzero(own)
    assert rows.max() - rows.min() <= 8 and cols.max() - cols.min() <= 10  # the pad and a 1 px edge


def test_a_solid_split_needs_a_group_with_an_interior():
    """Pixels a surface test passes along an edge (a line two pixels wide) are not split off."""
    mask = np.zeros((20, 20), bool)
    mask[2:18, 2:18] = True
    changed = mask.copy()
    edge = np.zeros_like(mask)
    edge[2:4, 2:14] = True  # 24 px, no pixel with all eight neighbours in it
    assert split_off(mask, changed, edge, min_pixels=6) is not None
    assert split_off(mask, changed, edge, min_pixels=6, solid=True) is None
    block = np.zeros_like(mask)
    block[5:9, 5:9] = True
    parts = split_off(mask, changed, block | edge, min_pixels=6, solid=True)
    assert parts is not None
    assert parts[0][block].all() and not parts[0][edge].any()
