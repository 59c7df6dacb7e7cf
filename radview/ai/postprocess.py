"""From a model's label map to findings: connected components, measured in mm on the volume.

Pure numpy/scipy over a Volume; each function names what it measures and in which units.
"""

from __future__ import annotations

import hashlib

import numpy as np
from scipy import ndimage

from radview.ai.card import ModelCard
from radview.ai.mask_box import bounding_box, components
from radview.core.findings import Code, Finding
from radview.core.percentiles import percentiles
from radview.core.volume import Volume


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
    """Largest distance in mm between two voxel centres of a (slices, rows, cols) mask's surface.

    The mask may be the component's bounding box cut from the volume (distances do not depend on
    where it lies). The farthest pair of a point set lies on its convex hull, so only the hull's
    vertices are compared: exact at any size, where all pairs of a large surface cost O(n^2)."""
    mask = np.asarray(mask, dtype=bool)
    box = bounding_box(mask)
    if box is None:  # an empty mask
        return float(min(volume.pixel_spacing_mm))
    mask = mask[box]  # erosion and search on the box only, not the whole volume
    surface = mask & ~ndimage.binary_erosion(mask)
    points = np.argwhere(surface if surface.any() else mask)
    if len(points) < 2:
        return float(min(volume.pixel_spacing_mm))
    from scipy.spatial.distance import pdist

    # hull in voxel indices: an affine map (spacing, orientation) keeps a hull's vertices its vertices
    return float(pdist(volume.voxel_to_patient_mm(points[hull_vertices(points)].astype(float))).max())


def hull_vertices(points: np.ndarray) -> np.ndarray:
    """Indices of the points that span the convex hull of (N, 3) points; a flat set (one slice,
    a sheet) by its hull in its own plane, a collinear one by its two ends."""
    from scipy.spatial import ConvexHull, QhullError

    if len(points) <= 8:
        return np.arange(len(points))
    centred = points - points.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2]
    rank = int(np.sum(np.abs(centred @ axes.T).max(axis=0) > 1e-9))  # extent along each principal axis
    if rank >= 2:
        spread = centred if rank == 3 else centred @ axes[:2].T  # a flat set has no 3D hull: use its plane
        try:
            return ConvexHull(spread).vertices
        except QhullError:  # nearly degenerate: joggled by ~1e-11, far less than a voxel
            return ConvexHull(spread, qhull_options="QJ").vertices
    along = centred @ axes[0]
    return np.array([int(np.argmin(along)), int(np.argmax(along))])


def _head_midline_x_mm(volume: Volume) -> float:
    """LPS x of the head's left-right centre: the centre of the voxels brighter than the background."""
    sample = volume.voxels[:: max(1, volume.shape[0] // 8)]
    foreground = sample > percentiles(sample, 50)
    cols = np.flatnonzero(foreground.any(axis=(0, 1)))
    middle = np.array([volume.shape[0] / 2, volume.shape[1] / 2, (cols[0] + cols[-1]) / 2 if cols.size else volume.shape[2] / 2])
    return float(volume.voxel_to_patient_mm(middle)[0])


def confident_enough(card: ModelCard, mean_confidence: float, volume_ml: float) -> bool:
    """A component is kept at the card's min_confidence, or at any confidence from its
    keep_volume_ml up: a large tumour's uncertain margin lowers its mean, and no false region
    on the validation seeds came near that size (the card's thresholds_note)."""
    large = volume_ml >= card.thresholds.get("keep_volume_ml", float("inf"))
    return large or mean_confidence >= card.thresholds.get("min_confidence", 0.0)


def brain_tumour_findings(
    card: ModelCard, volume: Volume, labels: np.ndarray, tumour_probability: np.ndarray
) -> tuple[list[Finding], np.ndarray]:
    """Tumour components of at least the card's min_volume_ml: volume in mL, longest diameter in
    mm, hemisphere, confidence (mean probability inside). Returns findings and the label map
    with component i as label i."""
    out = np.zeros(labels.shape, np.uint8)
    findings: list[Finding] = []
    found = list(components(labels == 1))
    if not found:
        return findings, out
    voxel_ml = float(np.prod(volume.spacing_mm)) / 1000.0
    midline = _head_midline_x_mm(volume)
    # sizes as float64 so the largest-first order (ties included) is as before
    sizes = np.array([component.sum() for _, component in found], np.float64)
    for n in np.argsort(sizes)[::-1]:
        volume_ml = float(sizes[n]) * voxel_ml
        if volume_ml < card.thresholds.get("min_volume_ml", 0.0) or len(findings) >= 250:
            continue  # specks are many: each is skipped before it is measured
        box, component = found[n]  # every per-component step works inside its bounding box, not the volume
        score = float(tumour_probability[box][component].astype(np.float32).mean())
        if not confident_enough(card, score, volume_ml):
            continue
        centre_voxel = (np.argwhere(component) + [s.start for s in box]).mean(axis=0)
        centre = volume.voxel_to_patient_mm(centre_voxel)
        label = len(findings) + 1
        out[box][component] = label
        findings.append(model_finding(
            card, volume, 1, label, centre_voxel, score,
            {"volume_ml": round(volume_ml, 2), "longest_diameter_mm": round(longest_diameter_mm(component, volume), 1)},
            {"hemisphere": "left" if centre[0] > midline else "right"},  # LPS: +x is the patient's left
        ))
    return findings, out
