"""Help > Keyboard shortcuts: every command with its keys, and the mouse gestures."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHeaderView, QLabel, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from radview.gui.actions import shortcut_rows

MOUSE = (
    "Wheel: next/previous slice · Ctrl+wheel: zoom · Right drag: window/level (left-right width, "
    "up-down level) · Middle drag: pan · Left button: the current tool"
)


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows()
        self.table = QTableWidget(len(rows), 4)
        self.table.setHorizontalHeaderLabels(["Menu", "Command", "Keys", "What it does"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnsToContents()
        self.table.verticalHeader().setVisible(False)
        mouse = QLabel(MOUSE)
        mouse.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(mouse)
        self.resize(820, 620)
