"""Nodule pieces: a nodule is cut from the vessels it touches before the shape test judges it."""

from __future__ import annotations

import numpy as np
import pytest

from radview.ai.nodule_split import components, cut_pieces, split_component
from radview.ai.nodules import sphere_fill
from radview.core.volume import Volume

SPACING = np.array([1.0, 0.7, 0.7])  # slice, row, column mm
SHAPE = (80, 140, 140)


def _grid():
    return np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]


def ball(centre, radius_mm: float) -> np.ndarray:
    z, y, x = _grid()
    return sum(((g - c) * s) ** 2 for g, c, s in zip((z, y, x), centre, SPACING)) <= radius_mm**2


def tube(a, b, radius_mm: float) -> np.ndarray:
    a, b = np.asarray(a, float), np.asarray(b, float)
    points = np.stack(np.broadcast_arrays(*_grid()), axis=-1).astype(float)
    d = b - a
    t = np.clip(((points - a) * SPACING**2 @ d) / ((d * SPACING) @ (d * SPACING)), 0, 1)
    nearest = a + t[..., None] * d
    return np.linalg.norm((points - nearest) * SPACING, axis=-1) <= radius_mm


@pytest.fixture(scope="module")
def volume() -> Volume:
    return Volume(np.zeros(SHAPE, np.int16), pixel_spacing_mm=(0.7, 0.7), slice_spacing_mm=1.0)


def test_a_26_mm_nodule_with_vessels_running_into_it_is_kept_whole_and_measured(volume):
    centre = (40, 70, 70)
    nodule = ball(centre, 13)
    merged = nodule | tube(centre, (40, 5, 130), 1.5) | tube(centre, (5, 70, 10), 1.5) | tube(centre, (75, 130, 70), 1.5)
    assert sphere_fill(merged, volume) < 0.3, "as one component it looks like a vessel: the old miss"
    [piece] = split_component(merged, tuple(SPACING), 2.0)
    assert piece.distinct() and abs(int(piece.mask.sum()) - int(nodule.sum())) < 0.02 * nodule.sum()
    assert sphere_fill(piece.mask, volume) > 0.5


def test_a_nodule_touching_a_thick_vessel_is_cut_from_it(volume):
    nodule = ball((40, 40, 40), 7)  # 14 mm on a 6 mm vessel: well over the card's neck ratio
    merged = nodule | tube((40, 40, 40), (40, 130, 130), 3.0)
    pieces = sorted(split_component(merged, tuple(SPACING), 2.0), key=lambda p: p.mask.sum())
    assert len(pieces) == 2
    blob, vessel = pieces
    assert blob.distinct() and (blob.mask & nodule).sum() > 0.85 * nodule.sum() and sphere_fill(blob.mask, volume) > 0.5
    assert not vessel.distinct(), "a stretch of vessel is no thicker than its necks: never a candidate"


def test_lobulated_nodules_small_nodules_and_thin_vessels_stay_one_piece():
    lobulated = ball((40, 70, 70), 10) | ball((40, 82, 70), 6) | ball((40, 60, 78), 5)
    assert len(split_component(lobulated, tuple(SPACING), 2.0)) == 1
    assert len(split_component(ball((40, 40, 40), 1.8), tuple(SPACING), 2.0)) == 1
    assert len(split_component(tube((10, 10, 10), (70, 130, 130), 1.5), tuple(SPACING), 2.0)) == 1


def test_cut_pieces_keep_their_place_in_the_volume():
    nodule = ball((40, 40, 40), 7)
    mask = nodule | tube((40, 40, 40), (40, 130, 130), 3.0) | ball((70, 110, 30), 3)
    found = list(components(mask))
    assert len(found) == 2
    box, component = max(found, key=lambda f: f[1].sum())
    [(piece_box, piece)] = list(cut_pieces(box, component, tuple(SPACING), 2.0))
    rebuilt = np.zeros(SHAPE, bool)
    rebuilt[piece_box] = piece.mask
    assert (rebuilt & nodule).sum() > 0.85 * nodule.sum() and not (rebuilt & ~mask).any()


def test_a_vessel_bifurcation_is_never_cut_into_a_candidate():
    fork = (40, 70, 70)
    tree = tube((5, 70, 70), fork, 3.0) | tube(fork, (75, 20, 70), 2.6) | tube(fork, (75, 120, 70), 2.6)
    box, component = next(components(tree))
    assert list(cut_pieces(box, component, tuple(SPACING), 2.0)) == []
