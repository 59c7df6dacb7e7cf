"""Key images for the report: the slice through a finding, windowed, with its mask outline, a
circle around it and the reader's rulers drawn in (numpy only; the PDF writer places them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radview.core.findings import NODULE, Finding
from radview.core.measurements import Measurement
from radview.core.overlays import outline
from radview.core.planes import Plane, plane_layout
from radview.core.volume import Volume
from radview.core.windowing import CT_PRESETS, WindowLevel, percentile_window, to_uint8

OUTLINE_RGB = (255, 90, 60)
CIRCLE_RGB = (255, 220, 0)
RULER_RGB = (80, 220, 255)
NODULE_FIELD_OF_VIEW_MM = 120.0  # nodule key images are zoomed: a few mm in a whole chest is unreadable


@dataclass
class KeyImage:
    """An RGB picture (rows, cols, 3) uint8, its caption, and its height/width ratio in mm."""

    finding_id: str
    rgb: np.ndarray
    caption: str
    aspect_mm: float = 1.0
    # PatientOrientation of the picture: the patient directions along its rows and down its columns
    orientation: tuple[str, str] = ("", "")


def _window_for(volume: Volume, finding: Finding) -> WindowLevel:
    if volume.modality == "CT":
        name = "Lung" if finding.finding_type.value == NODULE.value else "Mediastinum"
        return next(p for p in CT_PRESETS if p.name == name)
    if volume.window_center is not None and volume.window_width:
        return WindowLevel(volume.window_width, volume.window_center, "DICOM")
    return percentile_window(volume.voxels)


def _paint(rgb: np.ndarray, rows: np.ndarray, cols: np.ndarray, colour: tuple[int, int, int]) -> None:
    keep = (rows >= 0) & (rows < rgb.shape[0]) & (cols >= 0) & (cols < rgb.shape[1])
    rgb[rows[keep], cols[keep]] = colour


def key_image(volume: Volume, finding: Finding, labels: np.ndarray | None, caption: str,
              measurements: list[Measurement] = ()) -> KeyImage:
    """The axial (or native, for a radiograph) slice through the finding's centre.

    labels: the model's label map (slices, rows, cols) on the volume grid; the finding's
    mask_label is outlined. measurements: distance rulers (LPS end points) on that slice are drawn.
    """
    layout = plane_layout(volume, Plane.AXIAL)
    centre_voxel = volume.patient_mm_to_voxel(np.array([finding.centre_lps_mm]))[0]
    x, y, index = layout.voxel_to_display(centre_voxel)
    index = int(np.clip(round(index), 0, layout.slice_count - 1))
    grey = to_uint8(layout.display_slice(volume.voxels, index), _window_for(volume, finding), volume.display_inverted)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    if labels is not None and finding.mask_label:
        edge = outline(layout.display_slice(labels, index) == finding.mask_label)
        rgb[edge > 0] = OUTLINE_RGB
    step_mm = np.abs(np.diag(layout.display_to_plane_mm()))
    radius_mm = max(finding.size_mm / 2 + 4.0, 6.0)
    angles = np.linspace(0, 2 * np.pi, 720)
    _paint(rgb, np.round(y - 0.5 + radius_mm / step_mm[1] * np.sin(angles)).astype(int),
           np.round(x - 0.5 + radius_mm / step_mm[0] * np.cos(angles)).astype(int), CIRCLE_RGB)
    for m in measurements:
        if m.kind != "distance":
            continue
        ends = [layout.voxel_to_display(volume.patient_mm_to_voxel(np.array([p]))[0]) for p in m.points_lps_mm[:2]]
        if any(abs(e[2] - index) > 0.5 for e in ends):
            continue  # not on this slice
        t = np.linspace(0, 1, 2000)
        _paint(rgb, np.round(ends[0][1] - 0.5 + t * (ends[1][1] - ends[0][1])).astype(int),
               np.round(ends[0][0] - 0.5 + t * (ends[1][0] - ends[0][0])).astype(int), RULER_RGB)
    if finding.finding_type.value == NODULE.value and not volume.is_2d:
        half_rows, half_cols = (int(NODULE_FIELD_OF_VIEW_MM / 2 / s) for s in (step_mm[1], step_mm[0]))
        top = int(np.clip(round(y) - half_rows, 0, max(0, rgb.shape[0] - 2 * half_rows)))
        left = int(np.clip(round(x) - half_cols, 0, max(0, rgb.shape[1] - 2 * half_cols)))
        rgb = rgb[top:top + 2 * half_rows, left:left + 2 * half_cols]
    edges = layout.edge_labels() if volume.has_patient_geometry else {"right": "", "bottom": ""}
    return KeyImage(finding.id, np.ascontiguousarray(rgb), caption, float(step_mm[1] / step_mm[0]),
                    (edges["right"], edges["bottom"]))
