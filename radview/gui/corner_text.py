"""The texts over a view: four corners (patient, series, window, cursor) and the orientation
letters at the middle of each edge.

The orientation letters always win: each corner text keeps to the box between its corner and the
letters beside it (and half the view where an edge has no letter), eliding lines that are too long
and dropping lines that do not fit, so a narrow pane never hides an R or an A under a patient name.
Only a changed label is measured and moved, since the corners change on every slice step; a changed
letter moves every corner.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QLabel, QWidget

CORNERS = ("tl", "tr", "bl", "br")
EDGES = ("top", "bottom", "left", "right")
MARGIN_PX = 6
GAP_PX = 4  # the least space between a corner text and an orientation letter
# the letters beside each corner: (the one along its horizontal edge, the one along its vertical edge)
_NEIGHBOURS = {"tl": ("top", "left"), "tr": ("top", "right"), "bl": ("bottom", "left"), "br": ("bottom", "right")}


class CornerText:
    """QLabels laid over `view` (transparent to the mouse)."""

    def __init__(self, view: QWidget) -> None:
        self._view = view
        self.labels: dict[str, QLabel] = {}
        self._texts: dict[str, str] = {}  # what each label should say; a corner may show less
        self._placed: dict[str, tuple[str, QRect]] = {}  # each corner's text and room when last placed
        for name in CORNERS + EDGES:
            label = QLabel(view)
            label.setObjectName(f"corner_{name}")
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            label.setStyleSheet(
                "color: #ffd25a; background: transparent; font-weight: bold;" if name in EDGES
                else "color: #e8e8e8; background: transparent; font-size: 11px;"
            )
            self.labels[name] = label
            self._texts[name] = ""

    def set(self, name: str, text: str) -> None:
        """Change one text; an unchanged one costs nothing."""
        if self._texts[name] == text:
            return
        self._texts[name] = text
        if name in EDGES:
            self.place_all()  # the corners make room for the letter
        else:
            self._place_corner(name)

    def set_letters(self, letters: dict[str, str]) -> None:
        """The four orientation letters at once (a new series): the corners move once, not four times."""
        changed = False
        for name in EDGES:
            if self._texts[name] != letters.get(name, ""):
                self._texts[name], changed = letters.get(name, ""), True
        if changed:
            self.place_all()

    def texts(self) -> dict[str, str]:
        """The full texts (a corner in a narrow pane may show them shortened)."""
        return dict(self._texts)

    def place_all(self) -> None:
        """After a resize or a new letter."""
        for name in EDGES:
            self._place_edge(name)
        for name in CORNERS:
            self._place_corner(name)

    def _place_edge(self, name: str) -> None:
        label = self.labels[name]
        label.setText(self._texts[name])
        label.adjustSize()
        w, h, m = self._view.width(), self._view.height(), MARGIN_PX
        lw, lh = label.width(), label.height()
        x = {"left": m, "right": w - lw - m}.get(name, (w - lw) // 2)
        y = {"top": m, "bottom": h - lh - m}.get(name, (h - lh) // 2)
        label.move(int(x), int(y))

    def _room(self, name: str) -> QRect:
        """The box a corner text may fill: up to the letters beside its corner, with a gap."""
        w, h, m = self._view.width(), self._view.height(), MARGIN_PX
        left, top = name in ("tl", "bl"), name in ("tl", "tr")
        across, down = _NEIGHBOURS[name]
        # along its edge: up to the letter's near side, or half the view where the edge has none
        letter = self.labels[across].geometry()
        if not self._texts[across]:
            room_w = w // 2 - m - GAP_PX // 2
        else:
            room_w = (letter.left() - GAP_PX - m) if left else (w - m - letter.right() - 1 - GAP_PX)
        letter = self.labels[down].geometry()
        if not self._texts[down]:
            room_h = h // 2 - m - GAP_PX // 2
        else:
            room_h = (letter.top() - GAP_PX - m) if top else (h - m - letter.bottom() - 1 - GAP_PX)
        room_w, room_h = max(room_w, 0), max(room_h, 0)
        return QRect(m if left else w - m - room_w, m if top else h - m - room_h, room_w, room_h)

    def _place_corner(self, name: str) -> None:
        label = self.labels[name]
        room = self._room(name)
        if self._placed.get(name) == (self._texts[name], room):
            return  # measuring text is the costly part of a slice step: only when something changed
        self._placed[name] = (self._texts[name], room)
        label.setText(self._fitted(label, self._texts[name], room.width(), room.height()))
        label.adjustSize()
        # what still does not fit is cut off by the label's own size: it never reaches a letter
        lw, lh = min(label.width(), room.width()), min(label.height(), room.height())
        label.resize(lw, lh)
        x = room.left() if name in ("tl", "bl") else room.right() + 1 - lw
        y = room.top() if name in ("tl", "tr") else room.bottom() + 1 - lh
        label.move(x, y)

    @staticmethod
    def _fitted(label: QLabel, text: str, width: int, height: int) -> str:
        """`text` with each line elided to `width` pixels and the lines beyond `height` left out
        (the first lines are the most important: patient name, image number, window)."""
        if not text:
            return ""
        label.ensurePolished()  # the style sheet's font size, before measuring
        metrics = label.fontMetrics()
        fitting = max(0, height // max(metrics.lineSpacing(), 1))
        lines = text.split("\n")[:fitting]
        return "\n".join(metrics.elidedText(line, Qt.TextElideMode.ElideRight, width) for line in lines)
