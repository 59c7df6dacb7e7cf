"""The texts over a view: four corners (patient, series, window, cursor) and the orientation
letters at the middle of each edge. Only a changed label is measured and moved, since the
corners change on every slice step."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

CORNERS = ("tl", "tr", "bl", "br")
EDGES = ("top", "bottom", "left", "right")
MARGIN_PX = 6


class CornerText:
    """QLabels laid over `view` (transparent to the mouse)."""

    def __init__(self, view: QWidget) -> None:
        self._view = view
        self.labels: dict[str, QLabel] = {}
        for name in CORNERS + EDGES:
            label = QLabel(view)
            label.setObjectName(f"corner_{name}")
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.setStyleSheet(
                "color: #ffd25a; background: transparent; font-weight: bold;" if name in EDGES
                else "color: #e8e8e8; background: transparent; font-size: 11px;"
            )
            self.labels[name] = label

    def set(self, name: str, text: str) -> None:
        """Change one text; an unchanged one costs nothing."""
        label = self.labels[name]
        if label.text() != text:
            label.setText(text)
            self._place(name, label)

    def texts(self) -> dict[str, str]:
        return {name: label.text() for name, label in self.labels.items()}

    def place_all(self) -> None:
        """After a resize."""
        for name, label in self.labels.items():
            self._place(name, label)

    def _place(self, name: str, label: QLabel) -> None:
        label.adjustSize()
        w, h, m = self._view.width(), self._view.height(), MARGIN_PX
        lw, lh = label.width(), label.height()
        x = {"tl": m, "bl": m, "left": m, "tr": w - lw - m, "br": w - lw - m, "right": w - lw - m}.get(name, (w - lw) // 2)
        y = {"tl": m, "tr": m, "top": m, "bl": h - lh - m, "br": h - lh - m, "bottom": h - lh - m}.get(name, (h - lh) // 2)
        label.move(int(x), int(y))
