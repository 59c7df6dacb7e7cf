"""The window's view of the open study's StudySession (radview.workflow.session).

The session holds the workflow: the review, the report, the model results, the exports and the
study's lock. This view opens a session when a series of another study is loaded, shows what the
session holds (findings list, report editor, mask layers and flags in their review colours),
passes the reader's actions on, turns a locked study or report into a status message, and autosaves
the draft within AUTOSAVE_MS of an edit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from radview.core.findings import Finding
from radview.core.overlays import REVIEW_MARKER_STATUS, Marker, MarkerLayer, MarkerStatus
from radview.core.report import Report, ReportLocked
from radview.core.review import Review
from radview.core.settings import Settings
from radview.core.study_index import StudyIndex
from radview.core.study_lock import StudyInUse
from radview.core.volume import Volume
from radview.core.workspace import StudyWorkspace
from radview.gui.findings_panel import FindingsPanel
from radview.gui.report_editor import ReportEditor
from radview.gui.viewer_area import ViewerArea
from radview.workflow.exports import export_pdf
from radview.workflow.model_requests import ModelOutput
from radview.workflow.reporting import StudyContext
from radview.workflow.session import StudySession
from radview.workflow.study_opening import Stack

log = logging.getLogger("radview.gui")
READER_LAYER = "Reader findings"
AUTOSAVE_MS = 1000  # at most 2 s between an edit and the draft on disk


class SessionView(QObject):
    """The open study on screen; `changed` fires after every change the reader sees."""

    changed = Signal()
    saved = Signal(str)  # path of the draft just written

    def __init__(self, area: ViewerArea, findings: FindingsPanel, editor: ReportEditor, settings: Settings,
                 data_root: Path, parent: QWidget, show_status: Callable[[str, int], None]) -> None:
        super().__init__(parent)
        self._area, self._findings, self._editor, self.settings = area, findings, editor, settings
        self._data_root, self.show_status = Path(data_root), show_status
        self.study: StudySession | None = None
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_report)
        editor.section_edited.connect(self._section_edited)
        editor.take_pending.connect(lambda name: self._do(lambda s: s.take_pending(name)))
        editor.risk_changed.connect(lambda risk: self._do(lambda s: s.set_nodule_risk(risk)))

    # the open session's state, None without a study
    @property
    def review(self) -> Review | None:
        return self.study.review if self.study else None

    @property
    def report(self) -> Report | None:
        return self.study.report if self.study else None

    @property
    def workspace(self) -> StudyWorkspace | None:
        return self.study.workspace if self.study else None

    @property
    def context(self) -> StudyContext | None:
        return self.study.context if self.study else None

    # ----- study and series -------------------------------------------------------------------
    def series_loaded(self, index: StudyIndex, stack: Stack, volume: Volume) -> None:
        """A series is fully on screen: open its study's session if another is open, add the series."""
        study = index.study_of(stack.series)
        if self.study is None or self.study.study_instance_uid != study.study_instance_uid:
            self.close_study()
            self._open(index, stack)
        assert self.study is not None
        self.study.add_series(stack.series, volume)

    def _open(self, index: StudyIndex, stack: Stack) -> None:
        session = StudySession.of_series(index, stack.series, self._data_root, self.settings.reader_name,
                                         purpose="radview window", read_only_if_busy=True)
        self.study = session
        session.changed.connect(self._refresh)
        session.saved.connect(self.saved.emit)
        session.model_output.connect(self._show_output)
        if session.study.identity_warnings:
            self.show_status(" ".join(session.study.identity_warnings), 60000)
        elif not session.writable:
            self.show_status(f"⚠ Read only: {session.read_only_reason}", 30000)
        elif session.restore_problem:
            self.show_status(f"⚠ {session.restore_problem}", 15000)
        elif session.restored:
            self.show_status("The saved report draft of this study was restored", 8000)

    def close_study(self) -> None:
        """Write what is pending and release the study before another takes the screen."""
        self._autosave.stop()
        if self.study is not None:
            for event in (self.study.changed, self.study.saved, self.study.model_output):
                event.disconnect()  # the closed session's late events must not reach the views
            self.study.close()
        self.study = None
        self._findings.show_review(None, {})
        self._editor.show_report(None)
        self.changed.emit()

    def _show_output(self, output: ModelOutput, previous: ModelOutput | None) -> None:
        """A model's result replaces its earlier run's mask and flags (a refused input shows none)."""
        if previous is not None:
            self._area.remove_layers(previous.layers)
        for layer in output.layers:
            if isinstance(layer, MarkerLayer):
                self._area.add_marker_layer(layer)
            else:
                self._area.add_label_layer(layer)
        self._recolour_markers()
        self.changed.emit()  # the new flags' statuses (a restored review's) reach the layer list

    # ----- the reader's actions (the review dock and the menus call these) -------------------------
    def accept(self, finding_id: str) -> None:
        self._do(lambda s: s.accept(finding_id))

    def reject(self, finding_id: str) -> None:
        self._do(lambda s: s.reject(finding_id))

    def edit(self, finding_id: str, changes: dict) -> None:
        self._do(lambda s: s.edit(finding_id, changes))

    def undo(self) -> str | None:
        return self._do(lambda s: s.undo())

    def redo(self) -> str | None:
        return self._do(lambda s: s.redo())

    def add_manual(self, finding: Finding) -> None:
        self._do(lambda s: s.add_manual(finding))

    def manual_finding(self, volume: Volume, point_lps_mm: np.ndarray, measurements: dict[str, float]) -> Finding:
        assert self.study is not None
        return self.study.manual_finding(volume, point_lps_mm, measurements)

    def sign(self, reader: str) -> None:
        self._do(lambda s: s.sign(reader))

    def amend(self) -> None:
        if self.report is not None and self.report.signed:  # only a signed report has something to amend
            self._do(lambda s: s.amend())

    def export_pdf(self, path: Path) -> int:
        """Write the PDF (key images with the reader's rulers drawn in); returns its pages."""
        assert self.study is not None
        self._autosave.stop()
        return export_pdf(self.study, Path(path), self.settings.institution, self.settings.page_size,
                          self._area.measurements)

    def save_report(self) -> None:
        """Write the draft now (atomic); the autosave timer calls this."""
        if self.study is not None:
            self.study.save_report()

    def _do(self, action):
        """Run a session action; a locked study or a signed report becomes a status message."""
        if self.study is None:
            return None
        with self._refusals():
            return action(self.study)
        return None

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        try:
            yield
        except (ReportLocked, StudyInUse) as refused:
            self.show_status(f"⚠ {refused}", 8000)

    def _section_edited(self, name: str, html: str) -> None:
        if self.study is None or self.study.report.signed or not self.study.writable:
            return
        self.study.edit_section(name, html)
        self._autosave.start()

    # ----- keeping the views in step ---------------------------------------------------------------
    def _refresh(self) -> None:
        session = self.study
        if session is None:
            return
        numbers = {s.series_instance_uid: s.series_number for s in session.context.series}
        self._findings.show_review(session.review, numbers)
        self._editor.show_report(session.report, session.report.nodule_risk)
        self._recolour_markers()
        self.changed.emit()

    def _recolour_markers(self) -> None:
        """Flags take their finding's review colour; the reader's own findings get their own layer."""
        if self.study is None:
            return
        review = self.study.review
        manual: dict[str, list[Marker]] = {}
        for item in review.items.values():
            if item.is_manual:
                f = item.current
                manual.setdefault(f.series_instance_uid, []).append(
                    Marker(f.id, np.array(f.centre_lps_mm), max(f.size_mm, 8.0), f.finding_type.meaning, MarkerStatus.MANUAL))
        for uid in set(manual) | set(self._area.marker_layers):
            own = next((layer for layer in self._area.marker_layers.get(uid, []) if layer.name == READER_LAYER), None)
            if own is None and uid in manual:
                own = MarkerLayer(READER_LAYER, uid)
                self._area.add_marker_layer(own)
            if own is not None:
                own.markers = manual.get(uid, [])
        for layers in self._area.marker_layers.values():
            for layer in layers:
                for marker in layer.markers:
                    item = review.items.get(marker.id)
                    if item is not None:
                        marker.status = REVIEW_MARKER_STATUS[item.status]
        self._area.overlays_changed()
