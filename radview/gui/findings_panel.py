"""The findings list: every finding, AI and manual, with type, place, size, confidence, model,
version and review status. Selecting one centres the views on it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from radview.core.findings import Finding, describe_size
from radview.core.overlays import REVIEW_MARKER_STATUS, STATUS_COLORS
from radview.core.review import Review, ReviewedFinding

FINDING_ROLE = Qt.ItemDataRole.UserRole + 1


def _row(item: ReviewedFinding, series_numbers: dict[str, int | None]) -> list[str]:
    f = item.current
    where = ", ".join(v for v in f.location.values() if v)
    number = series_numbers.get(f.series_instance_uid)
    image = f"series {number if number is not None else '?'}, image {f.instance_number or f.slice_index + 1}"
    source = "reader" if item.is_manual else f"{f.model_id} {f.model_version}"
    confidence = "" if item.is_manual else f"{f.confidence:.2f}"
    status = ("accepted unseen" if item.accepted_unseen_by else item.status.value) + (" *" if item.note else "")
    return [f.finding_type.meaning, f"{where} ({image})" if where else image, describe_size(f), confidence, source, status]


class FindingsPanel(QTreeWidget):
    """One row per finding of a Review; `finding_selected` carries the current Finding."""

    finding_selected = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findingsList")
        self.setHeaderLabels(["Finding", "Where", "Size", "Conf.", "Model", "Status"])
        self.setRootIsDecorated(False)
        self.setToolTip("AI findings are suggestions to verify, never a diagnosis. A accept, R reject, E edit, "
                        "N / Shift+N the next / previous finding.")
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # in the narrow panel column, what a reader reviews by comes first: type, size, status;
        # the long place and the model after them (the columns keep their numbers)
        for visual, column in enumerate((0, 2, 5, 1, 3, 4)):
            self.header().moveSection(self.header().visualIndex(column), visual)
        self.ids: list[str] = []
        self._items: dict[str, ReviewedFinding] = {}
        self.currentItemChanged.connect(self._current_changed)

    def show_review(self, review: Review | None, series_numbers: dict[str, int | None]) -> None:
        """Refill from `review`, keeping the selected finding selected."""
        selected = self.selected_id()
        self.blockSignals(True)
        try:
            self.clear()
            self.ids = []
            self._items = dict(review.items) if review else {}
            for finding_id, item in self._items.items():
                row = QTreeWidgetItem(self, _row(item, series_numbers))
                row.setData(0, FINDING_ROLE, finding_id)
                row.setForeground(5, QBrush(QColor(*STATUS_COLORS[REVIEW_MARKER_STATUS[item.status]][:3])))  # as its flag
                if item.accepted_unseen_by:
                    row.setToolTip(5, f"Accepted without review by {item.accepted_unseen_by}: no reader has "
                                      "verified it yet. A accepts it as yours, R rejects it.")
                elif item.note:
                    row.setToolTip(5, f"Reader's note: {item.note}")
                self.ids.append(finding_id)
                if finding_id == selected:
                    self.setCurrentItem(row)
        finally:
            self.blockSignals(False)

    def selected_id(self) -> str | None:
        current = self.currentItem()
        return current.data(0, FINDING_ROLE) if current is not None else None

    def finding(self, finding_id: str) -> Finding:
        """The finding of a row, as the review now has it (with the reader's edits)."""
        return self._items[finding_id].current

    def select(self, finding_id: str) -> None:
        if finding_id in self.ids:
            self.setCurrentItem(self.topLevelItem(self.ids.index(finding_id)))

    def _current_changed(self, current: QTreeWidgetItem | None, _previous) -> None:
        if current is not None:
            self.finding_selected.emit(self._items[current.data(0, FINDING_ROLE)].current)
