"""A slice view with its slice slider and a title bar naming the plane."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from radview.gui.slice_view import SliceView


class ViewPane(QWidget):
    """SliceView + vertical slider (slice n of N); the slider and the view follow each other."""

    def __init__(self, view: SliceView, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.title = QLabel(title)
        self.title.setObjectName("paneTitle")
        self.slider = QSlider(Qt.Orientation.Vertical)
        self.slider.setInvertedAppearance(True)  # slice 1 at the top, like the image stack
        self.slider.setToolTip("Slice (wheel, Up/Down, Page Up/Down, Home/End)")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the window's actions
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(1)
        row.addWidget(view, 1)
        row.addWidget(self.slider)
        column = QVBoxLayout(self)
        column.setContentsMargins(1, 1, 1, 1)
        column.setSpacing(0)
        column.addWidget(self.title)
        column.addLayout(row, 1)
        self.slider.valueChanged.connect(view.set_index)
        view.index_changed.connect(self._follow_view)

    def sync_range(self) -> None:
        """Match the slider to the view's slice count and index."""
        count = self.view.slice_count
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, count - 1))
        self.slider.setValue(self.view.index)
        self.slider.blockSignals(False)
        self.slider.setVisible(count > 1)

    def _follow_view(self, index: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)

    def set_active(self, active: bool) -> None:
        self.title.setProperty("active", active)
        self.title.style().unpolish(self.title)
        self.title.style().polish(self.title)
