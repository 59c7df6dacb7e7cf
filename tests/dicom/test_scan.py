import shutil

import pydicom
import pytest

from radview.core.progress import Cancelled, CancelToken
from radview.dicom.scan import scan_path


def test_demo_folder_groups_into_one_patient_three_studies(demo_study):
    index = scan_path(demo_study / "dicom")
    assert len(index.patients) == 1
    patient = index.patients[0]
    assert patient.patient_id == "RV000000"
    descriptions = sorted(st.description for st in patient.studies)
    assert descriptions == ["CT CHEST", "MR BRAIN", "XR CHEST PA"]
    counts = {se.modality: se.image_count for se in index.all_series()}
    assert counts == {"CT": 200, "DX": 1, "MR": 36}
    assert index.skipped == []


def test_broken_and_foreign_files_are_listed_and_the_rest_loads(demo_study, tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(demo_study / "dicom" / "brain-mr", folder)
    good = sorted(folder.iterdir())
    good[3].write_bytes(good[3].read_bytes()[:700])  # truncated inside the header
    (folder / "notes.txt").write_text("clinical notes, not DICOM")
    (folder / "empty.dcm").write_bytes(b"")
    index = scan_path(folder)
    reasons = {s.path.split("/")[-1]: s.reason for s in index.skipped}
    assert set(reasons) == {good[3].name, "notes.txt", "empty.dcm"}
    assert all(reason for reason in reasons.values())
    assert index.all_series()[0].image_count == 35


def test_parallel_and_serial_scans_agree(demo_study):
    serial = scan_path(demo_study / "dicom" / "chest-ct", parallel=False)
    parallel = scan_path(demo_study / "dicom" / "chest-ct", parallel=True)
    a, b = serial.all_series()[0].images, parallel.all_series()[0].images
    assert sorted(i.sop_instance_uid for i in a) == sorted(i.sop_instance_uid for i in b)
    assert {i.pixel_offset for i in a} == {i.pixel_offset for i in b}


def test_progress_is_reported_and_cancel_stops_the_scan(demo_study):
    seen = []
    scan_path(demo_study / "dicom" / "chest-ct", progress=seen.append, parallel=False)
    assert seen[-1].done == seen[-1].total == 200
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        scan_path(demo_study / "dicom" / "chest-ct", cancel=token, parallel=False)


def test_dicomdir_and_files_without_meta_or_suffix(demo_study, tmp_path):
    from pydicom.fileset import FileSet

    fileset = FileSet()
    for path in sorted((demo_study / "dicom" / "brain-mr").iterdir()):
        fileset.add(str(path))
    fileset.write(tmp_path / "media")
    index = scan_path(tmp_path / "media" / "DICOMDIR")
    assert index.file_count == 36
    assert index.all_series()[0].image_count == 36
    # a bare dataset: no preamble, no file meta, implicit VR, no suffix (old archives write these)
    ds = pydicom.dcmread(demo_study / "dicom" / "brain-mr" / "IM0001")
    del ds.file_meta
    ds.preamble = None
    pydicom.dcmwrite(tmp_path / "IMAGE1", ds, implicit_vr=True, little_endian=True)
    bare = scan_path(tmp_path / "IMAGE1")
    assert bare.skipped == []
    assert bare.all_series()[0].images[0].transfer_syntax_uid == "1.2.840.10008.1.2"


def test_missing_path_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        scan_path(tmp_path / "nowhere")


def test_a_folder_that_cannot_be_read_is_listed_not_dropped(demo_study, tmp_path, monkeypatch):
    """os.walk skips a folder it cannot list; the scan names it (root can read anything, so the
    permission error is simulated where os.walk lists folders)."""
    import os
    import shutil

    from radview.dicom.scan import scan_path

    good, locked = tmp_path / "study" / "ct", tmp_path / "study" / "locked"
    shutil.copytree(demo_study / "dicom" / "chest-xray", good)
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    index = scan_path(tmp_path / "study", parallel=False)
    assert index.patients, "the readable folder still loads"
    assert [(s.path, "Permission denied" in s.reason) for s in index.skipped] == [(os.fspath(locked), True)]
