"""A mask's bounding box from its projections is find_objects' box."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from radview.ai.mask_box import bounding_box


def test_the_box_is_find_objects_box():
    rng = np.random.default_rng(0)
    for shape in ((40, 64, 64), (1, 30, 50), (7, 9), (3, 4, 5, 6)):
        for density in (0.0005, 0.05, 0.9):
            mask = rng.random(shape) < density
            expected = ndimage.find_objects(mask.view(np.uint8))
            assert bounding_box(mask) == (expected[0] if expected else None)


def test_one_voxel_and_none():
    mask = np.zeros((5, 6, 7), bool)
    assert bounding_box(mask) is None
    mask[4, 0, 6] = True
    assert bounding_box(mask) == (slice(4, 5), slice(0, 1), slice(6, 7))
