"""An imported MONAI bundle goes through `radview analyze` as a shipped model does: chosen by its
card's rules, run, reviewed, drafted into the report (which says it has no input check) and
exported as DICOM SEG."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom

from radview.demo.dicom_writer import ct_template, write_ct_slices
from radview.demo.identity import synthetic_patient
from tests.ai.bundle_factory import radview_volume, segmentation_bundle
from tests.conftest import radview_command


def _write_ct_series(folder: Path) -> None:
    """The bundle tests' small CT (an organ-like 40 HU block in air) as an axial DICOM series,
    without the study attributes some scanners leave out (StudyID, accession, referrer)."""
    volume = radview_volume()
    patient = synthetic_patient(77)
    template = ct_template(patient, "abdomen", 1, "abdomen", "CT ABDOMEN", "ABDOMEN", 1.5, 2.0)
    for keyword in ("StudyID", "AccessionNumber", "ReferringPhysicianName"):
        delattr(template, keyword)
    write_ct_slices(template, volume.voxels, tuple(volume.origin_mm), 2.0, folder, patient, "abdomen")


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
