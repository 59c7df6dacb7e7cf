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


def case_volume(case: Case, modality: str) -> Volume:
    """The case's loaded series, or for a phantom an axial LPS-aligned Volume (spacing and origin from the case)."""
    if case.volume is not None:
        return case.volume
    k, r, c = case.spacing_mm
    truth = case.truth or {}
    origin = np.array(truth.get("origin_mm", (0.0, 0.0, 0.0)), float)
    return Volume(case.voxels, pixel_spacing_mm=(r, c), slice_spacing_mm=k, modality=modality, origin_mm=origin,
                  series_instance_uid=case.patient, slices_loaded=case.voxels.shape[0],
                  photometric_interpretation="MONOCHROME1" if case.inverted else "MONOCHROME2",
                  slice_thickness_mm=truth.get("slice_thickness_mm"))
