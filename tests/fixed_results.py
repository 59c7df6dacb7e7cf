"""A fixed ct-nodule result for the review and report tests, without running the network.

The demo CT's planted nodules (its ground-truth mask) and one false positive in the lung (the
real model's result on this study has one too) go through the model's own post-processing
(radview.ai.nodules.nodule_findings), so the findings have the measurements, locations and
label map a real run gives, in a fraction of a second instead of the model's ~30 s on a CPU.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radview.ai.engine import ModelResult
from radview.ai.nodules import nodule_findings
from radview.ai.registry import find_models
from radview.core.nifti_layout import from_nifti_layout
from radview.core.volume import Volume

PLANTED_CONFIDENCE = 0.9
FALSE_POSITIVE_RADIUS_MM = 3.0


def ct_nodule_card():
    return next(card for card in find_models()[0] if card.id == "ct-nodule")


def planted_nodule_result(demo_study: Path, volume: Volume) -> ModelResult:
    """What ct-nodule would report if it found exactly the demo CT's planted nodules."""
    import nibabel as nib

    truth = demo_study / "ground-truth"
    lungs = from_nifti_layout(np.asarray(nib.load(truth / "chest-ct-lungs.nii.gz").dataobj))
    nodules = from_nifti_layout(np.asarray(nib.load(truth / "chest-ct-nodules.nii.gz").dataobj))
    assert lungs.shape == volume.shape[:3], "the ground truth is on the demo CT's grid"
    labels = np.where(nodules > 0, 2, np.where(lungs > 0, 1, 0)).astype(np.uint8)
    _add_false_positive(labels, volume)
    confidence = np.where(labels == 2, PLANTED_CONFIDENCE, 0.0).astype(np.float32)
    card = ct_nodule_card()
    findings, label_map = nodule_findings(card, volume, labels, confidence)
    return ModelResult(card, findings, label_map, "cpu")


def _add_false_positive(labels: np.ndarray, volume: Volume) -> None:
    """A small sphere deep in the lung: at the point farthest from the lung's edge on the slice
    with the most lung."""
    from scipy import ndimage

    k = int(np.argmax((labels == 1).sum(axis=(1, 2))))
    inside = ndimage.distance_transform_edt(labels[k] == 1)
    row, col = np.unravel_index(int(np.argmax(inside)), inside.shape)
    spacing = np.asarray(volume.spacing_mm, float)  # (slice, row, column) mm
    reach = np.ceil(FALSE_POSITIVE_RADIUS_MM / spacing).astype(int)
    box = tuple(slice(max(c - r, 0), c + r + 1) for c, r in zip((k, row, col), reach))
    grid = np.ogrid[box]
    distance_sq = sum(((g - c) * s) ** 2 for g, c, s in zip(grid, (k, row, col), spacing))
    labels[box][distance_sq <= FALSE_POSITIVE_RADIUS_MM ** 2] = 2
