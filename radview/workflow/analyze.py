"""`radview analyze PATH --out DIR`: the whole flow without a window.

Scan -> load -> the models that apply -> findings -> review (all accepted with --accept-all,
else left unreviewed) -> draft -> findings.json, report.html and report.pdf per study, and with
--dicom the SEG / SR / encapsulated PDF / key images in dicom/. The review, the draft and the
audit log also go to the study's workspace, as the window keeps them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.review import Review
from radview.core.strict_json import dumps
from radview.core.study_index import Study, StudyIndex
from radview.core.study_lock import StudyInUse
from radview.core.workspace import study_folder_name
from radview.report.document import report_html
from radview.workflow.exports import export_dicom, export_pdf
from radview.workflow.session import StudySession
from radview.workflow.study_opening import load_stack, reading_stack, scan, series_stacks

LOCK_WAIT_S = 120.0
ACCEPT_ALL = "radview analyze --accept-all"  # who accepted the findings when no reader saw them  # how long analyze waits for a study another program has open


@dataclass
class StudyOutput:
    """What analyze wrote for one study (nothing, with the reason in notes, when it was skipped)."""

    study_instance_uid: str
    folder: Path
    findings: int
    accepted: int
    pdf_pages: int
    dicom_files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: bool = False


@dataclass(frozen=True)
class AnalyzeOptions:
    """How every study is analysed (the command's options); the same for analyze and batch."""

    accept_all: bool = False
    reader: str = ""
    nodule_risk: str | None = None
    device: str = "auto"
    institution: str = ""
    page_size: str = "A4"
    dicom: bool = False
    documents: bool = True
    lock_wait_s: float = LOCK_WAIT_S
    cpu_threads: int | None = None  # torch's threads on the CPU (batch: the cores shared among its workers)


def analyze(path: Path, out: Path, data_root: Path, accept_all: bool = False, reader: str = "",
            nodule_risk: str | None = None, device: str = "auto", model_folders: list[str] | None = None,
            institution: str = "", page_size: str = "A4", dicom: bool = False, documents: bool = True,
            progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
            lock_wait_s: float = LOCK_WAIT_S) -> list[StudyOutput]:
    """Analyse every study under `path`; one output folder per study (DIR itself for one study).

    Each study is one StudySession (radview.workflow.session), as the window opens it.
    documents=False writes findings.json and the workspace only (worklist triage: no PDF).
    nodule_risk: the reader's judgement for Fleischner 2017; None keeps the saved report's (else low).
    lock_wait_s: how long to wait for a study open in another program; then a single study raises
    StudyInUse, and of several studies that one is skipped with the reason."""
    from radview.ai.registry import find_models

    index = scan(path, cancel=cancel)
    studies = [study for patient in index.patients for study in patient.studies]
    if not studies:
        skipped = "; ".join(f"{s.path}: {s.reason}" for s in index.skipped[:5]) if index.skipped else ""
        raise FileNotFoundError(f"{path}: no DICOM images found{' (' + skipped + ')' if skipped else ''}")
    cards, refused = find_models(model_folders)
    options = AnalyzeOptions(accept_all, reader, nodule_risk, device, institution, page_size, dicom, documents, lock_wait_s)
    outputs = []
    for n, study in enumerate(studies):
        folder = Path(out) if len(studies) == 1 else Path(out) / study_folder_name(study.workspace_id)
        try:
            output = analyze_study(index, study, folder, data_root, cards, options, [r.reason for r in refused],
                                   progress, (n, len(studies)), cancel, raise_unreadable=len(studies) == 1)
        except StudyInUse as busy:
            if len(studies) == 1:
                raise
            output = StudyOutput(study.study_instance_uid, folder, 0, 0, 0, notes=[f"skipped: {busy}"], skipped=True)
        outputs.append(output)
        report(progress, n + 1, len(studies), f"study {n + 1} of {len(studies)} written")
    if index.skipped and outputs:
        outputs[0].notes.append(f"{len(index.skipped)} file(s) under {path} were skipped: "
                                + "; ".join(f"{s.path}: {s.reason}" for s in index.skipped[:20])
                                + (" and more (radview info lists them all)" if len(index.skipped) > 20 else ""))
    return outputs


def analyze_study(index: StudyIndex, study: Study, folder: Path, data_root: Path, cards: list, options: AnalyzeOptions,
                  refused: list[str] | None = None, progress: ProgressCallback | None = None,
                  study_of: tuple[int, int] = (0, 1), cancel: CancelToken | None = None,
                  raise_unreadable: bool = False, on_session: Callable[[StudySession], None] | None = None) -> StudyOutput:
    """One study of `index` as one StudySession: its models, the review rule, findings.json and,
    with options.documents, report.html / report.pdf (and DICOM results) in `folder`.

    StudyInUse when another program holds the study longer than options.lock_wait_s.
    raise_unreadable: when no series of the study could be read, raise the loader's error.
    on_session: called with the open session before it closes (batch reads its review there)."""
    session = StudySession(index, study, data_root, options.reader or "radview analyze", purpose="radview analyze",
                           lock_timeout_s=options.lock_wait_s)
    with session:
        notes = [f"model refused: {reason}" for reason in refused or []]
        notes += [session.restore_problem] if session.restore_problem else []
        failed = _run_models(session, cards, options, notes, progress, study_of, cancel)
        if failed and not session.context.volumes and raise_unreadable:
            raise failed[0]  # nothing of the study could be read: the loader's message is the answer
        if session.report.signed:
            notes.append(f"the report (version {session.report.version}) is signed; its PDF is written as signed, unchanged")
        else:
            if options.nodule_risk is not None:
                session.set_nodule_risk(options.nodule_risk)
            if options.accept_all:
                session.accept_all(ACCEPT_ALL)
        folder.mkdir(parents=True, exist_ok=True)
        _write_findings_json(folder / "findings.json", study, session.review, options.accept_all)
        output = StudyOutput(study.study_instance_uid, folder, len(session.review.items),
                             len(session.review.accepted()), 0, notes=notes)
        if options.documents:
            (folder / "report.html").write_text(report_html(session.report), encoding="utf-8")
            output.pdf_pages = export_pdf(session, folder / "report.pdf", options.institution, options.page_size)
            if options.dicom:
                results = export_dicom(session, folder / "dicom", folder / "report.pdf", options.institution)
                output.dicom_files, output.notes = results.files, notes + results.notes
        if on_session is not None:
            on_session(session)
    return output


def _run_models(session: StudySession, cards: list, options: AnalyzeOptions, notes: list[str],
                progress: ProgressCallback | None, study_of: tuple[int, int], cancel: CancelToken | None) -> list[Exception]:
    """Every series of the study at its reading stack (a 2D series: its first image), with the
    models made for it. A series that cannot be loaded is named in the notes; the others go on."""
    from radview.dicom.load import LoadError

    failed: list[Exception] = []
    for series in session.study.series:
        stack = reading_stack(series_stacks(series))
        if stack is None:
            continue
        try:
            volume = load_stack(stack, cancel=cancel)
        except LoadError as error:
            notes.append(f"series {series.series_number} ({series.description or series.modality}) not analysed: {error}")
            failed.append(error)
            continue
        session.add_series(series, volume)
        for request in session.plan_models(cards, volume, options.device):
            report(progress, *study_of, f"{request.model_id} on series {series.series_number}")
            output = session.run(request, cancel=cancel, cpu_threads=options.cpu_threads)
            if output is not None:
                notes += output.result.notes
                if output.run.withheld:
                    notes.append(output.run.statement())
    return failed


def _write_findings_json(path: Path, study: Study, review: Review, accept_all: bool) -> None:
    data = {
        "study_instance_uid": study.study_instance_uid,
        # images of another patient that share this study's or a series' UID: kept apart, and said
        "identity_warnings": study.identity_warnings,
        "written_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "review": (f"accepted without review by {ACCEPT_ALL}: no reader has verified them" if accept_all
                   else "as reviewed (unreviewed findings are not in the report)"),
        "notice": "AI findings are suggestions for a radiologist to verify, never a diagnosis.",
        # why a series has no AI findings: not a negative result (model not made for it, or input refused)
        "no_ai_findings_shown": [run.statement() for run in review.withheld_runs()],
        **review.to_dict(),
    }
    path.write_text(dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
