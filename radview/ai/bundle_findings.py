"""Findings from an imported bundle's output, on the series' own grid and in patient millimetres.

Segmentation: each output label's connected components of at least the card's min_volume_ml,
with volume (mL), longest diameter (mm) and the mean probability inside as confidence.
Detection: each box scoring at least the card's min_score, as a nodule finding with its centre,
its axial long and short axes and craniocaudal extent (mm) and the score; the mask draws the
ellipsoid inside the box so the reader sees where it is (the detector gives no outline).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from radview.ai.card import ModelCard
from radview.ai.postprocess import longest_diameter_mm, model_finding
from radview.core.findings import Finding
from radview.core.volume import Volume

MAX_FINDINGS = 250
RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0])


def segmentation_findings(card: ModelCard, volume: Volume, labels: np.ndarray,
                          confidence: np.ndarray) -> tuple[list[Finding], np.ndarray]:
    """labels (slices, rows, cols) of output values -> findings and a map with finding i as label i."""
    voxel_ml = float(np.prod(volume.spacing_mm)) / 1000.0
    minimum = card.thresholds.get("min_volume_ml", 0.0)
    out = np.zeros(labels.shape, np.uint8)
    findings: list[Finding] = []
    for output in card.outputs:
        components, count = ndimage.label(labels == output.value)
        if not count:
            continue
        sizes = np.bincount(components.ravel(), minlength=count + 1)[1:]
        boxes = ndimage.find_objects(components)
        for n in np.argsort(sizes)[::-1]:
            if sizes[n] * voxel_ml < minimum or len(findings) >= MAX_FINDINGS:
                break  # sorted largest first: the rest are smaller
            box = boxes[n]
            component = components[box] == n + 1
            centre_voxel = (np.argwhere(component) + [s.start for s in box]).mean(axis=0)
            label = len(findings) + 1
            out[box][component] = label
            findings.append(model_finding(
                card, volume, output.value, label, centre_voxel,
                float(confidence[box][component].astype(np.float32).mean()),
                {"volume_ml": round(float(sizes[n]) * voxel_ml, 2),
                 "longest_diameter_mm": round(longest_diameter_mm(component, volume), 1)}, {}))
    return findings, out


def _box_in_patient(box: np.ndarray, affine_ras: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centre LPS mm, extent (3,) mm along LPS x, y, z) of an xyzxyz box in the network image's voxels."""
    corners = np.array([[box[i], box[j], box[k]] for i in (0, 3) for j in (1, 4) for k in (2, 5)], float)
    lps = (corners @ affine_ras[:3, :3].T + affine_ras[:3, 3]) @ RAS_TO_LPS.T
    return lps.mean(axis=0), lps.max(axis=0) - lps.min(axis=0)


def _paint_ellipsoid(out: np.ndarray, volume: Volume, centre: np.ndarray, extent: np.ndarray, label: int) -> bool:
    """Label the voxels inside the ellipsoid the box spans; False when none is inside the volume."""
    half = np.maximum(extent / 2, 1e-3)
    corners = np.array([centre + half * (2 * np.array(s) - 1) for s in np.ndindex(2, 2, 2)])
    voxels = volume.patient_mm_to_voxel(corners)
    low = np.maximum(np.floor(voxels.min(axis=0)).astype(int), 0)
    high = np.minimum(np.ceil(voxels.max(axis=0)).astype(int) + 1, out.shape)
    if np.any(high <= low):
        return False
    grid = np.stack(np.meshgrid(*[np.arange(a, b) for a, b in zip(low, high, strict=True)], indexing="ij"), axis=-1)
    inside = (((volume.voxel_to_patient_mm(grid) - centre) / half) ** 2).sum(axis=-1) <= 1.0
    if not inside.any():  # a box thinner than a voxel: mark the voxel at its centre
        k, j, i = np.clip(np.round(volume.patient_mm_to_voxel(centre)).astype(int), 0, np.array(out.shape) - 1)
        out[k, j, i] = label
        return True
    region = out[low[0]:high[0], low[1]:high[1], low[2]:high[2]]
    region[inside] = label
    return True


def detection_findings(card: ModelCard, volume: Volume, boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray,
                       affine_ras: np.ndarray) -> tuple[list[Finding], np.ndarray]:
    """Detector boxes (xyzxyz, in the network image's voxels with `affine_ras`) -> findings and mask."""
    out = np.zeros(volume.shape, np.uint8)
    findings: list[Finding] = []
    middle_x = float(volume.voxel_to_patient_mm(np.array(volume.shape, float) / 2 - 0.5)[0])
    for n in np.argsort(-scores):
        if scores[n] < card.thresholds.get("min_score", 0.0) or len(findings) >= MAX_FINDINGS:
            break
        value = int(classes[n]) + 1
        if value not in {o.value for o in card.outputs}:
            continue
        centre, extent = _box_in_patient(boxes[n], affine_ras)
        centre_voxel = volume.patient_mm_to_voxel(centre)
        if np.any(centre_voxel < -0.5) or np.any(centre_voxel > np.array(volume.shape) - 0.5):
            continue  # a box centred outside the series (in the padding) is not on this patient
        label = len(findings) + 1
        _paint_ellipsoid(out, volume, centre, extent, label)
        long_mm, short_mm = float(max(extent[0], extent[1])), float(min(extent[0], extent[1]))
        findings.append(model_finding(
            card, volume, value, label, centre_voxel, float(scores[n]),
            {"long_axis_mm": round(long_mm, 1), "short_axis_mm": round(short_mm, 1),
             "mean_diameter_mm": round((long_mm + short_mm) / 2, 1), "craniocaudal_mm": round(float(extent[2]), 1)},
            {"side": "left" if centre[0] > middle_x else "right"},  # LPS: +x is the patient's left
            {"outline": "ellipsoid inside the detector's box"}))
    return findings, out
