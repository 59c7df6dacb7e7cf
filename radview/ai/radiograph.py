"""Chest radiograph nodule flags from the cxr-nodule model's heatmap (label 1 = nodule).

The image-level probability that a nodule is present is the heatmap's maximum; each connected
region above the card's threshold becomes a flag with its position, approximate size (the
diameter of a disc of the same area, in mm at the detector) and side.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from radview.ai.card import ModelCard
from radview.ai.postprocess import model_finding
from radview.core.findings import Finding
from radview.core.volume import Volume


def nodule_probability(labels: np.ndarray, confidence: np.ndarray) -> np.ndarray:
    """p(nodule) per pixel from the argmax label and its probability (two classes)."""
    p = confidence.astype(np.float32)
    return np.where(labels == 1, p, 1.0 - p)


def radiograph_findings(card: ModelCard, volume: Volume, labels: np.ndarray, confidence: np.ndarray
                        ) -> tuple[list[Finding], np.ndarray, dict[str, float]]:
    """Flags, the label map (flag i = label i) and {"nodule_present_probability": max p}."""
    probability = nodule_probability(labels, confidence)
    threshold = card.thresholds.get("probability", 0.5)
    components, count = ndimage.label(probability[0] >= threshold)
    pixel_mm2 = volume.pixel_spacing_mm[0] * volume.pixel_spacing_mm[1]
    out = np.zeros(labels.shape, np.uint8)
    candidates = []
    for n, box in enumerate(ndimage.find_objects(components), start=1):
        region = components[box] == n
        area_mm2 = float(region.sum()) * pixel_mm2
        diameter_mm = 2 * np.sqrt(area_mm2 / np.pi)
        if diameter_mm < card.thresholds.get("min_diameter_mm", 0.0):
            continue
        candidates.append((float(probability[0][box][region].max()), n, box, region, diameter_mm))
    # a flag must reach the image-level operating point: a radiograph called negative has none
    candidates = [c for c in candidates if c[0] >= card.thresholds.get("presence", threshold)]
    candidates.sort(key=lambda c: -c[0])
    findings = []
    columns = volume.shape[2]
    for score, n, box, region, diameter_mm in candidates[:20]:
        label = len(findings) + 1
        out[0][box][region] = label
        row, col = np.argwhere(region).mean(axis=0) + [box[0].start, box[1].start]
        # a PA radiograph shows the patient's right on the image's left (docs/domain.md)
        side = "left" if col > columns / 2 else "right"
        third = ("upper", "middle", "lower")[min(2, int(3 * row / volume.shape[1]))]
        findings.append(model_finding(
            card, volume, 1, label, np.array([0.0, row, col]), score,
            {"approximate_diameter_mm": round(diameter_mm, 1)}, {"side": side, "zone": f"{third} third of the image"},
        ))
    return findings, out, {"nodule_present_probability": round(float(probability.max()), 4)}
