"""`radview batch`: every study of a folder tree or a PACS query, one Dask task per study.

The client finds the studies (a header scan, or a C-FIND), leaves out those already done with the
same model versions (radview.workflow.batch_records), and submits one task per remaining study to
a Dask cluster: a LocalCluster of worker processes on this machine, or the cluster at
`scheduler`. Each task runs radview.workflow.batch_task.run_study, i.e. the same StudySession
flow as `radview analyze`. A failed task is retried `retries` times; a study whose worker dies is
moved to another worker by Dask. Failures are isolated: the run finishes the other studies and
lists each failed one with its reason. At the end the archive's table (findings.parquet) is
rebuilt from the done records, so it holds each study once however often it was attempted.

Dask is imported here only, when a batch runs.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from radview.core.progress import ProgressCallback, report
from radview.workflow.analyze import AnalyzeOptions
from radview.workflow.batch_records import TABLE_NAME, StudyRecord, all_records, is_done, write_failures
from radview.workflow.batch_sources import (StudySource, folder_studies, is_pacs_source, pacs_studies,
                                            parse_pacs_source)
from radview.workflow.batch_table import study_row, write_table
from radview.workflow.batch_task import BatchSettings, StudyFailure, model_versions, run_study, selected_cards

DEFAULT_RETRIES = 2
GPU = "GPU"  # the Dask worker resource a GPU worker declares (dask worker --resources GPU=1)


@dataclass
class BatchSummary:
    """What a batch run did."""

    studies: int  # found in the source
    skipped: list[str] = field(default_factory=list)  # already done with these model versions
    done: list[StudyRecord] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)  # {"study_instance_uid", "label", "reason"}
    table: Path | None = None
    seconds: float = 0.0
    workers: int = 0
    dashboard: str = ""
    models: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def studies_per_hour(self) -> float:
        return 3600.0 * len(self.done) / self.seconds if self.seconds > 0 and self.done else 0.0


def find_sources(source: str, pacs_node: Callable[[str], object] | None = None) -> tuple[list[StudySource], list[str]]:
    """The studies of SOURCE: a folder tree, or "pacs:NODE?field=value&..." (pacs_node(name)
    gives the settings' node). Returns them and notes on files that were skipped."""
    if is_pacs_source(source):
        if pacs_node is None:
            raise ValueError(f"{source}: no PACS nodes to look the node up in")
        name, query = parse_pacs_source(source)
        return pacs_studies(pacs_node(name), query), []
    sources, skipped = folder_studies(Path(source))
    if not sources:
        raise FileNotFoundError(f"{source}: no DICOM images found" + (f" ({'; '.join(skipped[:5])})" if skipped else ""))
    notes = [f"{len(skipped)} file(s) were skipped: " + "; ".join(skipped[:10])] if skipped else []
    return sources, notes


def run_batch(source: str, out: Path, options: AnalyzeOptions, *, scheduler: str | None = None, workers: int = 1,
              model_ids: list[str] | None = None, model_folders: list[str] | None = None,
              data_root: Path | None = None, retries: int = DEFAULT_RETRIES, pacs_node: Callable | None = None,
              progress: ProgressCallback | None = None, on_start: Callable[[BatchSummary], None] | None = None,
              processes: bool = True) -> BatchSummary:
    """Analyse every study of `source` not yet done into OUT/<study>/ and write OUT/findings.parquet.

    workers: LocalCluster worker processes (ignored with `scheduler`). data_root: the workspaces'
    root (None: each worker's own account's). on_start: called once the cluster is up (the
    dashboard address is known). processes=False runs the workers as threads of this process
    (tests only: one process, so no model is loaded twice)."""
    started = time.perf_counter()
    out = Path(out)
    cards, _ = selected_cards(model_folders or [], tuple(model_ids) if model_ids else None)
    if not cards:
        raise ValueError("no model to run: `radview models` lists the packages found")
    models = model_versions(cards)
    sources, notes = find_sources(source, pacs_node)
    summary = BatchSummary(len(sources), models=models, notes=notes)
    todo = []
    for study in sources:
        if is_done(out / study.folder_name, study.study_instance_uid, models):
            summary.skipped.append(study.study_instance_uid)
        else:
            todo.append(study)
    if todo:
        settings = BatchSettings(str(out), options, tuple(model_ids) if model_ids else None, tuple(model_folders or ()),
                                 str(data_root) if data_root else None)
        with _client(scheduler, workers, options.device, processes) as client:
            summary.workers = len(client.scheduler_info()["workers"])
            summary.dashboard = _dashboard(client)
            if scheduler is None and processes:
                # the cores are shared: each worker's torch gets its part (a cluster's workers keep their own)
                settings = replace(settings, options=replace(options, cpu_threads=max(1, (os.cpu_count() or 1) // workers)))
            if on_start is not None:
                on_start(summary)
            _run_tasks(client, todo, settings, retries, summary, progress)
    summary.seconds = time.perf_counter() - started
    summary.table = _write_table(out, summary)
    write_failures(out, summary.failed)
    return summary


@contextlib.contextmanager
def _client(scheduler: str | None, workers: int, device: str, processes: bool) -> Iterator:
    """A Dask client of the cluster at `scheduler`, or of a LocalCluster it closes afterwards."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler, timeout=30) as client:
            yield client
        return
    resources = {GPU: 1} if _cuda_present(device) else None
    # non-daemon workers: the DICOM decoders and header scan start processes of their own
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(n_workers=max(1, workers), threads_per_worker=1, processes=processes,
                               dashboard_address=":0", resources=resources, silence_logs=40)
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def _cuda_present(device: str) -> bool:
    if device == "cpu":
        return False
    from radview.ai.engine import choose_device

    return choose_device(device) == "cuda"


def _dashboard(client) -> str:
    try:
        return client.dashboard_link if client.scheduler_info().get("services", {}).get("dashboard") else ""
    except (KeyError, AttributeError):
        return ""


def _run_tasks(client, todo: list[StudySource], settings: BatchSettings, retries: int, summary: BatchSummary,
               progress: ProgressCallback | None) -> None:
    """Submit a task per study; take each result as it comes; progress with done, failed, ETA."""
    import uuid

    from distributed import as_completed

    gpu_workers = any(GPU in (w.get("resources") or {}) for w in client.scheduler_info()["workers"].values())
    run = uuid.uuid4().hex[:8]  # keys unique per run: a shared scheduler may hold an earlier run's
    by_key = {}
    for study in todo:
        future = client.submit(run_study, study, settings, key=f"radview-study-{study.folder_name}-{run}", pure=False,
                               retries=retries, resources={GPU: 1} if gpu_workers else None)
        by_key[future.key] = (future, study)
    start = time.perf_counter()
    report(progress, 0, len(todo), f"0 done, 0 failed, {len(todo)} to go")
    finished = 0
    for future in as_completed([f for f, _ in by_key.values()]):
        _, study = by_key[future.key]
        finished += 1
        if future.status == "error":
            summary.failed.append(_failure(study, _reason(future.exception())))
        else:
            result = future.result()
            if isinstance(result, StudyFailure):
                summary.failed.append(_failure(study, result.reason, result.worker))
            else:
                summary.done.append(result)
        future.release()
        elapsed = time.perf_counter() - start
        eta = elapsed / finished * (len(todo) - finished)
        report(progress, finished, len(todo), f"{len(summary.done)} done, {len(summary.failed)} failed, "
                                              f"{len(todo) - finished} to go, ETA {_duration(eta)}")


def _failure(study: StudySource, reason: str, worker: str = "") -> dict:
    return {"study_instance_uid": study.study_instance_uid, "label": study.label, "reason": reason, "worker": worker}


def _reason(error: BaseException | None) -> str:
    """A failed task's reason in words; a worker that died under it is said as such."""
    if error is None:
        return "unknown error"
    if type(error).__name__ == "KilledWorker":
        return ("the workers running it died each time (out of memory, or killed): "
                f"{error}")
    return f"{type(error).__name__}: {error}"


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


def _write_table(out: Path, summary: BatchSummary) -> Path:
    """findings.parquet: every done study's rows, and a row for each study that failed this run."""
    rows = [row for record in all_records(out) for row in record.rows]
    failed = {f["study_instance_uid"] for f in summary.failed}
    rows = [r for r in rows if r["study_instance_uid"] not in failed]  # an older record is not this run's answer
    rows += [study_row(f["study_instance_uid"], status="failed", reason=f["reason"], worker=f["worker"] or None)
             for f in summary.failed]
    return write_table(rows, out / TABLE_NAME)
