"""An imported MONAI bundle goes through `radview analyze` as a shipped model does: chosen by its
card's rules, run, reviewed, drafted into the report (which says it has no input check) and
exported as DICOM SEG."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from tests.ai.bundle_factory import radview_volume, segmentation_bundle
from tests.conftest import radview_command


def _write_ct_series(folder: Path) -> None:
    """The bundle tests' small CT (an organ-like 40 HU block in air) as an axial DICOM series."""
    volume = radview_volume()
    folder.mkdir(parents=True)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    for k, plane in enumerate(volume.voxels):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Bundle^Test", "BUNDLE-1", "19700101", "O"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyDate, ds.StudyTime, ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "20260101", "090000", "CT", 1, k + 1
        ds.BodyPartExamined, ds.SeriesDescription, ds.AccessionNumber = "ABDOMEN", "abdomen", "A1"
        ds.ImagePositionPatient = [float(volume.origin_mm[0]), float(volume.origin_mm[1]), float(volume.origin_mm[2]) + 2.0 * k]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [1.5, 1.5], 2.0
        ds.Rows, ds.Columns = plane.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        ds.PixelData = plane.astype(np.int16).tobytes()
        pydicom.dcmwrite(folder / f"{k + 1:03d}.dcm", ds, enforce_file_format=True)


def test_an_imported_bundle_runs_in_analyze_into_findings_report_and_seg(tmp_path):
    home = tmp_path / "home"
    bundle = segmentation_bundle(tmp_path / "spleen_ct_segmentation")
    imported = radview_command(home, "models", "import", str(bundle), "--id", "spleen")
    assert imported.returncode == 0, imported.stderr
    _write_ct_series(tmp_path / "abdomen")
    out = tmp_path / "out"
    done = radview_command(home, "analyze", str(tmp_path / "abdomen"), "--out", str(out), "--accept-all", "--dicom")
    assert done.returncode == 0, done.stderr

    findings = json.loads((out / "findings.json").read_text())
    spleen = [f for f in findings["findings"] if f["original"]["model_id"] == "spleen"]
    assert len(spleen) == 1 and spleen[0]["status"] == "accepted"
    assert spleen[0]["original"]["finding_type"]["meaning"] == "Spleen" and spleen[0]["original"]["measurements"]["volume_ml"] > 0
    runs = [r for r in findings["model_runs"] if r["model_id"] == "spleen"]
    assert len(runs) == 1 and runs[0]["input_check"] is False and runs[0]["finding_count"] == 1
    report = (out / "report.html").read_text()
    assert "Spleen" in report and "no input check" in report
    segs = [pydicom.dcmread(f) for f in (out / "dicom").glob("*.dcm")]
    seg = next(ds for ds in segs if ds.Modality == "SEG")
    assert [s.SegmentLabel for s in seg.SegmentSequence] == ["Spleen 1"]  # finding type and number
    assert seg.SegmentSequence[0].SegmentAlgorithmName == "spleen"
