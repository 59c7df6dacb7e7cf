"""A radiograph resampled to the model's 0.7 mm grid keeps every pixel's position, and a label
map made on that grid comes back to the detector's pixels in the same place and size."""

from __future__ import annotations

import numpy as np
import pytest

from radview.ai.card_grid import labels_on_volume, on_card_grid
from radview.ai.registry import find_models
from radview.core.volume import Volume


@pytest.fixture(scope="module")
def radiograph_card():
    found, _ = find_models()
    return next(c for c in found if c.id == "cxr-nodule")


def _radiograph(spacing_mm: float, size: int, disc_centre_rc: tuple[float, float], disc_radius_mm: float) -> Volume:
    rows, cols = np.mgrid[:size, :size]
    distance_mm = np.hypot(rows - disc_centre_rc[0], cols - disc_centre_rc[1]) * spacing_mm
    voxels = np.where(distance_mm <= disc_radius_mm, 3000, 500).astype(np.uint16)[None]
    return Volume(voxels, (spacing_mm, spacing_mm), origin_mm=np.array([12.0, -40.0, 0.0]), modality="DX",
                  has_patient_geometry=False, pixel_spacing_source="ImagerPixelSpacing")


def _centre_mm(volume: Volume, mask: np.ndarray) -> np.ndarray:
    return volume.voxel_to_patient_mm(np.argwhere(mask).mean(axis=0))


def test_the_grid_keeps_each_pixels_patient_position(radiograph_card):
    detector = _radiograph(0.175, 1200, (401.3, 777.8), 15.0)
    grid = on_card_grid(radiograph_card, detector)
    assert grid.pixel_spacing_mm == pytest.approx((0.7, 0.7))
    assert grid.shape == (1, 300, 300)
    bright = _centre_mm(grid, grid.voxels > 1750)
    assert np.linalg.norm(bright - _centre_mm(detector, detector.voxels > 1750)) <= 0.2
    assert detector.voxels.dtype == np.uint16 and detector.voxels.max() == 3000  # the source is untouched


def test_a_label_on_the_grid_comes_back_in_place_and_size(radiograph_card):
    detector = _radiograph(0.175, 1200, (650.0, 300.0), 10.0)
    grid = on_card_grid(radiograph_card, detector)
    labels = np.zeros(grid.shape, np.uint8)
    labels[grid.voxels > 1750] = 2
    labels[0, 10:14, 250:256] = 1  # a second, small region near the edge
    back = labels_on_volume(labels, grid, detector)
    assert back.shape == detector.shape and back.dtype == np.uint8
    for label in (1, 2):
        on_grid, on_detector = labels == label, back == label
        assert np.linalg.norm(_centre_mm(grid, on_grid) - _centre_mm(detector, on_detector)) <= 0.1
        area_grid = on_grid.sum() * 0.7 * 0.7
        assert on_detector.sum() * 0.175 * 0.175 == pytest.approx(area_grid, rel=0.02)
    assert set(np.unique(back)) == {0, 1, 2}


def test_an_image_within_five_percent_of_the_cards_spacing_is_used_as_it_is(radiograph_card):
    near = _radiograph(0.72, 500, (250.0, 250.0), 20.0)
    assert on_card_grid(radiograph_card, near) is near
    labels = np.zeros(near.shape, np.uint8)
    assert labels_on_volume(labels, near, near) is labels
