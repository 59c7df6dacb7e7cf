"""Which studies a batch run has done: one small record per study, written last and atomically.

`OUT/<study>/batch-record.json` holds the StudyInstanceUID, the model versions it was analysed
with, and its table rows. It is written after findings.json, the report and the PDF, by an atomic
rename, so it exists only for a study whose outputs are complete: a worker killed mid-study leaves
no record, and the study is run again (its workspace lock died with the worker). A rerun of the
same command skips a study whose record names the same models and versions; new model versions
analyse it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from radview.core.atomic import write_text_atomic

RECORD_NAME = "batch-record.json"
FAILURES_NAME = "batch-failures.json"
TABLE_NAME = "findings.parquet"


@dataclass
class StudyRecord:
    """A study a batch task finished."""

    study_instance_uid: str
    models: dict[str, str]  # model id -> version the study was analysed with
    rows: list[dict] = field(default_factory=list)  # radview.workflow.batch_table rows
    seconds: float = 0.0
    worker: str = ""
    attempt: int = 1
    finished_utc: str = ""
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"study_instance_uid": self.study_instance_uid, "models": self.models, "rows": self.rows,
                "seconds": self.seconds, "worker": self.worker, "attempt": self.attempt,
                "finished_utc": self.finished_utc, "notes": self.notes}

    @classmethod
    def from_dict(cls, data: dict) -> StudyRecord:
        return cls(str(data["study_instance_uid"]), dict(data["models"]), list(data.get("rows", [])),
                   float(data.get("seconds", 0.0)), str(data.get("worker", "")), int(data.get("attempt", 1)),
                   str(data.get("finished_utc", "")), list(data.get("notes", [])))


def write_record(folder: Path, record: StudyRecord) -> Path:
    """Mark the study done (the last write of its task)."""
    path = Path(folder) / RECORD_NAME
    write_text_atomic(path, json.dumps(record.to_dict(), ensure_ascii=False, allow_nan=False))
    return path


def read_record(folder: Path) -> StudyRecord | None:
    """The study's record, None when it has none or it cannot be read (then it is done again)."""
    try:
        return StudyRecord.from_dict(json.loads((Path(folder) / RECORD_NAME).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_done(folder: Path, study_instance_uid: str, models: dict[str, str]) -> bool:
    """True when the study was analysed to the end with exactly these model versions."""
    record = read_record(folder)
    return record is not None and record.study_instance_uid == study_instance_uid and record.models == models


def all_records(out: Path) -> list[StudyRecord]:
    """Every study record under OUT (one per study folder), in folder order."""
    records = []
    for path in sorted(Path(out).glob(f"*/{RECORD_NAME}")):
        record = read_record(path.parent)
        if record is not None:
            records.append(record)
    return records


def write_failures(out: Path, failures: list[dict]) -> Path:
    """This run's failed studies with their reasons (replaced by each run: a rerun retries them)."""
    path = Path(out) / FAILURES_NAME
    write_text_atomic(path, json.dumps(failures, indent=1, ensure_ascii=False))
    return path
