"""Mouse handling of one slice view, the way reading-room viewers behave.

Wheel: next/previous slice (Ctrl+wheel zooms). Right drag: window/level. Middle drag: pan.
Left button: depends on the tool — pan, set the crosshair, or draw a measurement.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal

from radview.viewer.tools import Tool


class SliceViewBox(pg.ViewBox):
    """A ViewBox in in-plane mm (y down) that turns mouse gestures into viewer signals."""

    scrolled = Signal(int)  # slices to move, + toward higher indices
    window_dragged = Signal(float, float)  # screen pixels right, down since the last event
    left_dragged = Signal(str, QPointF, QPointF)  # phase start/move/finish, start and current in mm
    left_clicked = Signal(QPointF)  # position in mm

    def __init__(self) -> None:
        super().__init__(lockAspect=True, invertY=True, enableMenu=False)
        self.tool = Tool.CROSSHAIR
        self._wheel_remainder = 0.0

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 (Qt naming)
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        # One notch (120) is one slice; touchpads send smaller steps that add up.
        self._wheel_remainder += ev.delta() / 120.0
        steps = int(self._wheel_remainder)
        if steps:
            self._wheel_remainder -= steps
            self.scrolled.emit(-steps)  # wheel away from you goes up (toward lower index)
        ev.accept()

    def mouseClickEvent(self, ev) -> None:  # noqa: N802
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.left_clicked.emit(self.mapToView(ev.pos()))
        else:
            ev.ignore()

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802
        button = ev.button()
        if button == Qt.MouseButton.RightButton:
            ev.accept()
            delta = ev.screenPos() - ev.lastScreenPos()
            self.window_dragged.emit(delta.x(), delta.y())
            return
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and self.tool is Tool.PAN):
            self.setMouseMode(pg.ViewBox.PanMode)
            super().mouseDragEvent(ev, axis)  # pans on left or middle
            return
        if button == Qt.MouseButton.LeftButton and self.tool is Tool.ZOOM:
            ev.accept()
            delta = ev.screenPos() - ev.lastScreenPos()
            centre = self.mapToView(ev.buttonDownPos())
            scale = 1.01 ** delta.y()
            self.scaleBy(x=scale, y=scale, center=centre)
            return
        if button != Qt.MouseButton.LeftButton:
            ev.ignore()
            return
        ev.accept()
        phase = "start" if ev.isStart() else "finish" if ev.isFinish() else "move"
        start = self.mapToView(ev.buttonDownPos())
        self.left_dragged.emit(phase, start, self.mapToView(ev.pos()))

