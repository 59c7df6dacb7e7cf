"""Geometry of a stack of slices in DICOM patient coordinates (LPS, mm).

Sources: DICOM PS3.3 C.7.6.2 (Image Plane Module). Slice order and spacing come from
ImagePositionPatient projected on the slice normal (row x column direction), never from
SliceThickness, which is the reconstructed thickness and may overlap or leave gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Tolerances: DICOM decimal strings hold 16 characters, so positions carry rounding of about
# 1e-4 mm; scanners also jitter positions slightly. These limits avoid false alarms.
TILT_TOLERANCE_DEG = 0.1
GAP_TOLERANCE_FRACTION = 0.05
GAP_TOLERANCE_MM = 0.01


def slice_normal(orientation: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """Unit normal of an image plane: row direction x column direction (LPS)."""
    o = np.asarray(orientation, dtype=float)
    n = np.cross(o[:3], o[3:6])
    norm = np.linalg.norm(n)
    if norm < 1e-6:
        raise ValueError(f"ImageOrientationPatient {list(o)} has parallel row and column vectors")
    return n / norm


@dataclass
class StackGeometry:
    """Order and spacing of a stack of parallel slices.

    `order[k]` is the index (into the caller's list) of the k-th slice along the normal.
    `slice_step_mm` is the mean vector from one slice's first pixel to the next one's: it equals
    spacing * normal for an orthogonal stack and is oblique for a gantry-tilted one.
    """

    order: np.ndarray
    normal: np.ndarray
    slice_spacing_mm: float
    slice_step_mm: np.ndarray
    tilt_deg: float = 0.0
    irregular: bool = False
    duplicate_positions: int = 0
    warnings: list[str] = field(default_factory=list)


def analyse_stack(
    positions_mm: np.ndarray,
    orientation: tuple[float, ...],
    labels: list[str] | None = None,
) -> StackGeometry:
    """Sort slices along the normal and measure spacing, tilt and gaps.

    positions_mm: (n, 3) ImagePositionPatient of each slice, in any order.
    orientation: ImageOrientationPatient shared by the slices.
    labels: how to name slice i in warnings (e.g. its instance number); defaults to the index.
    """
    pos = np.asarray(positions_mm, dtype=float).reshape(-1, 3)
    n = len(pos)
    normal = slice_normal(orientation)
    distance = pos @ normal
    order = np.argsort(distance, kind="stable")
    labels = labels or [str(i) for i in range(n)]
    if n == 1:
        return StackGeometry(order, normal, 0.0, np.zeros(3))

    d = distance[order]
    steps = np.diff(d)
    warnings: list[str] = []
    duplicates = int(np.sum(np.abs(steps) < GAP_TOLERANCE_MM))
    if duplicates:
        warnings.append(f"{duplicates} slice(s) share a position with another slice")
    nonzero = steps[np.abs(steps) >= GAP_TOLERANCE_MM]
    spacing = float(np.median(nonzero)) if len(nonzero) else 0.0

    irregular = False
    if spacing > 0:
        deviation = np.abs(steps - spacing)
        bad = np.nonzero(deviation > max(GAP_TOLERANCE_MM, GAP_TOLERANCE_FRACTION * spacing))[0]
        bad = [i for i in bad if abs(steps[i]) >= GAP_TOLERANCE_MM]
        if bad:
            irregular = True
            examples = ", ".join(
                f"{steps[i]:.2f} mm between {labels[order[i]]} and {labels[order[i + 1]]}" for i in bad[:3]
            )
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            warnings.append(
                f"Irregular slice spacing (usual {spacing:.2f} mm): {examples}{more}. "
                "Possible missing slices; distances across the gap are exact, the 3D views interpolate."
            )

    step = (pos[order[-1]] - pos[order[0]]) / (n - 1)
    tilt = 0.0
    step_norm = np.linalg.norm(step)
    if step_norm > 0:
        cos = abs(float(step @ normal)) / step_norm
        tilt = float(np.degrees(np.arccos(min(1.0, cos))))
    if tilt > TILT_TOLERANCE_DEG:
        warnings.append(
            f"Gantry tilt of {tilt:.1f} degrees: slices are sheared; geometry follows the image positions"
        )
    else:
        tilt = 0.0
        # An untilted stack steps exactly along the normal; drop the positions' rounding noise.
        step = normal * spacing if spacing > 0 else step
    return StackGeometry(order, normal, spacing, step, tilt, irregular, duplicates, warnings)
