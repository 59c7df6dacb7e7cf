"""The worklist's data: the studies in the local cache with their AI and report state, and
the AI run that triages studies nobody has analysed yet."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from radview.core.ai_runs import RunOutcome
from radview.core.pacs import StudyRecord
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.review import MANUAL_MODEL_ID
from radview.core.study_lock import StudyInUse
from radview.core.workspace import StudyWorkspace, WorkspaceError
from radview.core.worklist import WorklistEntry


def _record(study_folder: Path) -> tuple[StudyRecord, datetime] | None:
    """One header per series: the study's identity, its modalities, when the first file arrived."""
    import pydicom

    modalities, first, arrived = [], None, None
    count = 0
    for series in sorted(p for p in study_folder.iterdir() if p.is_dir()):
        files = sorted(series.glob("*.dcm"))
        count += len(files)
        if not files:
            continue
        try:
            ds = pydicom.dcmread(files[0], stop_before_pixels=True)
        except Exception:  # a damaged file in the cache: the study is listed from its other series
            continue
        first = first or ds
        modalities.append(str(ds.get("Modality", "")))
        mtime = datetime.fromtimestamp(files[0].stat().st_mtime, timezone.utc)
        arrived = min(arrived, mtime) if arrived else mtime
    if first is None:
        return None
    record = StudyRecord(str(first.StudyInstanceUID), str(first.get("PatientName", "")), str(first.get("PatientID", "")),
                         str(first.get("StudyDate", "")), str(first.get("StudyTime", "")),
                         sorted({m for m in modalities if m}), str(first.get("StudyDescription", "")),
                         str(first.get("AccessionNumber", "")), count, "cache")
    return record, arrived


def _review_state(entry: WorklistEntry, data_root: Path) -> None:
    workspace = StudyWorkspace(data_root, entry.record.study_instance_uid)
    try:
        review = workspace.read_json(workspace.review_path)
        saved_report = workspace.read_json(workspace.report_path)
    except WorkspaceError:
        return  # shown as not analysed; opening the study reports the damaged file
    if review is not None:
        items = review.get("findings", [])
        entry.ai_findings = sum(1 for i in items if i["original"]["model_id"] != MANUAL_MODEL_ID and i["status"] != "rejected")
        outcomes = [r.get("outcome") for r in review.get("model_runs", [])]
        entry.ai_refused = outcomes.count(RunOutcome.INPUT_REFUSED.value)
        entry.ai_ran = outcomes.count(RunOutcome.FINDINGS.value)
        entry.ai_positive = entry.ai_findings > 0
    entry.signed = bool(saved_report and saved_report.get("signed_by"))


def cached_studies(cache: Path, data_root: Path) -> list[WorklistEntry]:
    """Every study under <cache>/<study>/<series>/*.dcm (what the PACS retrieve writes)."""
    entries = []
    if not Path(cache).is_dir():
        return entries
    for folder in sorted(p for p in Path(cache).iterdir() if p.is_dir()):
        found = _record(folder)
        if found is None:
            continue
        entry = WorklistEntry(found[0], found[1], folder=str(folder))
        _review_state(entry, data_root)
        entries.append(entry)
    return entries


def analyze_unread(entries: list[WorklistEntry], data_root: Path, device: str = "auto",
                   model_folders: list[str] | None = None, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> tuple[int, list[str]]:
    """Run the models on local studies no model has seen yet (findings stay unreviewed), so
    triage can order them. A study open elsewhere (the window, another analyze) is left for later,
    never written by two programs at once. Returns how many studies were analysed, and the ones
    left out with why."""
    from radview.workflow.analyze import analyze

    todo = [e for e in entries if e.ai_positive is None and e.folder]
    left_out, analysed = [], 0
    for n, entry in enumerate(todo):
        report(progress, n, len(todo), f"AI triage: study {n + 1} of {len(todo)}")
        out = StudyWorkspace(data_root, entry.record.study_instance_uid).exports / "triage"
        try:
            outputs = analyze(Path(entry.folder), out, data_root, device=device, model_folders=model_folders,
                              documents=False, cancel=cancel, lock_wait_s=0.0)
        except StudyInUse as busy:
            left_out.append(f"{entry.record.patient_name or entry.record.study_instance_uid}: {busy}")
        else:
            analysed += any(not o.skipped for o in outputs)
            left_out += [f"{o.study_instance_uid}: {note}" for o in outputs if o.skipped for note in o.notes]
        _review_state(entry, data_root)
    report(progress, len(todo), len(todo), "AI triage done")
    return analysed, left_out
