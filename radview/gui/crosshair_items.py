"""The linked crosshair of one slice view: two lines through the focus point, each coloured as the
plane it stands for (the convention of Horos and 3D Slicer: the line is where that plane cuts)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsLineItem

from radview.core.planes import Plane, plane_layout
from radview.viewer.plane_view import PlaneView

CROSSHAIR_COLORS = {Plane.AXIAL: (80, 160, 255), Plane.CORONAL: (90, 220, 110), Plane.SAGITTAL: (255, 110, 90)}
CROSSHAIR_Z = 30


class CrosshairGraphics:
    """A vertical and a horizontal line in display pixels, under `parent` (the view's image group)."""

    def __init__(self, parent: pg.ItemGroup) -> None:
        self.lines = [QGraphicsLineItem(parent) for _ in range(2)]
        for line in self.lines:
            line.setZValue(CROSSHAIR_Z)

    def colour_for(self, plane_view: PlaneView) -> None:
        """Colour each line by the plane it shows (the vertical line is the plane that fixes this
        view's x axis); once per volume, not per frame."""
        other = [p for p in Plane if p is not plane_view.plane]
        fixed = {p: plane_layout(plane_view.volume, p).fixed_axis for p in other}
        layout = plane_view.layout
        for line, axis in zip(self.lines, (layout.x_axis, layout.y_axis), strict=True):
            plane = next((p for p in other if fixed[p] == axis), other[0])
            pen = QPen(QColor(*CROSSHAIR_COLORS[plane], 160))
            pen.setCosmetic(True)
            line.setPen(pen)

    def show(self, plane_view: PlaneView, focus_lps_mm: np.ndarray | None) -> None:
        """Draw the lines through a patient point (hidden without one, or on a single image)."""
        visible = focus_lps_mm is not None and plane_view.layout is not None and plane_view.slice_count > 1
        for line in self.lines:
            line.setVisible(visible)
        if not visible:
            return
        layout = plane_view.layout
        dx, dy, _ = layout.voxel_to_display(plane_view.volume.patient_mm_to_voxel(focus_lps_mm))
        rows, cols = layout.display_shape
        vertical, horizontal = self.lines
        vertical.setLine(dx, 0, dx, rows)
        horizontal.setLine(0, dy, cols, dy)
