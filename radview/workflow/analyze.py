"""`radview analyze PATH --out DIR`: the whole flow without a window.

Scan -> load -> the models that apply -> findings -> review (all accepted with --accept-all,
else left unreviewed) -> draft -> findings.json, report.html and report.pdf per study, and with
--dicom the SEG / SR / encapsulated PDF / key images in dicom/. The review, the draft and the
audit log also go to the study's workspace, as the window keeps them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.report import Report
from radview.core.review import Review, ReviewStatus
from radview.core.workspace import StudyWorkspace
from radview.report.document import report_html
from radview.workflow.dicom_results import export_dicom_results
from radview.workflow.model_selection import models_for, not_applicable_run, run_record
from radview.workflow.reporting import StudyContext, export_pdf, model_used, update_report


@dataclass
class StudyOutput:
    """What analyze wrote for one study."""

    study_instance_uid: str
    folder: Path
    findings: int
    accepted: int
    pdf_pages: int
    dicom_files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def analyze(path: Path, out: Path, data_root: Path, accept_all: bool = False, reader: str = "",
            nodule_risk: str | None = None, device: str = "auto", model_folders: list[str] | None = None,
            institution: str = "", page_size: str = "A4", dicom: bool = False, documents: bool = True,
            progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> list[StudyOutput]:
    """Analyse every study under `path`; one output folder per study (DIR itself for one study).

    documents=False writes findings.json and the workspace only (worklist triage: no PDF).
    nodule_risk: the reader's judgement for Fleischner 2017; None keeps the saved report's (else low)."""
    from radview.ai.engine import run_model
    from radview.ai.registry import find_models
    from radview.dicom.load import load_stack
    from radview.dicom.scan import scan_path
    from radview.dicom.stacks import split_series

    index = scan_path(path, cancel=cancel)
    studies = [(patient, study) for patient in index.patients for study in patient.studies]
    if not studies:
        skipped = "; ".join(f"{s.path}: {s.reason}" for s in index.skipped[:5]) if index.skipped else ""
        raise FileNotFoundError(f"{path}: no DICOM images found{' (' + skipped + ')' if skipped else ''}")
    cards, refused = find_models(model_folders)
    outputs = []
    for n, (patient, study) in enumerate(studies):
        context = StudyContext(patient, study)
        workspace = StudyWorkspace(data_root, study.study_instance_uid)
        review = Review(reader or "radview analyze", workspace.audit_log())
        review.restore(workspace.read_json(workspace.review_path) or {})
        notes = [f"model refused: {r.reason}" for r in refused]
        for series in study.series:
            stacks = split_series(series)
            if not stacks:
                continue
            # the largest stack of each series (a 2D series: its first image), as the window opens it
            volume = load_stack(stacks[0], cancel=cancel)
            context.series.append(series)
            context.volumes[series.series_instance_uid] = volume
            chosen = models_for(cards, volume)
            for card, mismatches in chosen.near_misses():
                review.record_model_run(not_applicable_run(card, volume, mismatches))
            for card in chosen.applicable:
                report(progress, n, len(studies), f"{card.id} on series {series.series_number}")
                result = run_model(card, volume, device, cancel=cancel)
                notes += result.notes
                context.models[card.id] = model_used(card)
                context.labels[(series.series_instance_uid, card.id)] = result.labels
                run = run_record(result, volume)
                review.record_model_run(run, result.findings)
                if run.withheld:
                    notes.append(run.statement())
        if accept_all:
            for item in review.findings():
                if item.status is ReviewStatus.UNREVIEWED:
                    review.accept(item.original.id)
        workspace.write_json(workspace.review_path, review.to_dict())
        saved = workspace.read_json(workspace.report_path)
        draft = Report.from_dict(saved) if saved else Report(study.study_instance_uid)
        if draft.signed:
            notes.append(f"the report (version {draft.version}) is signed; its PDF is written as signed, unchanged")
        else:
            update_report(draft, context, review, reader, nodule_risk)
            workspace.write_json(workspace.report_path, draft.to_dict())
        folder = Path(out) if len(studies) == 1 else Path(out) / study.study_instance_uid
        folder.mkdir(parents=True, exist_ok=True)
        _write_findings_json(folder / "findings.json", study.study_instance_uid, review, accept_all)
        pages = 0
        if documents:
            (folder / "report.html").write_text(report_html(draft), encoding="utf-8")
            pages = export_pdf(draft, context, review, folder / "report.pdf", institution, page_size)
        output = StudyOutput(study.study_instance_uid, folder, len(review.items), len(review.accepted()), pages, notes=notes)
        if dicom and documents:
            results = export_dicom_results(draft, context, review, folder / "report.pdf", folder / "dicom", institution)
            output.dicom_files, output.notes = results.files, notes + results.notes
        outputs.append(output)
        report(progress, n + 1, len(studies), f"study {n + 1} of {len(studies)} written")
    return outputs


def _write_findings_json(path: Path, study_uid: str, review: Review, accept_all: bool) -> None:
    data = {
        "study_instance_uid": study_uid,
        "written_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "review": "all accepted by --accept-all" if accept_all else "as reviewed (unreviewed findings are not in the report)",
        "notice": "AI findings are suggestions for a radiologist to verify, never a diagnosis.",
        # why a series has no AI findings: not a negative result (model not made for it, or input refused)
        "no_ai_findings_shown": [run.statement() for run in review.withheld_runs()],
        **review.to_dict(),
    }
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
