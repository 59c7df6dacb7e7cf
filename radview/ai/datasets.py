"""Training and test cases: an image with its reference labels (made in radview.workflow.training_data).

A sample is one 2D network input (channels, H, W) float32 with its label map (H, W) int64.
Samples keep the id of the patient (phantom seed) they come from, so splits are by patient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radview.core.volume import Volume

CXR_GRID_PX = 512  # radiographs are resampled to this many pixels across for the cxr-nodule model


@dataclass
class Case:
    """One patient's image with its reference labels on the same grid."""

    patient: str
    voxels: np.ndarray  # (slices, rows, cols)
    labels: np.ndarray  # (slices, rows, cols) uint8, the card's output values
    spacing_mm: tuple[float, float, float]
    inverted: bool = False
    truth: dict | None = None  # reference findings: {"nodules": [{"centre_mm", "diameter_mm"}], ...}
    volume: Volume | None = None  # the loaded series of a site case (its real geometry)


def recipe_seeds(recipe: dict, part: str) -> list[int]:
    """The phantom seeds of one part ("train", "validation", "test") of a recipe: an explicit
    list `<part>_seeds`, extended by a half-open range `<part>_seed_range`."""
    seeds = list(recipe.get(f"{part}_seeds", []))
    if f"{part}_seed_range" in recipe:
        seeds += list(range(*recipe[f"{part}_seed_range"]))
    return seeds
