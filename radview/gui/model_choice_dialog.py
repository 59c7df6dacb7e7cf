"""AI > Run a Model by Hand: every model found, whether it was made for the shown series and why
not, and a warning that names the mismatch before a model runs on a series it was not made for.
A model of another modality is listed, greyed, and cannot be run."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QMessageBox,
                               QVBoxLayout, QWidget)

from radview.workflow.model_selection import SeriesModels, describe, runnable_by_hand

CARD_ROLE = Qt.ItemDataRole.UserRole + 1


class ModelChoiceDialog(QDialog):
    """Pick one model; `chosen` is (card, mismatches) after Run, else None."""

    def __init__(self, models: SeriesModels, series: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Run a Model by Hand")
        self.chosen = None
        self.list = QListWidget()
        self.list.setObjectName("modelChoices")
        self.list.setWordWrap(True)
        # made for it first, then the same modality's (what a reader would try), then the rest
        near = models.near_misses()
        entries = ([(card, []) for card in models.applicable] + near
                   + [entry for entry in models.excluded if entry not in near])
        for card, mismatches in entries:
            if not mismatches:
                verdict = "made for this series"
            elif runnable_by_hand(mismatches):
                verdict = f"not made for this series: {describe(mismatches)}"
            else:
                verdict = f"cannot run on this series: {describe(mismatches)}"
            item = QListWidgetItem(f"{card.id} {card.version} — {verdict}")
            item.setData(CARD_ROLE, (card, mismatches))
            item.setToolTip(card.intended_use)
            if not runnable_by_hand(mismatches):
                item.setFlags(item.flags() & ~(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable))
            self.list.addItem(item)
        runnable = [row for row, (_card, mismatches) in enumerate(entries) if runnable_by_hand(mismatches)]
        if runnable:
            self.list.setCurrentRow(runnable[0])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton("Run", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self._run)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Models for {series}. Every run checks first that the images are like the "
                                "model's training data, and shows no findings when they are not. A model made "
                                "for another modality cannot be run."))
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(640, 320)

    def _run(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        card, mismatches = item.data(CARD_ROLE)
        if not runnable_by_hand(mismatches) or (mismatches and not confirm_by_hand(self, card, mismatches)):
            return
        self.chosen = (card, mismatches)
        self.accept()


def confirm_by_hand(parent: QWidget, card, mismatches) -> bool:
    """The warning before a run on a series the model was not made for; True to run anyway."""
    answer = QMessageBox.warning(
        parent, "Model not made for this series",
        f"{card.id} {card.version} was not made for this series: {describe(mismatches)}.\n\n"
        "Its findings here may be wrong. Its input check still withholds every finding on images unlike its "
        "training data, and the report will say that you ran it by hand.\n\nRun it anyway?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
