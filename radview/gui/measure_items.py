"""Graphics for measurements in one view: editable pyqtgraph ROIs with their value labels.

Points are in the view's in-plane mm (the ViewBox data coordinates). The view decides which
measurements lie in its plane and turns patient coordinates into these points.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

from radview.core.measurements import Measurement, MeasurementKind

PEN = pg.mkPen((255, 220, 60), width=1.5)
SELECTED_PEN = pg.mkPen((255, 120, 40), width=2.5)
HANDLE_PEN = pg.mkPen((255, 220, 60))


def make_roi(kind: MeasurementKind, points_mm: np.ndarray) -> pg.ROI:
    """An editable ROI for `kind` from its defining points (see Measurement) in view mm."""
    p = [QPointF(float(x), float(y)) for x, y in points_mm]
    common = {"pen": PEN, "handlePen": HANDLE_PEN, "removable": True, "movable": True}
    if kind is MeasurementKind.DISTANCE:
        return pg.LineSegmentROI([p[0], p[1]], **common)
    if kind is MeasurementKind.ANGLE:
        return pg.PolyLineROI([p[0], p[1], p[2]], closed=False, **common)
    centre, end_1, end_2 = (np.asarray(q, float) for q in points_mm)
    a, b = end_1 - centre, end_2 - centre
    width, height = 2 * float(np.linalg.norm(a)), 2 * float(np.linalg.norm(b))
    angle = math.degrees(math.atan2(a[1], a[0]))
    rotation = np.array([[math.cos(math.radians(angle)), -math.sin(math.radians(angle))],
                         [math.sin(math.radians(angle)), math.cos(math.radians(angle))]])
    corner = centre - rotation @ np.array([width / 2, height / 2])
    cls = pg.EllipseROI if kind is MeasurementKind.ELLIPSE else pg.RectROI
    roi = cls(tuple(corner), (max(width, 1e-3), max(height, 1e-3)), angle=angle, **common)
    return roi


def roi_points_mm(kind: MeasurementKind, roi: pg.ROI) -> np.ndarray:
    """(N, 2) defining points of an ROI in view mm, the inverse of make_roi."""
    if kind in (MeasurementKind.DISTANCE, MeasurementKind.ANGLE):
        points = [roi.mapToParent(h.pos()) for h in roi.getHandles()]
    else:
        w, h = roi.size()
        points = [roi.mapToParent(QPointF(w / 2, h / 2)), roi.mapToParent(QPointF(w, h / 2)),
                  roi.mapToParent(QPointF(w / 2, h))]
    return np.array([[q.x(), q.y()] for q in points])


class MeasurementGraphics:
    """The ROIs and labels of the measurements shown in one ViewBox."""

    def __init__(
        self,
        view_box: pg.ViewBox,
        on_moved: Callable[[int, np.ndarray, bool], None],
        on_remove: Callable[[int], None],
        on_select: Callable[[int], None],
    ) -> None:
        self._view_box = view_box
        self._on_moved = on_moved  # (measurement id, points mm, finished)
        self._on_remove = on_remove
        self._on_select = on_select
        self._items: dict[int, tuple[pg.ROI, pg.TextItem, MeasurementKind]] = {}
        self.selected_id: int | None = None

    def show(self, shown: dict[int, tuple[Measurement, np.ndarray]], value_unit: str) -> None:
        """Show exactly these measurements: id -> (measurement, its points in view mm)."""
        for mid in list(self._items):
            if mid not in shown:
                self._drop(mid)
        for mid, (measurement, points) in shown.items():
            if mid not in self._items:
                self._add(measurement, points)
            else:
                roi, _, kind = self._items[mid]
                if not np.allclose(roi_points_mm(kind, roi), points, atol=1e-6):
                    self._drop(mid)
                    self._add(measurement, points)
            self.set_text(mid, measurement.summary(value_unit))
        self._restyle()

    def set_text(self, mid: int, text: str) -> None:
        """Update the label of measurement `mid` (live while it is dragged)."""
        if mid in self._items:
            roi, label, kind = self._items[mid]
            label.setText(text)
            points = roi_points_mm(kind, roi)
            anchor = points[1] if kind is MeasurementKind.DISTANCE else points[0]
            label.setPos(float(anchor[0]), float(anchor[1]))

    def texts(self) -> list[str]:
        """The labels now shown (tests and the corner readout)."""
        return [label.toPlainText() for _, label, _ in self._items.values()]

    def _add(self, measurement: Measurement, points: np.ndarray) -> None:
        roi = make_roi(measurement.kind, points)
        label = pg.TextItem(color=(255, 230, 120), anchor=(0, 1))
        mid, kind = measurement.id, measurement.kind
        roi.sigRegionChanged.connect(lambda r: self._moved(mid, kind, r, False))
        roi.sigRegionChangeFinished.connect(lambda r: self._moved(mid, kind, r, True))
        roi.sigRemoveRequested.connect(lambda r: self._on_remove(mid))
        roi.sigClicked.connect(lambda r, ev: self._on_select(mid))
        roi.setAcceptedMouseButtons(pg.QtCore.Qt.MouseButton.LeftButton)
        self._view_box.addItem(roi)
        self._view_box.addItem(label, ignoreBounds=True)
        self._items[mid] = (roi, label, kind)

    def _moved(self, mid: int, kind: MeasurementKind, roi: pg.ROI, finished: bool) -> None:
        self._on_moved(mid, roi_points_mm(kind, roi), finished)

    def _drop(self, mid: int) -> None:
        roi, label, _ = self._items.pop(mid)
        self._view_box.removeItem(roi)
        self._view_box.removeItem(label)

    def _restyle(self) -> None:
        for mid, (roi, _, _) in self._items.items():
            roi.setPen(SELECTED_PEN if mid == self.selected_id else PEN)
