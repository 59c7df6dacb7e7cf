"""The study session: one study's reading workflow, without a window.

The window, `radview analyze`, the worklist's AI triage and the self-test each drive a
StudySession; none keeps its own copy of the workflow. A session

- holds the study's workspace lock for as long as it is open (one writer per study; a study
  open elsewhere opens read-only in the window, or makes a headless driver wait, bounded);
- restores the review and the report draft from the workspace, and writes both after every change;
- takes model results as frozen requests (radview.workflow.model_requests): a re-run replaces the
  earlier result and its layers, and a result whose request is no longer the latest, or whose
  series or study has left the session, is dropped;
- applies the reader's review actions and report edits, sign and amend;
- writes and audits the exports (radview.workflow.exports).

Its events (psygnal signals, no Qt) let a window follow it: `changed` after every change the
reader sees, `saved` with the draft's path, `model_output` with a new result and the one it replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import numpy as np
from psygnal import Signal

from radview.ai.card import ModelCard
from radview.core.findings import CLINICAL_FINDING, Finding
from radview.core.progress import CancelToken, ProgressCallback
from radview.core.report import Report, ReportLocked
from radview.core.safe_files import read_private, write_private_atomic
from radview.core.review import MANUAL_MODEL_ID, Review, ReviewStatus
from radview.core.study_index import Series, Study, StudyIndex
from radview.core.study_lock import StudyInUse, StudyLock
from radview.core.volume import Volume
from radview.core.workspace import StudyWorkspace, WorkspaceError
from radview.workflow.model_requests import ModelOutput, ModelRequest, compute, result_layers
from radview.workflow.model_selection import models_for, not_applicable_run, run_record
from radview.workflow.reporting import StudyContext, model_used, update_report

log = logging.getLogger("radview.workflow")
T = TypeVar("T")


class StudySession:
    """One open study. Close it (or use it as a context manager) to write what is pending and
    release the study's lock."""

    changed = Signal()
    saved = Signal(str)
    model_output = Signal(object, object)  # ModelOutput, and the one it replaced (or None)

    def __init__(self, index: StudyIndex, study: Study, data_root: Path, reader: str, *, purpose: str = "radview",
                 lock_timeout_s: float = 0.0, read_only_if_busy: bool = False) -> None:
        """Open `study` of `index`: take its lock (waiting at most lock_timeout_s; when it is busy
        raise StudyInUse, or open read-only with read_only_if_busy) and restore its saved state."""
        self.index, self.study = index, study
        self.patient = next(p for p in index.patients if study in p.studies)
        self.reader = reader
        self.context = StudyContext(self.patient, study)
        self.workspace = StudyWorkspace(data_root, study.workspace_id)
        self.lock = StudyLock(self.workspace.folder, purpose)
        self.read_only_reason = ""
        try:
            self.lock.acquire(lock_timeout_s)
        except StudyInUse as busy:
            if not read_only_if_busy:
                raise
            self.read_only_reason = str(busy)
        self.audit = self.workspace.audit_log() if self.writable else None
        self.review = Review(reader, self.audit)
        self.report = Report(study.study_instance_uid)
        self.restore_problem = ""  # a damaged workspace file, in words
        self.restored = False  # a saved draft was found
        self.outputs: dict[str, ModelOutput] = {}  # request key -> the result on show
        self._requests: dict[str, ModelRequest] = {}  # request key -> the latest request
        self.closed = False
        try:
            self._restore()
        except BaseException:
            self.lock.release()  # a session that failed to open must not keep the study locked
            raise

    @classmethod
    def of_series(cls, index: StudyIndex, series: Series, data_root: Path, reader: str, **options) -> StudySession:
        """The session of the study a series belongs to."""
        return cls(index, index.study_of(series), data_root, reader, **options)

    @property
    def writable(self) -> bool:
        return not self.read_only_reason

    @property
    def study_instance_uid(self) -> str:
        return self.study.study_instance_uid

    def _restore(self) -> None:
        try:
            self.review.restore(self.workspace.read_json(self.workspace.review_path) or {})
            saved = self.workspace.read_json(self.workspace.report_path)
            if saved:
                self.report, self.restored = Report.from_dict(saved), True
        except (WorkspaceError, ValueError, KeyError, TypeError) as error:
            # a damaged or hand-edited file: say which, keep a copy, start clean
            problem = error if isinstance(error, WorkspaceError) else f"{self.workspace.folder}: {type(error).__name__}: {error}"
            log.error("%s", problem)
            kept = self._keep_damaged_files()
            self.restore_problem = f"{problem}; starting a new review" + (f" (the old files are kept as {kept})" if kept else "")
            self.review.restore({})
            self.report = Report(self.study.study_instance_uid)

    def _keep_damaged_files(self) -> str:
        """Copy review.json and report.json aside before a new review overwrites them."""
        if not self.writable:
            return ""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        kept = []
        for path in (self.workspace.review_path, self.workspace.report_path):
            if path.is_file():
                copy = path.with_name(f"{path.name}.damaged-{stamp}")
                write_private_atomic(copy, read_private(path))
                kept.append(copy.name)
        return ", ".join(kept)

    # ----- series and models -------------------------------------------------------------------
    def add_series(self, series: Series, volume: Volume) -> None:
        """A series is loaded: it joins the report's technique and can be analysed."""
        self._check_open()
        if all(s.series_instance_uid != series.series_instance_uid for s in self.context.series):
            self.context.series.append(series)
        self.context.volumes[volume.series_instance_uid] = volume
        self._redraft()
        self.changed.emit()

    def plan_models(self, cards: list[ModelCard], volume: Volume, device: str = "auto") -> list[ModelRequest]:
        """Requests for the models made for `volume`; the others of its modality are recorded as
        not applicable, with the rules the series breaks."""
        chosen = models_for(cards, volume)
        if self.writable:
            for card, mismatches in chosen.near_misses():
                self.review.record_model_run(not_applicable_run(card, volume, mismatches))
            if chosen.near_misses():
                self._after_review_change()
        return [self.request(card, volume.series_instance_uid, device) for card in chosen.applicable]

    def request(self, card: ModelCard, series_instance_uid: str, device: str = "auto",
                mismatches: tuple = ()) -> ModelRequest:
        """A new request; from now on it is the only one whose result is taken for its key."""
        request = ModelRequest(card, series_instance_uid, device, tuple(mismatches))
        self._requests[request.key] = request
        return request

    def is_current(self, request: ModelRequest) -> bool:
        """The one rule for stale results: the session is open, the request is the latest for its
        model and series, and the series is still loaded."""
        return (not self.closed and self._requests.get(request.key) is request
                and request.series_instance_uid in self.context.volumes)

    def apply(self, request: ModelRequest, result) -> ModelOutput | None:
        """Take a finished request's result (a radview.ai.engine.ModelResult): its findings join
        the review, its layers replace the earlier run's. None when the result is stale."""
        if not self.is_current(request):
            log.info("dropped a stale result of %s", request.key)
            return None
        self.check_writable()
        volume = self.context.volumes[request.series_instance_uid]
        run = run_record(result, volume)
        if not result.input_refused:
            self.context.models[result.card.id] = model_used(result.card)
            self.context.labels[(request.series_instance_uid, result.card.id)] = result.labels
        self.review.record_model_run(run, result.findings)
        output = ModelOutput(request, run, result, result_layers(result, volume))
        previous = self.outputs.get(request.key)
        self.outputs[request.key] = output
        self._after_review_change()
        self.model_output.emit(output, previous)
        return output

    def run(self, request: ModelRequest, progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
            cpu_threads: int | None = None) -> ModelOutput | None:
        """Compute and apply a request here (the headless drivers; the window computes in a worker)."""
        self.check_writable()
        return self.apply(request, compute(request, self.context.volumes[request.series_instance_uid], progress,
                                           cancel, cpu_threads))

    # ----- the reader's review ------------------------------------------------------------------
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

    def accept_all(self, by: str) -> int:
        """Accept every unreviewed finding without a reader seeing them (`analyze --accept-all`),
        recorded as such: the report says who accepted them and that no reader verified them."""
        unreviewed = [i.original.id for i in self.review.findings() if i.status is ReviewStatus.UNREVIEWED]
        if unreviewed:
            self._act(lambda r: [r.accept_unseen(finding_id, by) for finding_id in unreviewed])
        return len(unreviewed)

    def manual_finding(self, volume: Volume, point_lps_mm: np.ndarray, measurements: dict[str, float]) -> Finding:
        """A reader's finding at a point of a loaded series (a marker, a ruler's middle, an ROI centre)."""
        voxel = volume.patient_mm_to_voxel(np.asarray(point_lps_mm, float)[None])[0]
        k = int(np.clip(round(float(voxel[0])), 0, volume.shape[0] - 1))
        number = 1 + sum(item.is_manual for item in self.review.items.values())
        while f"manual-{number}" in self.review.items:
            number += 1
        return Finding(f"manual-{number}", CLINICAL_FINDING, volume.series_instance_uid,
                       MANUAL_MODEL_ID, "", 1.0, tuple(round(float(c), 2) for c in point_lps_mm), k,
                       measurements, {}, {}, 0, volume.slices[k].instance_number if volume.slices else None)

    def _act(self, action: Callable[[Review], T]) -> T:
        self.check_writable()
        if self.report.signed:
            raise ReportLocked(f"the report (version {self.report.version}) is signed: amend it to change the review")
        result = action(self.review)
        self._after_review_change()
        return result

    # ----- the report ---------------------------------------------------------------------------
    def edit_section(self, name: str, html: str) -> None:
        """The reader's text for a section; written by the next save (the window's autosave)."""
        self.check_writable()
        self.report.reader_edit(name, html)

    def take_pending(self, name: str) -> None:
        """The reader takes the waiting draft of a section."""
        self.check_writable()
        self.report.take_pending(name)
        self.save_report()
        self.changed.emit()

    def set_nodule_risk(self, risk: str) -> None:
        """The reader's judgement for the Fleischner 2017 advice ("low" or "high")."""
        self.check_writable()
        if self.report.signed:
            raise ReportLocked(f"the report (version {self.report.version}) is signed: amend it to change the risk")
        update_report(self.report, self.context, self.review, self.reader, risk)
        self.save_report()
        self.changed.emit()

    def sign(self, reader: str | None = None) -> None:
        """Sign the report: locked from now on; the signed version is kept beside the draft."""
        self.check_writable()
        reader = self.reader if reader is None else reader
        self.report.sign(reader, datetime.now(timezone.utc).isoformat(timespec="seconds"))
        if not self.reader.strip():  # the reader named themselves to sign: their later actions carry the name
            self.reader = self.review.reader = reader
        self.workspace.write_json(self.workspace.signed_version_path(self.report.version), self.report.to_dict())
        self.record_action("sign", f"report version {self.report.version}", reader)
        self.save_report()
        self.changed.emit()

    def amend(self) -> None:
        """A new, unsigned version of the signed report."""
        self.check_writable()
        self.report = self.report.amend()
        self.record_action("amend", f"report version {self.report.version} amends {self.report.amends_version}")
        self.save_report()
        self.changed.emit()

    # ----- saving and closing -----------------------------------------------------------------------
    def save_report(self) -> None:
        """Write the draft now (atomic)."""
        if self.writable and not self.closed:
            self.workspace.write_json(self.workspace.report_path, self.report.to_dict())
            self.saved.emit(str(self.workspace.report_path))

    def close(self) -> None:
        """Write the draft, release the lock; later results for this session are dropped."""
        if self.closed:
            return
        self.save_report()
        self.closed = True
        self.lock.release()

    def __enter__(self) -> StudySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- internals -------------------------------------------------------------------------------
    def record_action(self, action: str, detail: str, reader: str | None = None) -> None:
        """One audit line for something done with the study (sign, amend, an export)."""
        if self.audit is not None:
            self.audit.record(self.reader if reader is None else reader, action, detail=detail)

    def _check_open(self) -> None:
        if self.closed:
            raise RuntimeError(f"the session of study {self.study_instance_uid} is closed")

    def check_writable(self) -> None:
        """StudyInUse when another program holds the study (a read-only session); closed: RuntimeError."""
        self._check_open()
        if not self.writable:
            raise StudyInUse(self.read_only_reason)

    def _redraft(self) -> None:
        if self.writable and not self.report.signed:
            update_report(self.report, self.context, self.review, self.reader)

    def _after_review_change(self) -> None:
        self.workspace.write_json(self.workspace.review_path, self.review.to_dict())
        self._redraft()
        self.save_report()
        self.changed.emit()
