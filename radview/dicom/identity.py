"""Who the images belong to: patient identity keys, and UIDs that two patients share.

Two patients' images must never end up in one series: a reader would report one patient's
findings from the other's slices. A StudyInstanceUID or SeriesInstanceUID is meant to be unique,
but hostile files, broken anonymisers and merged archives reuse them. So the scan groups by
patient first (PatientID, PatientName and PatientBirthDate), then by study and series within the
patient, and every study or series whose UID also appears under another patient is flagged.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from radview.core.dicom_text import dicom_date, display_name
from radview.core.study_index import Patient, Series, Study
from radview.dicom.header import FileHeader

PatientKey = tuple[str, str, str]  # PatientID, normalised PatientName, PatientBirthDate


def _name_key(name: str) -> str:
    """PN components compared without case, padding or empty trailing components ("DOE^JOHN^^" = "doe^john")."""
    return "^".join(part.strip().casefold() for part in name.split("^")).rstrip("^")


def patient_keys(headers: list[FileHeader]) -> list[PatientKey]:
    """One identity key per header. An empty birth date joins the one other birth date known for the
    same ID and name (a series that left it out); with two different birth dates, they stay apart."""
    births: dict[tuple[str, str], set[str]] = defaultdict(set)
    for h in headers:
        if h.birth_date:
            births[(h.patient_id.strip(), _name_key(h.patient_name))].add(h.birth_date)
    keys = []
    for h in headers:
        person = (h.patient_id.strip(), _name_key(h.patient_name))
        known = births.get(person, set())
        birth = h.birth_date or (next(iter(known)) if len(known) == 1 else "")
        keys.append((*person, birth))
    return keys


def _describe(patient: Patient) -> str:
    born = f", born {dicom_date(patient.birth_date)}" if patient.birth_date else ""
    return f"patient {display_name(patient.name) or '(no name)'} (ID {patient.patient_id or '(none)'}{born})"


def flag_shared_uids(patients: dict[PatientKey, Patient], studies: dict[tuple[PatientKey, str], Study],
                     series: dict[tuple[PatientKey, str, str], Series]) -> None:
    """Flag every study and series whose UID another patient's images also carry, and give each
    such study its own workspace key, so two patients' reviews and reports never share one."""
    owners: dict[str, list[PatientKey]] = defaultdict(list)
    for key, uid in studies:
        owners[uid].append(key)
    for (key, uid), study in studies.items():
        others = [patients[k] for k in owners[uid] if k != key]
        if others:
            study.warnings.append(f"⚠ StudyInstanceUID {uid} is also used by images of "
                                  f"{'; '.join(_describe(p) for p in others)}: kept apart, never merged; check the source")
            study.workspace_id = f"{uid}~{hashlib.sha256(repr(key).encode()).hexdigest()[:12]}"
    series_owners: dict[str, list[tuple[PatientKey, str]]] = defaultdict(list)
    for key, study_uid, uid in series:
        series_owners[uid].append((key, study_uid))
    for (key, study_uid, uid), se in series.items():
        others = [(k, st) for k, st in series_owners[uid] if (k, st) != (key, study_uid)]
        for other_key, other_study in others:
            whose = "another study of this patient" if other_key == key else _describe(patients[other_key])
            se.warnings.append(f"⚠ SeriesInstanceUID {uid} is also used by images of {whose} "
                               f"(study {other_study}): kept apart as a separate series, never merged; check the source")
