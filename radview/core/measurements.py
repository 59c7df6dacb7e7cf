"""Measurements a radiologist draws: distance, angle, ellipse and rectangle ROIs.

Measurements are kept in patient coordinates (LPS mm) so they belong to the series, not to a
view: any view whose plane contains them draws them. Numbers are computed here, without Qt.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class MeasurementKind(str, Enum):
    DISTANCE = "distance"
    ANGLE = "angle"
    ELLIPSE = "ellipse"
    RECTANGLE = "rectangle"


_ids = itertools.count(1)


@dataclass
class Measurement:
    """One measurement on one series.

    points_lps_mm (N, 3): distance = its two ends; angle = arm end, vertex, arm end;
    ellipse / rectangle = centre, end of the first half-axis, end of the second half-axis.
    """

    kind: MeasurementKind
    series_instance_uid: str
    points_lps_mm: np.ndarray
    values: dict[str, float] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_ids))

    def summary(self, value_unit: str = "") -> str:
        """One line for the screen: "42.3 mm", "mean 31 HU, SD 12, ..."."""
        v = self.values
        if self.kind is MeasurementKind.DISTANCE:
            return f"{v['length_mm']:.1f} mm"
        if self.kind is MeasurementKind.ANGLE:
            return f"{v['angle_deg']:.1f}°"
        unit = f" {value_unit}" if value_unit else ""
        if "mean" not in v:
            return f"area {v['area_mm2']:.0f} mm²"
        return (
            f"mean {v['mean']:.1f}{unit}, SD {v['sd']:.1f}, min {v['min']:.0f}, max {v['max']:.0f}, "
            f"area {v['area_mm2']:.0f} mm²"
        )


def distance_mm(a_lps_mm: np.ndarray, b_lps_mm: np.ndarray) -> float:
    """Euclidean distance between two patient points in mm."""
    return float(np.linalg.norm(np.asarray(b_lps_mm, float) - np.asarray(a_lps_mm, float)))


def angle_deg(arm_a: np.ndarray, vertex: np.ndarray, arm_b: np.ndarray) -> float:
    """The angle at `vertex` between the two arms, 0..180 degrees."""
    u = np.asarray(arm_a, float) - np.asarray(vertex, float)
    w = np.asarray(arm_b, float) - np.asarray(vertex, float)
    norms = np.linalg.norm(u) * np.linalg.norm(w)
    if norms == 0:
        return 0.0
    return float(np.degrees(np.arccos(np.clip(u @ w / norms, -1.0, 1.0))))


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the pixels whose centres lie inside an ROI (values in the image's unit)."""

    mean: float
    sd: float
    min: float
    max: float
    pixel_count: int
    area_mm2: float


def roi_pixel_mask(
    image_shape: tuple[int, int],
    display_to_mm: np.ndarray,
    kind: MeasurementKind,
    centre_mm: np.ndarray,
    half_axis_1_mm: np.ndarray,
    half_axis_2_mm: np.ndarray,
) -> np.ndarray:
    """(rows, cols) bool: pixels of a 2D image whose centres lie inside an ellipse or rectangle.

    The ROI is given in in-plane mm (the scene of a view): a centre and two perpendicular
    half-axis vectors. `display_to_mm` (2x2) maps display (col, row) steps to in-plane mm.
    """
    rows, cols = np.mgrid[0 : image_shape[0], 0 : image_shape[1]]
    display = np.stack([cols.ravel() + 0.5, rows.ravel() + 0.5])
    offset = display_to_mm @ display - np.asarray(centre_mm, float)[:, None]
    a = np.asarray(half_axis_1_mm, float)
    b = np.asarray(half_axis_2_mm, float)
    # coordinates in units of the half-axes (the axes are perpendicular)
    u = (a @ offset) / max(a @ a, 1e-12)
    w = (b @ offset) / max(b @ b, 1e-12)
    if kind is MeasurementKind.ELLIPSE:
        inside = u * u + w * w <= 1.0
    elif kind is MeasurementKind.RECTANGLE:
        inside = (np.abs(u) <= 1.0) & (np.abs(w) <= 1.0)
    else:
        raise ValueError(f"not an area ROI: {kind}")
    return inside.reshape(image_shape)


def roi_area_mm2(kind: MeasurementKind, half_axis_1_mm: np.ndarray, half_axis_2_mm: np.ndarray) -> float:
    """Geometric area of the ROI (pi a b for an ellipse, 4 a b for a rectangle) in mm2."""
    ab = float(np.linalg.norm(half_axis_1_mm) * np.linalg.norm(half_axis_2_mm))
    return np.pi * ab if kind is MeasurementKind.ELLIPSE else 4.0 * ab


def roi_stats(image: np.ndarray, inside: np.ndarray, area_mm2: float) -> RoiStats | None:
    """Mean, SD, min and max of `image` (rows, cols) where `inside`; None if no pixel is inside."""
    values = image[inside]
    if values.size == 0:
        return None
    values = values.astype(np.float64)
    return RoiStats(
        float(values.mean()), float(values.std()), float(values.min()), float(values.max()), int(values.size), area_mm2
    )


def measurement_values(
    kind: MeasurementKind,
    points_lps_mm: np.ndarray,
    points_view_mm: np.ndarray,
    image: np.ndarray,
    display_to_mm: np.ndarray,
) -> dict[str, float]:
    """The numbers of a measurement drawn on one 2D image.

    points_lps_mm (N, 3) give lengths and angles in patient space; points_view_mm (N, 2) with
    `display_to_mm` (2x2, display pixel steps -> view mm) place an ROI on `image` (rows, cols).
    """
    if kind is MeasurementKind.DISTANCE:
        return {"length_mm": distance_mm(points_lps_mm[0], points_lps_mm[1])}
    if kind is MeasurementKind.ANGLE:
        return {"angle_deg": angle_deg(points_lps_mm[0], points_lps_mm[1], points_lps_mm[2])}
    centre, end_1, end_2 = points_view_mm
    area = roi_area_mm2(kind, end_1 - centre, end_2 - centre)
    values: dict[str, float] = {"area_mm2": area}
    if image.ndim == 2:
        inside = roi_pixel_mask(image.shape, display_to_mm, kind, centre, end_1 - centre, end_2 - centre)
        stats = roi_stats(image, inside, area)
        if stats is not None:
            values.update(mean=stats.mean, sd=stats.sd, min=stats.min, max=stats.max, pixel_count=stats.pixel_count)
    return values
