"""The window's review and report driver for the study on screen.

It keeps the study's Review and Report (radview.core) in its workspace, feeds them the model
results, applies the reader's actions, redrafts the report, recolours the flags, autosaves the
draft within AUTOSAVE_MS of an edit and writes the PDF. The same workflow functions back
`radview analyze`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from radview.core.ai_runs import ModelRun
from radview.core.findings import CLINICAL_FINDING, Finding
from radview.core.overlays import Marker, MarkerLayer, MarkerStatus
from radview.core.report import Report
from radview.core.review import MANUAL_MODEL_ID, Review, ReviewStatus
from radview.core.settings import Settings
from radview.core.study_index import StudyIndex
from radview.core.volume import Volume
from radview.core.workspace import StudyWorkspace
from radview.dicom.stacks import Stack
from radview.gui.findings_panel import FindingsPanel
from radview.gui.report_editor import ReportEditor
from radview.gui.viewer_area import ViewerArea
from radview.workflow.reporting import StudyContext, export_pdf, model_used, update_report

log = logging.getLogger("radview.gui")
READER_LAYER = "Reader findings"
AUTOSAVE_MS = 1000  # the issue allows 2 s between an edit and the draft on disk
MARKER_STATUS = {ReviewStatus.UNREVIEWED: MarkerStatus.PENDING, ReviewStatus.ACCEPTED: MarkerStatus.ACCEPTED,
                 ReviewStatus.EDITED: MarkerStatus.ACCEPTED, ReviewStatus.REJECTED: MarkerStatus.REJECTED}


class StudySession(QObject):
    """Review + report of the open study; `changed` fires after every change the reader sees."""

    changed = Signal()
    saved = Signal(str)  # path of the draft just written

    def __init__(self, area: ViewerArea, findings: FindingsPanel, editor: ReportEditor, settings: Settings,
                 data_root: Path, parent: QWidget, show_status: Callable[[str, int], None]) -> None:
        super().__init__(parent)
        self._area, self._findings, self._editor, self.settings = area, findings, editor, settings
        self._data_root, self.show_status = Path(data_root), show_status
        self.workspace: StudyWorkspace | None = None
        self.review: Review | None = None
        self.report: Report | None = None
        self.context: StudyContext | None = None
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_report)
        editor.section_edited.connect(self._section_edited)
        editor.take_pending.connect(self._take_pending)
        editor.risk_changed.connect(self._risk_changed)

    # ----- study and series -------------------------------------------------------------------
    def series_loaded(self, index: StudyIndex, stack: Stack, volume: Volume) -> None:
        """A series is fully on screen: switch to its study's workspace if needed, note the series."""
        study = index.study_of(stack.series)
        if self.context is None or self.context.study.study_instance_uid != study.study_instance_uid:
            self.close_study()
            self._open_study(index, stack)
        assert self.context is not None
        if all(s.series_instance_uid != stack.series.series_instance_uid for s in self.context.series):
            self.context.series.append(stack.series)
        self.context.volumes[volume.series_instance_uid] = volume
        self._refresh(redraft=True)

    def _open_study(self, index: StudyIndex, stack: Stack) -> None:
        patient, study = index.patient_of(stack.series), index.study_of(stack.series)
        self.context = StudyContext(patient, study)
        self.workspace = StudyWorkspace(self._data_root, study.study_instance_uid)
        self.review = Review(self.settings.reader_name, self.workspace.audit_log())
        try:
            self.review.restore(self.workspace.read_json(self.workspace.review_path) or {})
            saved = self.workspace.read_json(self.workspace.report_path)
        except ValueError as error:  # a damaged workspace file: say so, start clean, keep the file
            log.error("%s", error)
            self.show_status(f"⚠ {error}; starting a new review", 15000)
            saved = None
        self.report = Report.from_dict(saved) if saved else Report(study.study_instance_uid)
        if saved:
            self.show_status("The saved report draft of this study was restored", 8000)

    def close_study(self) -> None:
        """Write what is pending before another study takes the screen."""
        if self._autosave.isActive():
            self._autosave.stop()
            self.save_report()
        self.workspace = self.review = self.report = self.context = None
        self._findings.show_review(None, {})
        self._editor.show_report(None)

    def model_run(self, run: ModelRun, result) -> None:
        """What a model did with the current series joins the review: its findings when it ran
        (a ModelResult of radview.ai.engine), else only why it shows none (result None)."""
        if self.review is None or self.context is None:
            return
        if result is not None:
            self.context.models[result.card.id] = model_used(result.card)
            self.context.labels[(run.series_instance_uid, result.card.id)] = result.labels
        self.review.record_model_run(run, result.findings if result is not None else [])
        self._after_review_change()

    # ----- the reader's actions -----------------------------------------------------------------
    def accept(self, finding_id: str) -> None:
        self._act(lambda r: r.accept(finding_id))

    def reject(self, finding_id: str) -> None:
        self._act(lambda r: r.reject(finding_id))

    def edit(self, finding_id: str, changes: dict) -> None:
        self._act(lambda r: r.edit(finding_id, **changes))

    def undo(self) -> str | None:
        return self._act(lambda r: r.undo())

    def redo(self) -> str | None:
        return self._act(lambda r: r.redo())

    def add_manual(self, finding: Finding) -> None:
        self._act(lambda r: r.add_manual(finding))

    def manual_finding(self, volume: Volume, point_lps_mm: np.ndarray, measurements: dict[str, float]) -> Finding:
        """A reader's finding at a point of the shown series (a marker, a ruler's middle, an ROI centre)."""
        assert self.review is not None
        voxel = volume.patient_mm_to_voxel(np.asarray(point_lps_mm, float)[None])[0]
        k = int(np.clip(round(float(voxel[0])), 0, volume.shape[0] - 1))
        number = 1 + sum(item.is_manual for item in self.review.items.values())
        while f"manual-{number}" in self.review.items:
            number += 1
        return Finding(f"manual-{number}", CLINICAL_FINDING, volume.series_instance_uid,
                       MANUAL_MODEL_ID, "", 1.0, tuple(round(float(c), 2) for c in point_lps_mm), k,
                       measurements, {}, {}, 0, volume.slices[k].instance_number if volume.slices else None)

    def _act(self, action):
        if self.review is None:
            return None
        if self.report is not None and self.report.signed:
            self.show_status("The report is signed: amend it to change the review", 8000)
            return None
        result = action(self.review)
        self._after_review_change()
        return result

    # ----- report --------------------------------------------------------------------------------
    def sign(self, reader: str) -> None:
        if self.report is None or self.workspace is None:
            return
        self.report.sign(reader, datetime.now(timezone.utc).isoformat(timespec="seconds"))
        self.workspace.write_json(self.workspace.signed_version_path(self.report.version), self.report.to_dict())
        self.workspace.audit_log().record(reader, "sign", detail=f"report version {self.report.version}")
        self.save_report()
        self._refresh(redraft=False)

    def amend(self) -> None:
        if self.report is None or self.workspace is None or not self.report.signed:
            return
        self.report = self.report.amend()
        self.workspace.audit_log().record(self.settings.reader_name, "amend",
                                          detail=f"report version {self.report.version} amends {self.report.amends_version}")
        self.save_report()
        self._refresh(redraft=False)

    def export_pdf(self, path: Path) -> int:
        """Write the PDF (key images with the reader's rulers drawn in); returns its pages."""
        assert self.report is not None and self.context is not None and self.review is not None
        self.save_report()
        pages = export_pdf(self.report, self.context, self.review, Path(path), self.settings.institution,
                           self.settings.page_size, self._area.measurements)
        if self.workspace is not None:
            self.workspace.audit_log().record(self.settings.reader_name, "export-pdf", detail=str(path))
        return pages

    def save_report(self) -> None:
        """Write the draft now (atomic); the autosave timer calls this."""
        if self.report is None or self.workspace is None:
            return
        self.workspace.write_json(self.workspace.report_path, self.report.to_dict())
        self.saved.emit(str(self.workspace.report_path))

    def _section_edited(self, name: str, html: str) -> None:
        if self.report is None or self.report.signed:
            return
        self.report.reader_edit(name, html)
        self._autosave.start()

    def _take_pending(self, name: str) -> None:
        if self.report is not None and not self.report.signed:
            self.report.take_pending(name)
            self.save_report()
            self._refresh(redraft=False)

    def _risk_changed(self, risk: str) -> None:
        if self.report is None or self.report.signed:
            return
        self.report.nodule_risk = risk
        self._refresh(redraft=True)
        self.save_report()

    # ----- keeping everything in step ---------------------------------------------------------------
    def _after_review_change(self) -> None:
        assert self.workspace is not None and self.review is not None
        self.workspace.write_json(self.workspace.review_path, self.review.to_dict())
        self._refresh(redraft=True)
        self.save_report()

    def _refresh(self, redraft: bool) -> None:
        if self.review is None or self.report is None or self.context is None:
            return
        if redraft and not self.report.signed:
            update_report(self.report, self.context, self.review, self.settings.reader_name)
        numbers = {s.series_instance_uid: s.series_number for s in self.context.series}
        self._findings.show_review(self.review, numbers)
        self._editor.show_report(self.report, self.report.nodule_risk)
        self._recolour_markers()
        self.changed.emit()

    def _recolour_markers(self) -> None:
        """Flags take their finding's review colour; the reader's own findings get their own layer."""
        assert self.review is not None
        manual: dict[str, list[Marker]] = {}
        for item in self.review.items.values():
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
                    item = self.review.items.get(marker.id)
                    if item is not None:
                        marker.status = MARKER_STATUS[item.status]
        self._area.overlays_changed()
