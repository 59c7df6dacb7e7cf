"""Two patients are never merged: images that share a StudyInstanceUID and SeriesInstanceUID but
carry different patients are kept apart and flagged in the scan, `info`, the workspace and the report."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom

from radview.core.workspace import StudyWorkspace
from radview.dicom.info import describe_index, index_as_dict
from radview.dicom.scan import scan_path
from radview.workflow.reporting import StudyContext, update_report
from radview.core.report import Report
from radview.core.review import Review

SECOND = {"PatientName": "OTHER^PERSON", "PatientID": "OTHER-7", "PatientBirthDate": "19600101"}


def _two_patients_one_series(demo_study: Path, out: Path, second: dict[str, str] = SECOND) -> Path:
    """Ten CT slices: five of the demo patient, five relabelled as another patient, same UIDs."""
    out.mkdir()
    for n, path in enumerate(sorted((demo_study / "dicom" / "chest-ct").iterdir())[:10]):
        ds = pydicom.dcmread(path)
        if n >= 5:
            for keyword, value in second.items():
                setattr(ds, keyword, value)
        ds.save_as(out / f"IM{n:04d}")
    return out


def test_a_shared_series_uid_is_split_by_patient_and_flagged(demo_study, tmp_path):
    index = scan_path(_two_patients_one_series(demo_study, tmp_path / "mixed"), parallel=False)
    assert len(index.patients) == 2, "two patients, never one"
    studies = [st for p in index.patients for st in p.studies]
    series = [se for st in studies for se in st.series]
    assert [len(se.images) for se in series] == [5, 5]
    assert all(st.study_instance_uid == studies[0].study_instance_uid for st in studies)
    assert len({st.workspace_id for st in studies}) == 2, "each patient's review lives in its own workspace"
    assert len({StudyWorkspace(tmp_path, st.workspace_id).folder for st in studies}) == 2
    for study in studies:
        assert any("also used by images of patient" in w for w in study.identity_warnings)
    other = next(p for p in index.patients if p.patient_id == "OTHER-7")
    assert other.birth_date == "19600101"

    text = describe_index(index)
    assert text.count("WARNING: ⚠ SeriesInstanceUID") == 2 and "OTHER, PERSON" in text
    data = index_as_dict(index)
    assert all(st["warnings"] for p in data["patients"] for st in p["studies"])
    json.dumps(data, allow_nan=False)

    patient = index.patients[0]
    report = Report(studies[0].study_instance_uid)
    context = StudyContext(patient, patient.studies[0], list(patient.studies[0].series))
    update_report(report, context, Review(), "Dr Test")
    assert "also used by images of patient" in report.sections["technique"].html, "the report says it first"


def test_a_series_without_the_birth_date_joins_the_same_patient(demo_study, tmp_path):
    index = scan_path(_two_patients_one_series(demo_study, tmp_path / "partial", {"PatientBirthDate": ""}),
                      parallel=False)
    assert len(index.patients) == 1 and index.patients[0].studies[0].series[0].image_count == 10
    assert not index.patients[0].studies[0].identity_warnings
