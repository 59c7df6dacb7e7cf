"""Candidates from the CT image's Hessian dot filter: a small nodule on a vessel is found whatever the
network labelled, with its centre on the nodule; a vessel alone, of any direction, gives nothing; a
nodule the network found whole is not found twice; a ground-glass nodule that the chest wall hides
from the filter is found by the same filter on the image with the wall set to the lung's value."""

from __future__ import annotations

import numpy as np
import pytest

from radview.ai.nodule_blobs import blob_map, blob_regions, dot_response_hu, lung_filled, symmetric_eigenvalues
from radview.ai.nodule_candidates import FEATURES, nodule_candidates
from radview.core.volume import Volume

LUNG_HU, TISSUE_HU = -850, 40


def _lung(shape, spacing) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(HU, network labels, grid in mm) of a box of lung (all labelled lung: 1)."""
    grid = [np.arange(n)[tuple(slice(None) if a == i else None for a in range(3))] * s
            for i, (n, s) in enumerate(zip(shape, spacing))]
    return np.full(shape, LUNG_HU, np.int16), np.ones(shape, np.uint8), grid


def _tube(grid, centre_mm, direction, radius_mm) -> np.ndarray:
    """A straight vessel through centre_mm along direction, running through the whole box."""
    d = np.asarray(direction, float) / np.linalg.norm(direction)
    offset = [g - c for g, c in zip(grid, centre_mm)]
    along = sum(o * di for o, di in zip(offset, d))
    return sum((o - along * di) ** 2 for o, di in zip(offset, d)) <= radius_mm**2


def _ball(grid, centre_mm, radius_mm) -> np.ndarray:
    return sum((g - c) ** 2 for g, c in zip(grid, centre_mm)) <= radius_mm**2


def _centres_mm(regions, spacing) -> list[np.ndarray]:
    return [(np.argwhere(mask).mean(axis=0) + [b.start for b in box]) * spacing for box, mask, _radius in regions]


def test_closed_form_eigenvalues_agree_with_numpy():
    rng = np.random.default_rng(0)
    matrices = rng.normal(size=(500, 3, 3)) * 100
    matrices = matrices + matrices.transpose(0, 2, 1)
    packed = matrices[:, [0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
    assert np.allclose(symmetric_eigenvalues(packed), np.linalg.eigvalsh(matrices), atol=1e-6 * 400)


def test_the_dot_response_is_for_blobs_only():
    # eigenvalues ascending: a blob (all negative), a tube (two), a plate (one)
    values = dot_response_hu(np.array([[-100.0, -90.0, -80.0], [-100.0, -90.0, 1.0], [-100.0, 2.0, 3.0]]))
    assert values[0] == pytest.approx(64.0) and values[1] == 0 and values[2] == 0


@pytest.mark.parametrize("spacing", [(1.25, 0.7, 0.7), (2.5, 0.6, 0.6), (0.625, 0.5, 0.5)])
def test_a_small_nodule_on_a_vessel_is_one_candidate_centred_on_it(spacing):
    spacing = np.array(spacing)
    shape = tuple(int(n) for n in np.round(np.array([50.0, 60.0, 60.0]) / spacing))
    hu, labels, grid = _lung(shape, spacing)
    vessel = _tube(grid, (25, 30, 30), (0.3, 0.2, 1.0), 1.5)  # a 3 mm vessel, oblique
    nodule_mm = np.array([25.0, 30.0 + 3.5, 30.0])  # a 6 mm nodule touching it
    nodule = _ball(grid, nodule_mm, 3.0)
    hu[vessel | nodule] = TISSUE_HU
    labels[vessel | nodule] = 0  # what the network made of them does not matter to this source
    blobs = blob_map(hu, labels, tuple(spacing))
    centres = _centres_mm(blob_regions(hu, labels, tuple(spacing), blobs), spacing)
    assert len(centres) == 1, "the nodule, and nothing along the vessel"
    assert np.linalg.norm(centres[0] - nodule_mm) <= 3.0, "within its radius: LUNA16's hit"


@pytest.mark.parametrize("direction", [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.5, 0.5, 0.7)])
def test_a_vessel_alone_gives_no_candidate_whatever_its_direction(direction):
    spacing = np.array([1.25, 0.7, 0.7])
    shape = (40, 70, 70)
    hu, labels, grid = _lung(shape, spacing)
    vessel = _tube(grid, (25, 24, 24), direction, 2.0)
    hu[vessel] = TISSUE_HU
    assert list(blob_regions(hu, labels, tuple(spacing), blob_map(hu, labels, tuple(spacing)))) == []


def test_blob_candidates_are_marked_and_every_candidate_carries_its_dot_response():
    spacing = np.array([1.0, 0.7, 0.7])
    hu, labels, grid = _lung((40, 60, 60), spacing)
    faint = _ball(grid, (20, 15, 15), 4.0)  # an 8 mm ground-glass nodule the network called lung
    hu[faint] = -550
    solid = _ball(grid, (20, 28, 28), 3.0)  # a 6 mm solid one it labelled nodule
    hu[solid], labels[solid] = TISSUE_HU, 2
    probability = np.where(labels == 2, 0.9, 0.8).astype(np.float16)  # lung voxels: the lung's probability
    volume = Volume(hu, pixel_spacing_mm=(0.7, 0.7), slice_spacing_mm=1.0)
    candidates = nodule_candidates(volume, labels, probability, 0.3, 2.0)
    features = [dict(zip(FEATURES, c.features)) for c in candidates]
    from_filter = [f for f in features if f["from_blob_filter"] == 1]
    from_network = [f for f in features if f["from_blob_filter"] == 0]
    assert len(from_network) == 1 and from_network[0]["blob_response_hu"] > 0.3
    # the solid nodule the network found whole is not found twice; the one it called lung is found
    [faint_one] = from_filter
    assert faint_one["mean_hu"] < -0.3
    assert faint_one["max_probability"] == 0, "the lung's probability is not a nodule probability"
    assert faint_one["solid_share"] == 0 and faint_one["blob_response_hu"] > 0.3


def test_a_ground_glass_nodule_nestled_in_the_pleura_is_found_by_the_pleural_filter():
    # a 7 mm ground-glass nodule filling a notch of lung in the chest wall: on the CT image the wall
    # curves around it on every side, so its Hessian is no blob's; with the wall set to the lung's
    # value (what the network called neither lung nor nodule) it is one
    spacing = np.array([1.25, 0.7, 0.7])
    hu, labels, grid = _lung((32, 72, 72), spacing)
    centre_mm = np.array([20.0, 25.0, 25.0])
    wall = np.broadcast_to(grid[2] >= 25.0, hu.shape) & ~_ball(grid, centre_mm, 4.0)
    hu[wall], labels[wall] = TISSUE_HU, 0
    hu[_ball(grid, centre_mm, 3.5)] = -550  # the network read it as lung
    plain = blob_map(hu, labels, tuple(spacing))
    assert list(blob_regions(hu, labels, tuple(spacing), plain)) == []
    volume = Volume(hu, pixel_spacing_mm=(0.7, 0.7), slice_spacing_mm=1.25)
    candidates = nodule_candidates(volume, labels, np.full(hu.shape, 0.8, np.float16), 0.3, 2.0)
    [found] = [c for c in candidates if dict(zip(FEATURES, c.features))["from_pleural_blob_filter"] == 1]
    assert np.linalg.norm(found.centre_voxel * spacing - centre_mm) <= 3.5, "within its radius: LUNA16's hit"
    features = dict(zip(FEATURES, found.features))
    assert features["from_blob_filter"] == 0 and features["pleural_blob_response_hu"] > 0.3


def test_the_pleural_filter_reads_the_lung_alone():
    hu = np.array([[[-850, -600, 40, 700]]], np.int16)
    labels = np.array([[[1, 1, 0, 0]]], np.uint8)
    assert lung_filled(hu, labels).tolist() == [[[-850.0, -600.0, -725.0, -725.0]]]  # the lung's median
