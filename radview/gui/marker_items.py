"""Nodule flags in one view: a box around each marker whose extent crosses the shown slice.

Clicking a box selects its marker. Boxes are in the view's in-plane mm, sized from the marker's
size in mm (with a margin so the finding itself stays visible).
"""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from radview.core.overlays import Marker

BOX_MARGIN = 1.4  # box edge = marker size x margin
MIN_BOX_MM = 6.0


class _MarkerBox(QGraphicsRectItem):
    def __init__(self, marker_id: str, on_click: Callable[[str], None]) -> None:
        super().__init__()
        self.marker_id = marker_id
        self._on_click = on_click
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        event.accept()
        self._on_click(self.marker_id)


class MarkerGraphics:
    """Boxes and labels of the markers shown in one ViewBox."""

    def __init__(self, view_box: pg.ViewBox, on_click: Callable[[str], None]) -> None:
        self._view_box = view_box
        self._on_click = on_click
        self._items: list[tuple[_MarkerBox, pg.TextItem]] = []
        self.selected_id: str | None = None

    def show(self, shown: list[tuple[Marker, float, float]]) -> None:
        """Show these markers: (marker, x mm, y mm) of its centre in this view."""
        while len(self._items) > len(shown):
            box, label = self._items.pop()
            self._view_box.removeItem(box)
            self._view_box.removeItem(label)
        while len(self._items) < len(shown):
            box = _MarkerBox("", self._on_click)
            box.setZValue(20)
            label = pg.TextItem(anchor=(0, 1))
            label.setZValue(20)
            self._view_box.addItem(box, ignoreBounds=True)
            self._view_box.addItem(label, ignoreBounds=True)
            self._items.append((box, label))
        for (box, label), (marker, x, y) in zip(self._items, shown, strict=True):
            edge = max(MIN_BOX_MM, marker.size_mm * BOX_MARGIN)
            box.marker_id = marker.id
            box.setRect(QRectF(x - edge / 2, y - edge / 2, edge, edge))
            pen = QPen(QColor(*marker.color))
            pen.setCosmetic(True)
            pen.setWidthF(3.0 if marker.id == self.selected_id else 1.5)
            box.setPen(pen)
            label.setText(marker.caption)
            label.setColor(QColor(*marker.color))
            label.setPos(x - edge / 2, y - edge / 2)

    def shown_ids(self) -> list[str]:
        return [box.marker_id for box, _ in self._items]
