"""Training and test data: RadView's synthetic phantoms (by seed), or a site's labelled series.

A sample is one 2D network input (channels, H, W) float32 with its label map (H, W) int64.
Samples keep the id of the patient (phantom seed) they come from, so splits are by patient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np



@dataclass
class Case:
    """One patient's image with its reference labels on the same grid."""

    patient: str
    voxels: np.ndarray  # (slices, rows, cols)
    labels: np.ndarray  # (slices, rows, cols) uint8, the card's output values
    spacing_mm: tuple[float, float, float]
    inverted: bool = False
    truth: dict | None = None  # the phantom's ground truth (nodule list etc.), if any


def phantom_case(model_id: str, seed: int) -> Case:
    """The synthetic phantom of `seed` for a shipped model, labels mapped to the card's values."""
    if model_id == "mr-brain-tumor":
        from radview.demo.brain_mr import make_brain_mr

        mr = make_brain_mr(seed)
        labels = (mr.labels > 0).astype(np.uint8)  # tumour = core + oedema
        return Case(f"phantom-{seed}", mr.pixels, labels, (mr.slice_spacing_mm, mr.pixel_spacing_mm, mr.pixel_spacing_mm),
                    truth=mr.ground_truth())
    raise ValueError(f"no phantom generator for model '{model_id}'")

