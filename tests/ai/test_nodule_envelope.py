"""Candidates from the lung's envelope: large solid nodules the network called neither lung nor
nodule (inside the lung, or on the pleura) are found; the chest wall, thin vessels and tissue the
network did label lung are not."""

from __future__ import annotations

import numpy as np

from radview.ai.nodule_candidates import FEATURES, nodule_candidates
from radview.ai.nodule_envelope import envelope_regions
from radview.core.volume import Volume

SPACING = np.array([1.25, 0.7, 0.7])  # slice, row, column mm
SHAPE = (64, 200, 200)
SOLID_HU = -300.0


def _distance_mm(centre) -> np.ndarray:
    z, y, x = np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    return np.sqrt(sum(((g - c) * s) ** 2 for g, c, s in zip((z, y, x), centre, SPACING)))


def _chest() -> tuple[np.ndarray, np.ndarray]:
    """(HU, network labels) of a chest with one lung: an ellipsoid of air (-850 HU) in soft tissue
    (40 HU), labelled lung (1) by the 'network'."""
    z, y, x = np.ogrid[: SHAPE[0], : SHAPE[1], : SHAPE[2]]
    lung = ((z - 32) * 1.25 / 38) ** 2 + ((y - 100) * 0.7 / 55) ** 2 + ((x - 100) * 0.7 / 45) ** 2 <= 1
    hu = np.where(lung, -850, 40).astype(np.int16)
    return hu, lung.astype(np.uint8)


def _centres_mm(regions) -> list[np.ndarray]:
    return [(np.argwhere(mask).mean(axis=0) + [b.start for b in box]) * SPACING for box, mask in regions]


def test_a_solid_nodule_the_network_left_out_of_the_lung_is_found_inside_it_and_on_the_pleura():
    hu, labels = _chest()
    inside = _distance_mm((32, 100, 80)) <= 9  # an 18 mm nodule in the lung
    # a 16 mm nodule on the lateral pleura (x = 100 + 45 / 0.7 voxels is the lung's edge): a dent
    on_wall = (_distance_mm((32, 100, 100 + 39 / 0.7)) <= 8) & (labels == 1)
    for nodule in (inside, on_wall):
        hu[nodule] = 30
        labels[nodule] = 0  # the network's miss: neither lung nor nodule
    centres = _centres_mm(envelope_regions(hu, labels, tuple(SPACING), SOLID_HU))
    assert len(centres) == 2, "one candidate per nodule, none along the chest wall"
    for nodule in (inside, on_wall):
        truth = np.argwhere(nodule).mean(axis=0) * SPACING
        assert min(np.linalg.norm(c - truth) for c in centres) < 3.0


def test_nothing_is_found_where_the_network_labelled_lung_or_where_only_a_thin_vessel_is_left_out():
    hu, labels = _chest()
    vessel = (np.abs(np.arange(SHAPE[2]) - 90)[None, None, :] * 0.7 <= 1.0) & (_distance_mm((32, 100, 90)) <= 30)
    hu[vessel] = 40
    labels[vessel & (labels == 1)] = 0  # a 2 mm vessel (a sheet here) the network left out
    labelled = _distance_mm((32, 100, 120)) <= 8  # a dense nodule the network did call lung
    hu[labelled] = 30
    assert list(envelope_regions(hu, labels, tuple(SPACING), SOLID_HU)) == []


def test_envelope_candidates_are_marked_and_carry_no_network_probability():
    hu, labels = _chest()
    nodule = _distance_mm((32, 100, 80)) <= 9
    hu[nodule], labels[nodule] = 30, 0
    volume = Volume(hu, pixel_spacing_mm=(0.7, 0.7), slice_spacing_mm=1.25)
    [candidate] = nodule_candidates(volume, labels, np.zeros(SHAPE, np.float16), 0.3, 2.0)
    features = dict(zip(FEATURES, candidate.features))
    assert features["from_envelope"] == 1 and features["max_probability"] == 0
    assert abs(features["thickness_mm"] - 9) < 1.5 and features["solid_share"] == 1
