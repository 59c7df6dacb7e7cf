"""The imaged body's extent in mm: what tells a head from a chest after normalisation hides size."""

import numpy as np
import pytest

from radview.ai.body_extent import TOLERANCE, body_extent_mm, extent_limits


def _ellipses(slices: int, size: int, axes_mm: list[tuple[float, float]], spacing_mm: float,
              body: float = 600.0, air: float = 0.0) -> np.ndarray:
    """Slices of a body (an ellipse of the given full axes in mm, one per slice) in air."""
    j, i = np.mgrid[:size, :size]
    out = np.full((slices, size, size), air, np.float32)
    for k, (height, width) in enumerate(axes_mm):
        inside = ((j - size / 2) * spacing_mm / (height / 2)) ** 2 + ((i - size / 2) * spacing_mm / (width / 2)) ** 2 <= 1
        out[k][inside] = body
    return out


def test_a_head_measures_its_length_and_a_chest_its_width():
    head = _ellipses(3, 256, [(185, 150)] * 3, 0.9)
    chest = _ellipses(3, 512, [(230, 340)] * 3, 0.75)
    assert body_extent_mm(head, (0.9, 0.9), 0.0, 600.0) == pytest.approx(185, abs=2)
    assert body_extent_mm(chest, (0.75, 0.75), 0.0, 600.0) == pytest.approx(340, abs=2)


def test_noise_specks_and_thin_lines_do_not_widen_the_body():
    head = _ellipses(1, 256, [(180, 150)], 0.9)
    head[0, 3, 3] = head[0, 250, 250] = 600  # specks in the corners
    head[0, 5, :40] = 600  # a line 36 mm long but 0.9 mm thick, along the top row
    assert body_extent_mm(head, (0.9, 0.9), 0.0, 600.0) == pytest.approx(180, abs=2)


def test_the_median_over_slices_is_not_decided_by_a_few_slices_through_the_shoulders():
    axes = [(185, 150)] * 7 + [(200, 420)] * 2  # the last two slices reach the shoulders
    volume = _ellipses(9, 512, axes, 0.9)
    assert body_extent_mm(volume, (0.9, 0.9), 0.0, 600.0) == pytest.approx(185, abs=2)


def test_on_a_monochrome1_image_the_body_is_the_dark_part():
    inverted = _ellipses(1, 512, [(300, 360)], 0.7, body=500.0, air=4000.0)
    assert body_extent_mm(inverted, (0.7, 0.7), 500.0, 4000.0, inverted=True) == pytest.approx(360, abs=2)
    # read the wrong way round, the air around it would be the "body": the whole field
    assert body_extent_mm(inverted, (0.7, 0.7), 500.0, 4000.0) == pytest.approx(512 * 0.7, abs=1)


def test_the_limits_widen_the_training_range_each_way():
    low, high = extent_limits([170.0, 190.0, 180.0])
    assert low == pytest.approx(170 / TOLERANCE) and high == pytest.approx(190 * TOLERANCE)
    assert high < 300, "a chest (300 mm and more across) is outside a head model's limits"
    with pytest.raises(ValueError):
        extent_limits([])
