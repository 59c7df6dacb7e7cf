"""The study browser: patients / studies / series (stacks) with thumbnails and warnings.

Double-click or Enter on a series asks the window to load it. Files the scan skipped are
listed under their own node with the reason, so nothing disappears silently.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QKeyEvent, QPixmap
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from radview.core.dicom_text import dicom_date, display_name
from radview.core.study_index import StudyIndex
from radview.workflow.study_opening import Stack, series_stacks

STACK_ROLE = Qt.ItemDataRole.UserRole + 1
THUMBNAIL_PX = 64


def patient_name(dicom_name: str) -> str:
    """How the screen names a patient (radview.core.dicom_text), "(no name)" when there is none."""
    return display_name(dicom_name) or "(no name)"


class StudyBrowser(QTreeWidget):
    """Tree of the scanned index; leaves are stacks that load as one volume."""

    stack_activated = Signal(object)  # Stack

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("studyBrowser")
        self.setColumnCount(4)
        self.setHeaderLabels(["Series", "Mod.", "Images", "Notes"])
        self.setIconSize(QSize(THUMBNAIL_PX, THUMBNAIL_PX))
        self.setIndentation(12)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.setToolTip("Double-click or Enter loads a series")
        self.itemActivated.connect(self._activated)
        self.stacks: list[Stack] = []
        self._items: list[QTreeWidgetItem] = []

    def show_index(self, index: StudyIndex) -> None:
        """Fill the tree from a scan; every series is split into its loadable stacks."""
        self.clear()
        self.stacks, self._items = [], []
        for patient in index.patients:
            p_item = QTreeWidgetItem(self, [f"{patient_name(patient.name)}  ({patient.patient_id})"])
            p_item.setToolTip(0, f"Born {dicom_date(patient.birth_date) or '?'}, sex {patient.sex or '?'}")
            for study in patient.studies:
                s_item = QTreeWidgetItem(p_item, [f"{dicom_date(study.date)}  {study.description or '(no description)'}"])
                s_item.setToolTip(0, f"Accession {study.accession_number or '-'}\n{study.study_instance_uid}")
                self._flag_identity(s_item, study.warnings)
                for series in study.series:
                    for stack in series_stacks(series):
                        self._add_stack(s_item, stack)
                        self._flag_identity(self._items[-1], series.warnings)
                s_item.setExpanded(True)
            p_item.setExpanded(True)
        if index.skipped:
            skipped = QTreeWidgetItem(self, [f"Skipped files ({len(index.skipped)})"])
            skipped.setForeground(0, Qt.GlobalColor.yellow)
            for s in index.skipped:
                item = QTreeWidgetItem(skipped, [f"{Path(s.path).name}: {s.reason}"])
                item.setToolTip(0, f"{s.path}\n{s.reason}")

    def _add_stack(self, parent: QTreeWidgetItem, stack: Stack) -> None:
        series = stack.series
        title = f"{series.series_number if series.series_number is not None else '-'}  {stack.description}"
        item = QTreeWidgetItem(parent, [title, series.modality, str(len(stack.images)), ""])
        item.setData(0, STACK_ROLE, len(self.stacks))
        self._show_warnings(item, stack.warnings)
        item.setToolTip(0, f"{stack.description}\n{series.series_instance_uid}")
        self.stacks.append(stack)
        self._items.append(item)

    def add_warnings(self, stack: Stack, warnings: list[str]) -> None:
        """Show the loader's warnings (gaps, tilt) on a series once it is loaded."""
        self._show_warnings(self._items[self.stacks.index(stack)], warnings)

    @classmethod
    def _flag_identity(cls, item: QTreeWidgetItem, warnings: list[str]) -> None:
        """Another patient's images shared this study's or series' UID: loud, in red."""
        if warnings:
            cls._show_warnings(item, warnings)
            for column in range(item.columnCount()):
                item.setForeground(column, Qt.GlobalColor.red)
            item.setText(0, f"⚠ {item.text(0)} (identity conflict)")

    @staticmethod
    def _show_warnings(item: QTreeWidgetItem, warnings: list[str]) -> None:
        """A short mark in the Notes column; the full text in its tooltip and the title's."""
        if warnings:
            item.setText(3, f"⚠ {len(warnings)}")
            item.setToolTip(3, "\n".join(warnings))
            item.setToolTip(0, item.toolTip(0).split("\n⚠")[0] + "\n⚠ " + "\n⚠ ".join(warnings))

    def set_thumbnail(self, stack_number: int, pixels: np.ndarray) -> None:
        """Put a (h, w) or (h, w, 3) uint8 thumbnail on a stack's row."""
        pixels = np.ascontiguousarray(pixels)
        h, w = pixels.shape[:2]
        fmt = QImage.Format.Format_RGB888 if pixels.ndim == 3 else QImage.Format.Format_Grayscale8
        image = QImage(pixels.data, w, h, pixels.strides[0], fmt).copy()  # copy: own the bytes
        self._items[stack_number].setIcon(0, QIcon(QPixmap.fromImage(image)))

    def select_stack(self, stack: Stack) -> None:
        if stack in self.stacks:
            self.setCurrentItem(self._items[self.stacks.index(stack)])

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        # Return on a series loads it; itemActivated covers it on most platforms, not all
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem() is not None:
            self._activated(self.currentItem(), 0)
            return
        super().keyPressEvent(event)

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        number = item.data(0, STACK_ROLE)
        if number is not None:
            self.stack_activated.emit(self.stacks[number])
