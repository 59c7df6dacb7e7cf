"""Lung nodule findings from the ct-nodule model's labels (1 lung, 2 nodule), measured in mm.

Sizes follow the Fleischner Society 2017 convention (docs/domain.md): on the axial slice where the
nodule is largest, the long axis and the longest perpendicular short axis; the mean of the two
is the size a reader quotes. Volume in mm3, mean HU, solid or part-solid (share of voxels above
-300 HU), side and upper/lower zone from the lung mask.
"""

from __future__ import annotations

import numpy as np

from radview.ai.card import ModelCard
from radview.ai.nodule_split import DISTINCT_RATIO, components, cut_pieces
from radview.ai.postprocess import longest_diameter_mm, model_finding
from radview.core.findings import Finding
from radview.core.volume import Volume

SOLID_HU = -300.0  # ground glass sits near -500 HU, solid tissue near 40 HU (docs/domain.md)
SOLID_SHARE = 0.8


def axial_axes_mm(mask2d: np.ndarray, pixel_spacing_mm: tuple[float, float]) -> tuple[float, float]:
    """(long, short) axis in mm of a 2D mask: the longest chord between pixel edges and the
    widest extent perpendicular to it."""
    rows, cols = np.nonzero(mask2d)
    # the corners of each pixel, so a 1-pixel nodule measures one pixel, not zero
    points = np.concatenate([np.stack([rows + dr, cols + dc], axis=1) for dr in (-0.5, 0.5) for dc in (-0.5, 0.5)])
    mm = points * np.array(pixel_spacing_mm)
    if len(mm) > 4000:
        hull = mm[np.unique(np.concatenate([np.argsort(mm @ np.array([np.cos(a), np.sin(a)]))[[0, -1]]
                                            for a in np.linspace(0, np.pi, 180, endpoint=False)]))]
    else:
        hull = mm
    diffs = hull[:, None, :] - hull[None, :, :]
    lengths = np.linalg.norm(diffs, axis=2)
    i, j = np.unravel_index(np.argmax(lengths), lengths.shape)
    long_mm = float(lengths[i, j])
    axis = diffs[i, j] / max(long_mm, 1e-9)
    normal = np.array([-axis[1], axis[0]])
    across = mm @ normal
    return long_mm, float(across.max() - across.min())


def sphere_fill(component: np.ndarray, volume: Volume) -> float:
    """Volume of a component over that of the sphere spanning its longest 3D diameter: about 0.5-1
    for a nodule, well under 0.3 for a vessel segment (long and thin). A shape test CAD systems
    use to drop vessels from nodule candidates."""
    count = int(component.sum())
    if count < 2:
        return 1.0
    longest = max(longest_diameter_mm(component, volume), min(volume.spacing_mm))
    return float(count * np.prod(volume.spacing_mm) / (np.pi / 6 * longest**3))


def _lung_sides(labels: np.ndarray, volume: Volume) -> tuple[float, dict[str, tuple[float, float]]]:
    """Body midline x (LPS mm) and, per side, the z range (mm) of that lung."""
    lung = labels == 1
    cols = np.flatnonzero(lung.any(axis=(0, 1)))
    mid_col = (cols[0] + cols[-1]) / 2 if cols.size else volume.shape[2] / 2
    midline_x = float(volume.voxel_to_patient_mm(np.array([0.0, volume.shape[1] / 2, mid_col]))[0])
    ranges = {}
    half = int(round(mid_col))
    for side, part in (("right", lung[:, :, :half]), ("left", lung[:, :, half:])):
        ks = np.flatnonzero(part.any(axis=(1, 2)))
        if ks.size:
            z = [float(volume.voxel_to_patient_mm(np.array([k, 0.0, 0.0]))[2]) for k in (ks[0], ks[-1])]
            ranges[side] = (min(z), max(z))
    return midline_x, ranges


def _passes(card: ModelCard, volume: Volume, confidence: np.ndarray, box: tuple[slice, ...], mask: np.ndarray) -> bool:
    """The card's size, confidence and shape tests (a tubular part is a vessel, not a nodule)."""
    if float(mask.sum()) * float(np.prod(volume.spacing_mm)) < card.thresholds.get("min_volume_mm3", 0.0):
        return False
    if float(confidence[box][mask].astype(np.float32).mean()) < card.thresholds.get("min_confidence", 0.0):
        return False
    return sphere_fill(mask, volume) >= card.thresholds.get("min_sphere_fill", 0.0)


def nodule_findings(card: ModelCard, volume: Volume, labels: np.ndarray, confidence: np.ndarray) -> tuple[list[Finding], np.ndarray]:
    """One finding per nodule component that passes the card's tests, and, when the card sets
    vessel_opening_mm, per distinct blob cut from a component that fails them as a whole (a
    nodule joined to vessels: radview.ai.nodule_split); the label map has nodule i as label i."""
    voxel_mm3 = float(np.prod(volume.spacing_mm))
    midline_x, lung_z = _lung_sides(labels, volume)
    opening_mm = card.thresholds.get("vessel_opening_mm", 0.0)
    candidates = []
    for box, component in components(labels == 2):
        if _passes(card, volume, confidence, box, component):
            candidates.append((box, component))
        elif opening_mm > 0:  # a nodule joined to vessels fails as a whole: its own blob may pass
            candidates += [(piece_box, piece.mask) for piece_box, piece in
                           cut_pieces(box, component, volume.spacing_mm, opening_mm,
                                      card.thresholds.get("blob_neck_ratio", DISTINCT_RATIO))
                           if _passes(card, volume, confidence, piece_box, piece.mask)]
    scored = [(float(confidence[box][mask].astype(np.float32).mean()), n, box, mask, float(mask.sum()) * voxel_mm3)
              for n, (box, mask) in enumerate(candidates)]
    scored.sort(key=lambda c: -c[0])
    out = np.zeros(labels.shape, np.uint8)
    findings = []
    for score, n, box, component, volume_mm3 in scored[:250]:
        offset = np.array([s.start for s in box], float)
        centre_voxel = np.argwhere(component).mean(axis=0) + offset
        centre = volume.voxel_to_patient_mm(centre_voxel)
        widest = int(np.argmax(component.sum(axis=(1, 2))))
        long_mm, short_mm = axial_axes_mm(component[widest], volume.pixel_spacing_mm)
        hu = volume.voxels[box][component].astype(np.float32)
        solid_share = float((hu > SOLID_HU).mean())
        side = "left" if centre[0] > midline_x else "right"  # LPS: +x is the patient's left
        z_low, z_high = lung_z.get(side, (centre[2], centre[2]))
        zone = "upper" if centre[2] > (z_low + z_high) / 2 else "lower"
        label = len(findings) + 1
        out[box][component] = label
        findings.append(model_finding(
            card, volume, 2, label, centre_voxel, score,
            {"long_axis_mm": round(long_mm, 1), "short_axis_mm": round(short_mm, 1),
             "mean_diameter_mm": round((long_mm + short_mm) / 2, 1), "volume_mm3": round(volume_mm3, 0),
             "mean_hu": round(float(hu.mean()), 0)},
            {"side": side, "zone": f"{zone} zone", "lobe_region": f"{side} {zone} lung"},
            {"composition": "solid" if solid_share >= SOLID_SHARE else "part-solid"},
        ))
    return findings, out
