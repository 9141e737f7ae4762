"""Grouping changed pixels into objects (sitewatch.objects.group): a clearing split from works beside it."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.objects.group import split_loss


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
    parts = split_loss(mask, changed, loss, min_pixels=4)
    assert parts is not None
    lost, rest = parts
    assert not (lost & rest).any() and ((lost | rest) == mask).all()
    assert (lost[changed & loss]).all() and (rest[changed & ~loss]).all()


def test_scattered_losses_or_too_few_works_are_not_split():
    rng = np.random.default_rng(7)
    mask, changed, loss = _blocks(rng)
    # the loss as single pixels apart: no clearing, only noise in the history
    sparse = loss & (np.add.outer(np.arange(30), np.arange(30)) % 3 == 0) & (np.arange(30) % 3 == 0)
    assert split_loss(mask, changed, sparse, min_pixels=4) is None
    # a clearing with no works beside it, or works too small for an object of their own
    assert split_loss(mask & loss, changed, loss, min_pixels=4) is None
    works = mask & ~loss
    assert split_loss(mask, changed, loss, min_pixels=int(works.sum()) + 1) is None
