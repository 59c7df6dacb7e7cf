"""From a model's label map to findings: connected components, measured in mm on the volume.

Pure numpy/scipy over a Volume; each function names what it measures and in which units.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import ndimage

from radview.ai.card import ModelCard
from radview.core.findings import Code, Finding
from radview.core.volume import Volume

MAX_SURFACE_POINTS = 3000


def model_finding(
    card: ModelCard,
    volume: Volume,
    output_value: int,
    label: int,
    centre_voxel: np.ndarray,
    confidence: float,
    measurements: dict[str, float],
    location: dict[str, str],
    attributes: dict[str, str] | None = None,
) -> Finding:
    """A Finding of `card`'s output `output_value` at a (slice, row, col) voxel centre: id, DICOM
    code, model id and version, patient position, image reference and mask label filled in."""
    slice_index = int(round(float(centre_voxel[0])))
    return Finding(
        # unique within a study: the same model may run on several of its series
        id=f"{card.id}-{hashlib.sha256(volume.series_instance_uid.encode()).hexdigest()[:6]}-{label}",
        finding_type=Code(*card.label(output_value).code),
        series_instance_uid=volume.series_instance_uid,
        model_id=card.id,
        model_version=card.version,
        confidence=round(float(confidence), 3),
        centre_lps_mm=tuple(round(float(c), 2) for c in volume.voxel_to_patient_mm(centre_voxel)),
        slice_index=slice_index,
        measurements=measurements,
        location=location,
        attributes=attributes or {},
        mask_label=label,
        instance_number=volume.slices[slice_index].instance_number if volume.slices else None,
        kind=card.finding_kind,
    )


def longest_diameter_mm(mask: np.ndarray, volume: Volume) -> float:
    """Largest distance in mm between two voxel centres of a (slices, rows, cols) mask's surface."""
    surface = mask & ~ndimage.binary_erosion(mask)
    points = np.argwhere(surface if surface.any() else mask).astype(float)
    if len(points) > MAX_SURFACE_POINTS:  # a subsample keeps it O(n^2) small; error < a voxel
        points = points[np.random.default_rng(0).choice(len(points), MAX_SURFACE_POINTS, replace=False)]
    lps = volume.voxel_to_patient_mm(points)
    if len(lps) < 2:
        return float(min(volume.pixel_spacing_mm))
    from scipy.spatial.distance import pdist

    return float(pdist(lps).max())


def _head_midline_x_mm(volume: Volume) -> float:
    """LPS x of the head's left-right centre: the centre of the voxels brighter than the background."""
    sample = volume.voxels[:: max(1, volume.shape[0] // 8)]
    foreground = sample > np.percentile(sample, 50)
    cols = np.flatnonzero(foreground.any(axis=(0, 1)))
    middle = np.array([volume.shape[0] / 2, volume.shape[1] / 2, (cols[0] + cols[-1]) / 2 if cols.size else volume.shape[2] / 2])
    return float(volume.voxel_to_patient_mm(middle)[0])


def brain_tumour_findings(
    card: ModelCard, volume: Volume, labels: np.ndarray, tumour_probability: np.ndarray
) -> tuple[list[Finding], np.ndarray]:
    """Tumour components of at least the card's min_volume_ml: volume in mL, longest diameter in
    mm, hemisphere, confidence (mean probability inside). Returns findings and the label map
    with component i as label i."""
    components, count = ndimage.label(labels == 1)
    voxel_ml = float(np.prod(volume.spacing_mm)) / 1000.0
    out = np.zeros(labels.shape, np.uint8)
    findings = []
    midline = _head_midline_x_mm(volume) if count else 0.0
    sizes = ndimage.sum_labels(np.ones_like(components), components, np.arange(1, count + 1)) if count else []
    for n in np.argsort(sizes)[::-1]:
        volume_ml = float(sizes[n]) * voxel_ml
        if volume_ml < card.thresholds.get("min_volume_ml", 0.0) or len(findings) >= 250:
            continue  # checked before building the mask: specks are many and each costs a full pass
        component = components == n + 1
        score = float(tumour_probability[component].astype(np.float32).mean())
        if score < card.thresholds.get("min_confidence", 0.0):
            continue
        centre_voxel = np.argwhere(component).mean(axis=0)
        centre = volume.voxel_to_patient_mm(centre_voxel)
        label = len(findings) + 1
        out[component] = label
        findings.append(model_finding(
            card, volume, 1, label, centre_voxel, score,
            {"volume_ml": round(volume_ml, 2), "longest_diameter_mm": round(longest_diameter_mm(component, volume), 1)},
            {"hemisphere": "left" if centre[0] > midline else "right"},  # LPS: +x is the patient's left
        ))
    return findings, out
