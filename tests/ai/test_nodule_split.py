"""Nodule pieces and candidates: a nodule is cut from the vessels it touches; each piece carries
what the false-positive reduction reads."""

from __future__ import annotations

import numpy as np
import pytest

from radview.ai.nodule_candidates import FEATURES, nodule_candidates, sphere_fill
from radview.ai.nodule_split import split_component
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
    assert abs(int(piece.mask.sum()) - int(nodule.sum())) < 0.02 * nodule.sum()
    assert sphere_fill(piece.mask, volume) > 0.5


def test_a_nodule_touching_a_thick_vessel_is_cut_from_it(volume):
    nodule = ball((40, 40, 40), 7)  # 14 mm on a 6 mm vessel: well over the card's neck ratio
    merged = nodule | tube((40, 40, 40), (40, 130, 130), 3.0)
    pieces = sorted(split_component(merged, tuple(SPACING), 2.0), key=lambda p: p.mask.sum())
    assert len(pieces) == 2
    blob, vessel = pieces
    assert blob.neck_ratio >= 2.2 and (blob.mask & nodule).sum() > 0.85 * nodule.sum() and sphere_fill(blob.mask, volume) > 0.5
    assert vessel.neck_ratio < 1.6, "a stretch of vessel is no thicker than its necks"


def test_lobulated_nodules_small_nodules_and_thin_vessels_stay_one_piece():
    lobulated = ball((40, 70, 70), 10) | ball((40, 82, 70), 6) | ball((40, 60, 78), 5)
    assert len(split_component(lobulated, tuple(SPACING), 2.0)) == 1
    assert len(split_component(ball((40, 40, 40), 1.8), tuple(SPACING), 2.0)) == 1
    assert len(split_component(tube((10, 10, 10), (70, 130, 130), 1.5), tuple(SPACING), 2.0)) == 1


def _network_output(nodule_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels (lung everywhere, nodule on the mask) and a nodule probability of 0.9 on it."""
    labels = np.ones(SHAPE, np.uint8)
    labels[nodule_mask] = 2
    return labels, np.where(nodule_mask, 0.9, 0.95).astype(np.float16)


def _feature(candidate, name: str) -> float:
    return float(candidate.features[FEATURES.index(name)])


def test_candidates_keep_their_place_in_the_volume_and_say_what_was_cut(volume):
    nodule = ball((40, 40, 40), 7)
    small = ball((70, 110, 30), 3)
    mask = nodule | tube((40, 40, 40), (40, 130, 130), 3.0) | small
    found = nodule_candidates(volume, *_network_output(mask), min_sphere_fill=0.3, opening_mm=2.0)
    placed = []
    for candidate in found:
        rebuilt = np.zeros(SHAPE, bool)
        rebuilt[candidate.box] = candidate.mask
        assert not (rebuilt & ~mask).any()
        placed.append(rebuilt)
    on_nodule = [c for c, r in zip(found, placed) if (r & nodule).sum() > 0.85 * nodule.sum()]
    on_small = [c for c, r in zip(found, placed) if (r & small).sum() == small.sum()]
    assert len(on_nodule) == 1 and len(on_small) == 1
    assert _feature(on_nodule[0], "cut") == 1 and _feature(on_nodule[0], "neck_ratio") >= 2.2
    assert _feature(on_nodule[0], "thickness_mm") == pytest.approx(7, abs=0.8)
    assert _feature(on_small[0], "cut") == 0, "a round component passes whole"
    assert _feature(on_small[0], "mean_probability") == pytest.approx(0.9, abs=1e-3)


def test_a_vessel_bifurcation_gives_only_thin_or_necked_candidates(volume):
    fork = (40, 70, 70)
    tree = tube((5, 70, 70), fork, 3.0) | tube(fork, (75, 20, 70), 2.6) | tube(fork, (75, 120, 70), 2.6)
    found = nodule_candidates(volume, *_network_output(tree), min_sphere_fill=0.3, opening_mm=2.0)
    assert found and all(_feature(c, "neck_ratio") < 1.6 for c in found), \
        "no piece of a vessel tree is much thicker than its necks: that is for the scorer to read"


def test_candidates_touching_the_chest_wall_say_so(volume):
    labels = np.ones(SHAPE, np.uint8)
    labels[:, :, :30] = 0  # the chest wall
    nodule = ball((40, 70, 34), 6) & (labels == 1)
    labels[nodule] = 2
    [candidate] = nodule_candidates(volume, labels, np.full(SHAPE, 0.9, np.float16), 0.3, 2.0)
    assert _feature(candidate, "outside_lung_share") > 0.1
    isolated = ball((40, 70, 90), 6)
    [free] = nodule_candidates(volume, *_network_output(isolated), 0.3, 2.0)
    assert _feature(free, "outside_lung_share") == 0
