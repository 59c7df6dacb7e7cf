"""One study of a batch run, as a Dask worker runs it: the same analyze_study as `radview analyze`.

The model cards are found once per worker process and kept (`_worker_cards`); the networks are
loaded once per process by the engine's own cache (radview.ai.engine), so each model is loaded
once per worker, not once per study. A study's input that cannot be read fails at once with the
reason (the same input fails the same way again); anything else (a lost file share, a study open
in the window, memory) is raised for Dask to retry, a bounded number of times.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from radview.core.atomic import write_text_atomic
from radview.workflow.analyze import AnalyzeOptions, analyze_study
from radview.workflow.batch_records import StudyRecord, write_record
from radview.workflow.batch_sources import StudySource, opened_study
from radview.workflow.batch_table import study_rows

ATTEMPTS_NAME = ".batch-attempts.json"
_cards_by_folders: dict[tuple, tuple[list, list[str]]] = {}  # this worker's cards (found once per process)


@dataclass(frozen=True)
class BatchSettings:
    """What every task of a run shares (sent once per task; small)."""

    out: str
    options: AnalyzeOptions
    model_ids: tuple[str, ...] | None = None  # None: every model that applies
    model_folders: tuple[str, ...] = ()
    data_root: str | None = None  # None: the worker account's own data folder
    cache_root: str | None = None  # where PACS studies are retrieved to (None: the system's temp folder)


@dataclass
class StudyFailure:
    """A study that cannot be analysed, and why (no retry: its input is unusable)."""

    study_instance_uid: str
    label: str
    reason: str
    worker: str = ""
    notes: list[str] = field(default_factory=list)


def permanent_errors() -> tuple[type[BaseException], ...]:
    """Errors of the study's own input: retrying gives the same answer."""
    from radview.ai.card import CardError
    from radview.dicom.header import HeaderError
    from radview.dicom.load import LoadError
    from radview.dicom.pixels import PixelError

    return (LoadError, HeaderError, PixelError, CardError, ValueError, FileNotFoundError)


def selected_cards(model_folders: tuple[str, ...] | list[str], model_ids: tuple[str, ...] | None) -> tuple[list, list[str]]:
    """The model cards found (only `model_ids` when given) and the reasons packages were refused.
    An id no package has is a ValueError naming the ones there are."""
    from radview.ai.registry import find_models

    cards, refused = find_models(list(model_folders) or None)
    if model_ids is None:
        return cards, [r.reason for r in refused]
    known = {card.id for card in cards}
    missing = [m for m in model_ids if m not in known]
    if missing:
        raise ValueError(f"no model {', '.join(missing)} (found: {', '.join(sorted(known)) or 'none'})")
    return [card for card in cards if card.id in model_ids], [r.reason for r in refused]


def model_versions(cards: list) -> dict[str, str]:
    """Model id -> version: with the StudyInstanceUID, what makes a study done."""
    return {card.id: card.version for card in sorted(cards, key=lambda c: c.id)}


def _worker_cards(settings: BatchSettings) -> tuple[list, list[str]]:
    key = (settings.model_folders, settings.model_ids)
    if key not in _cards_by_folders:
        _cards_by_folders[key] = selected_cards(settings.model_folders, settings.model_ids)
    return _cards_by_folders[key]


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"


def _count_attempt(folder: Path) -> int:
    """How many times a task began this study in this output folder (a killed worker's attempt
    counts), and which process is on it now: the record shows a study that needed a second try."""
    path = folder / ATTEMPTS_NAME
    try:
        attempts = int(json.loads(path.read_text()).get("attempts", 0)) + 1
    except (OSError, ValueError, AttributeError):
        attempts = 1
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps({"attempts": attempts, "pid": os.getpid(), "worker": _worker_name(),
                                        "started_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}))
    return attempts


def run_study(source: StudySource, settings: BatchSettings) -> StudyRecord | StudyFailure:
    """Analyse one study into OUT/<study>/ and mark it done; returns its record, or the failure
    of an unusable input. Transient errors are raised (Dask retries the task)."""
    from radview.user_dirs import data_dir

    start = time.perf_counter()
    folder = Path(settings.out) / source.folder_name
    attempt = _count_attempt(folder)
    cards, refused = _worker_cards(settings)
    data_root = Path(settings.data_root) if settings.data_root else data_dir()
    rows: list[dict] = []

    def collect(session) -> None:
        series = {s.series_instance_uid: (s.series_number, s.modality) for s in session.study.series}
        rows.extend(study_rows(session.review, source.study_instance_uid, session.patient.patient_id,
                               session.study.date, series))

    try:
        with opened_study(source, Path(settings.cache_root) if settings.cache_root else None) as (index, study):
            output = analyze_study(index, study, folder, data_root, cards, settings.options, refused,
                                   raise_unreadable=True, on_session=collect)
    except permanent_errors() as error:
        return StudyFailure(source.study_instance_uid, source.label, f"{type(error).__name__}: {error}", _worker_name())
    seconds = round(time.perf_counter() - start, 2)
    worker = _worker_name()
    rows[-1].update(seconds=seconds, worker=worker)  # the study's row is the last
    record = StudyRecord(source.study_instance_uid, model_versions(cards), rows, seconds, worker, attempt,
                         datetime.now(timezone.utc).isoformat(timespec="seconds"), output.notes)
    write_record(folder, record)  # last: the study is done only once everything above is written
    (folder / ATTEMPTS_NAME).unlink(missing_ok=True)  # a later run (new model versions) counts afresh
    return record
