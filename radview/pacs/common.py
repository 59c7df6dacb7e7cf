"""What both protocols share: the error type, where retrieved instances go, the query keys."""

from __future__ import annotations

from pathlib import Path

from radview.core.atomic import write_bytes_atomic
from radview.core.pacs import StudyRecord
from radview.core.workspace import study_folder_name

CONNECT_TIMEOUT_S = 10
STUDY_FIELDS = ("StudyInstanceUID", "PatientName", "PatientID", "StudyDate", "StudyTime", "ModalitiesInStudy",
                "StudyDescription", "AccessionNumber", "NumberOfStudyRelatedInstances")


class PacsError(RuntimeError):
    """A PACS operation that failed; the message names the node and says what to check."""


def instance_path(cache: Path, study_uid: str, series_uid: str, sop_uid: str) -> Path:
    """Where a retrieved instance is kept: <cache>/<study>/<series>/<instance>.dcm."""
    # a peer's UIDs are untrusted: ".." or a slash must never name a path outside the cache
    safe = [study_folder_name(str(u).strip() or "unknown") for u in (study_uid, series_uid, sop_uid)]
    return Path(cache) / safe[0] / safe[1] / f"{safe[2]}.dcm"


def save_instance(cache: Path, study_uid: str, series_uid: str, sop_uid: str, data: bytes) -> Path:
    """Write one received instance (Part 10 bytes) atomically into the cache."""
    path = instance_path(cache, study_uid, series_uid, sop_uid)
    write_bytes_atomic(path, data)
    return path


def study_record(ds, source: str) -> StudyRecord:
    """A C-FIND / QIDO answer (a pydicom Dataset) as a StudyRecord."""
    modalities = ds.get("ModalitiesInStudy", "") or []
    modalities = [modalities] if isinstance(modalities, str) else [str(m) for m in modalities]
    count = ds.get("NumberOfStudyRelatedInstances", None)
    return StudyRecord(
        study_instance_uid=str(ds.get("StudyInstanceUID", "")), patient_name=str(ds.get("PatientName", "") or ""),
        patient_id=str(ds.get("PatientID", "") or ""), study_date=str(ds.get("StudyDate", "") or ""),
        study_time=str(ds.get("StudyTime", "") or ""), modalities=[m for m in modalities if m],
        description=str(ds.get("StudyDescription", "") or ""),
        accession_number=str(ds.get("AccessionNumber", "") or ""),
        instances=int(count) if count not in (None, "") else None, source=source)
