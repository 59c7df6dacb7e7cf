"""The Findings dock: review progress, the review buttons and the findings list, and the
handlers of the Review menu (accept A, reject R, edit E, add M, undo, redo, sign, export)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QInputDialog,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from radview.core.review import ReviewStatus
from radview.core.study_lock import StudyInUse
from radview.gui.error_dialog import readable, show_error
from radview.gui.finding_dialog import FindingDialog
from radview.gui.findings_panel import FindingsPanel
from radview.gui.session_view import SessionView
from radview.gui.viewer_area import ViewerArea

BUTTONS = ("previous_finding", "next_finding", "accept_finding", "reject_finding",
           "edit_finding", "add_finding", "undo_review", "redo_review")
BUTTON_COLUMNS = 4  # two short rows keep the dock narrow beside the views


class ReviewDock(QWidget):
    """Progress line + buttons (bound to the window's QActions) + the findings list."""

    def __init__(self, findings: FindingsPanel, session: SessionView, area: ViewerArea,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.findings, self.session, self.area = findings, session, area
        self.progress = QLabel("No findings")
        self.progress.setObjectName("reviewProgress")
        self._buttons = QGridLayout()
        self._buttons.setSpacing(2)
        # why a series shows no AI findings (not made for it, or images unlike the training data)
        self.ai_statements = QLabel()
        self.ai_statements.setObjectName("aiStatements")
        self.ai_statements.setWordWrap(True)
        self.ai_statements.setStyleSheet("QLabel { background: #4a3b00; color: #ffe9a6; padding: 4px; }")
        self.ai_statements.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.progress)
        layout.addLayout(self._buttons)
        layout.addWidget(self.ai_statements)
        layout.addWidget(findings, 1)
        self._undo: QAction | None = None
        self._redo: QAction | None = None
        session.changed.connect(self._update_progress)

    def bind(self, actions: dict[str, QAction]) -> None:
        """Show the review actions as buttons (same keys, same handlers as the menu)."""
        for n, name in enumerate(BUTTONS):
            button = QToolButton()
            button.setDefaultAction(actions[name])  # its short text (radview.gui.actions), keys in the tooltip
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            self._buttons.addWidget(button, n // BUTTON_COLUMNS, n % BUTTON_COLUMNS)
        self._undo, self._redo = actions["undo_review"], actions["redo_review"]
        self._update_progress()

    def _update_progress(self) -> None:
        review = self.session.review
        done, total = review.progress() if review else (0, 0)
        self.progress.setText(f"{done} of {total} reviewed" if total else "No findings")
        withheld = review.withheld_runs() if review else []
        self.ai_statements.setText("\n".join(run.statement() for run in withheld))
        self.ai_statements.setVisible(bool(withheld))
        if self._undo is not None:  # nothing to undo (or redo): the key and the button say so
            self._undo.setEnabled(bool(review and review.can_undo))
            self._redo.setEnabled(bool(review and review.can_redo))

    # ----- handlers (radview.gui.actions: action_<name>) ----------------------------------------------
    def _selected(self) -> str | None:
        finding_id = self.findings.selected_id()
        if finding_id is None and self.area.selected_marker in self.findings.ids:
            finding_id = self.area.selected_marker
        if finding_id is None:
            self.session.show_status("Select a finding first (click a row or a flag)", 5000)
        return finding_id

    def _next_unreviewed(self, after: str) -> None:
        """Move on to the next finding still to review, as a reader works down the list."""
        review = self.session.review
        if review is None:
            return
        ids = self.findings.ids
        start = ids.index(after) + 1 if after in ids else 0
        for finding_id in ids[start:] + ids[:start]:
            if review.items[finding_id].status is ReviewStatus.UNREVIEWED:
                self.findings.select(finding_id)
                return

    def action_accept_finding(self) -> None:
        finding_id = self._selected()
        if finding_id:
            self.session.accept(finding_id)
            self._next_unreviewed(finding_id)

    def action_reject_finding(self) -> None:
        finding_id = self._selected()
        if finding_id:
            self.session.reject(finding_id)
            self._next_unreviewed(finding_id)

    def action_edit_finding(self) -> None:
        finding_id = self._selected()
        review = self.session.review
        if not finding_id or review is None:
            return
        item = review.items[finding_id]
        dialog = FindingDialog(item.current, item.note, parent=self)
        if dialog.exec():
            self.session.edit(finding_id, dialog.changes())

    def action_add_finding(self) -> None:
        """A manual finding from the selected measurement (its middle and values), else at the crosshair."""
        volume = self.area.volume
        if volume is None or self.session.review is None:
            return
        measurement = next((m for m in self.area.series_measurements() if m.id == self.area.selected_measurement), None)
        if measurement is not None:
            point = (measurement.points_lps_mm[:2].mean(axis=0) if measurement.kind.value == "distance"
                     else measurement.points_lps_mm[0])
            values = {k: round(float(v), 1) for k, v in measurement.values.items()}
        elif self.area.focus_lps_mm is not None:
            point, values = self.area.focus_lps_mm, {}
        else:
            self.session.show_status("Draw a measurement or set the crosshair where the finding is", 6000)
            return
        finding = self.session.manual_finding(volume, np.asarray(point), values)
        dialog = FindingDialog(finding, title="Add finding", parent=self)
        if dialog.exec():
            self.session.add_manual(finding)
            self.session.edit(finding.id, dialog.changes())
            self.findings.select(finding.id)

    def action_undo_review(self) -> None:
        finding_id = self.session.undo()
        if finding_id:
            self.findings.select(finding_id)

    def action_redo_review(self) -> None:
        finding_id = self.session.redo()
        if finding_id:
            self.findings.select(finding_id)

    def action_sign_report(self) -> None:
        if self.session.report is None:
            return
        reader = self.session.settings.reader_name
        if not reader:
            reader, ok = QInputDialog.getText(self, "Sign report", "Reader name (saved in the settings):")
            if not ok or not reader.strip():
                return
            self.session.settings.reader_name = reader.strip()
        try:
            self.session.sign(reader.strip())
        except ValueError as error:
            show_error(self, "Cannot sign", readable(error), "")

    def action_amend_report(self) -> None:
        self.session.amend()

    def action_export_pdf(self) -> None:
        if self.session.report is None or self.session.workspace is None:
            return
        default = self.session.workspace.exports / f"report-v{self.session.report.version}.pdf"
        default.parent.mkdir(parents=True, exist_ok=True)
        path, _ = QFileDialog.getSaveFileName(self, "Export report as PDF", str(default), "PDF (*.pdf)")
        if not path:
            return
        try:
            pages = self.session.export_pdf(Path(path))
        except StudyInUse as refused:
            self.session.show_status(f"⚠ {refused}", 8000)
            return
        except (OSError, ValueError) as error:
            show_error(self, "PDF export failed", readable(error), "Choose a folder you can write to.")
            return
        self.session.show_status(f"Wrote {path} ({pages} page(s))", 8000)
