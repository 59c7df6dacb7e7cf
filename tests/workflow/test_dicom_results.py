"""DICOM results (SEG, TID 1500 SR, encapsulated PDF, key images): valid, and they read back as ours."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from radview.core.findings import CLINICAL_FINDING, MASS, NEOPLASM, NODULE, Code, Finding
from radview.core.report import Report
from radview.core.review import Review
from radview.dicom.load import load_stack
from radview.dicom.results.codes import MEASUREMENT_CODES, ML, QUALITATIVE_EVALUATIONS
from radview.dicom.results.common import source_headers
from radview.dicom.results.segmentation import SegmentMask, write_segmentation
from radview.dicom.results.structured_report import reported_finding, write_measurement_report
from radview.dicom.scan import scan_path
from radview.dicom.seg_read import read_segmentation
from radview.dicom.sr_read import read_measurement_report
from radview.dicom.stacks import split_series
from radview.workflow.dicom_results import export_dicom_results
from radview.workflow.reporting import StudyContext

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

# The only codes in our SEGs and SRs that are not pydicom's dictionary's (value, scheme, meaning):
OUTSIDE_THE_DICTIONARY = {
    # RadView's, typed: neither pydicom's dictionary nor highdicom has them
    (ML.value, ML.scheme, ML.meaning),
    (QUALITATIVE_EVALUATIONS.value, QUALITATIVE_EVALUATIONS.scheme, QUALITATIVE_EVALUATIONS.meaning),
    # highdicom's own (its TID 1500 classes write them, with its spelling): not RadView's to choose
    ("en-US", "RFC5646", "English (United States)"),
    ("121232", "DCM", "Source Series for Segmentation"),
    ("260753009", "SCT", "Source"),
    ("276214006", "SCT", "Finding category"),
}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is needed (packaging/debian-packages.sh installs dicom3tools and dcmtk)")
    return path


def dciodvfy_errors(path: Path) -> list[str]:
    """dciodvfy's Error lines for one file (warnings are allowed)."""
    done = subprocess.run([_tool("dciodvfy"), str(path)], capture_output=True, text=True)
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]


@pytest.fixture(scope="module")
def ct(demo_study):
    index = scan_path(demo_study / "dicom" / "chest-ct")
    patient = index.patients[0]
    study = patient.studies[0]
    series = study.series[0]
    volume = load_stack(split_series(series)[0])
    return patient, study, series, volume


def _sphere(shape, centre, radius_vox):
    k, j, i = np.ogrid[:shape[0], :shape[1], :shape[2]]
    return (k - centre[0]) ** 2 + (j - centre[1]) ** 2 + (i - centre[2]) ** 2 <= radius_vox ** 2


def _finding(volume, fid, centre_krc, label, measurements, model_id="ct-nodule"):
    return Finding(fid, NODULE, volume.series_instance_uid, model_id, "1.0.0" if model_id != "manual" else "",
                   0.9, tuple(volume.voxel_to_patient_mm(np.array(centre_krc, float))), int(centre_krc[0]),
                   measurements, {"side": "left", "zone": "upper zone"}, mask_label=label)


def test_seg_and_sr_read_back_equal_to_what_was_accepted(ct, tmp_path):
    patient, study, series, volume = ct
    labels = np.zeros(volume.shape, np.uint8)
    labels[_sphere(volume.shape, (60, 200, 300), 4)] = 1
    labels[_sphere(volume.shape, (120, 300, 180), 6)] = 2
    labels[_sphere(volume.shape, (150, 250, 250), 3)] = 3  # the reader rejects this one: not in the SEG
    a = _finding(volume, "ct-nodule-a-1", (60, 200, 300), 1, {"mean_diameter_mm": 6.9, "volume_mm3": 171.0, "mean_hu": -20.0})
    b = _finding(volume, "ct-nodule-a-2", (120, 300, 180), 2, {"long_axis_mm": 10.4, "short_axis_mm": 9.8})
    c = _finding(volume, "ct-nodule-a-3", (150, 250, 250), 3, {"mean_diameter_mm": 5.0})
    review = Review("Dr Test")
    review.add_model_findings([a, b, c])
    review.accept(a.id)
    review.edit(b.id, measurements={"long_axis_mm": 11.0, "short_axis_mm": 9.8})
    review.reject(c.id)
    manual = _finding(volume, "manual-1", (90, 256, 256), 0, {"length_mm": 7.5}, model_id="manual")
    review.add_manual(manual)
    context = StudyContext(patient, study, [series], volumes={volume.series_instance_uid: volume},
                           labels={(volume.series_instance_uid, "ct-nodule"): labels})
    report = Report(study.study_instance_uid, header={"reader": "Dr Test"})
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(MINIMAL_PDF)

    results = export_dicom_results(report, context, review, pdf, tmp_path / "dicom")

    assert len(results.segmentations) == 1
    read_labels, segments = read_segmentation(results.segmentations[0], volume)
    assert [s.label for s in segments] == ["Nodule 1", "Nodule 2"]
    assert np.array_equal(read_labels == 1, labels == 1)
    assert np.array_equal(read_labels == 2, labels == 2)
    assert not (read_labels == 3).any(), "a rejected finding's mask must not be exported"

    document = read_measurement_report(results.structured_report)
    assert (document.completion, document.verification) == ("PARTIAL", "UNVERIFIED")
    assert document.observer_names == ["Test^^^Dr"]
    groups = {g.tracking_identifier: g for g in document.groups}
    assert set(groups) == {a.id, b.id, manual.id}
    assert groups[a.id].measurements == a.measurements
    assert groups[b.id].measurements == {"long_axis_mm": 11.0, "short_axis_mm": 9.8}, "the reader's edit, not the AI's"
    assert groups[manual.id].measurements == {"length_mm": 7.5}
    assert (groups[a.id].segment_number, groups[b.id].segment_number) == (1, 2)
    assert groups[a.id].algorithm == ("ct-nodule", "1.0.0") and groups[manual.id].algorithm is None
    assert groups[manual.id].image_uid == volume.slices[90].sop_instance_uid
    assert groups[a.id].finding_site.meaning == "Lung" and groups[a.id].laterality.meaning == "Left"

    seg = pydicom.dcmread(results.segmentations[0])
    sources = {s.sop_instance_uid for s in volume.slices}
    for ds in (seg, pydicom.dcmread(results.structured_report), pydicom.dcmread(results.pdf)):
        assert ds.StudyInstanceUID == study.study_instance_uid and ds.PatientID == patient.patient_id
        assert ds.SeriesInstanceUID != volume.series_instance_uid and ds.SOPInstanceUID not in sources
    assert int(seg.NumberOfFrames) == 2 * volume.shape[0], "every frame of each segment, empty or not (docs/facts.md)"
    assert pydicom.dcmread(results.pdf).EncapsulatedDocument[:len(MINIMAL_PDF)] == MINIMAL_PDF


def test_a_signed_report_gives_a_complete_verified_sr(ct, tmp_path):
    patient, study, series, volume = ct
    review = Review("Dr Test")
    review.add_manual(_finding(volume, "manual-1", (90, 256, 256), 0, {"length_mm": 7.5}, model_id="manual"))
    report = Report(study.study_instance_uid, header={"reader": "Dr Test"})
    report.sign("Dr Jane Roe", "2026-11-22T10:00:00Z")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(MINIMAL_PDF)
    context = StudyContext(patient, study, [series], volumes={volume.series_instance_uid: volume})
    results = export_dicom_results(report, context, review, pdf, tmp_path / "dicom", institution="Test Hospital")
    sr = pydicom.dcmread(results.structured_report)
    assert (sr.CompletionFlag, sr.VerificationFlag, sr.PreliminaryFlag) == ("COMPLETE", "VERIFIED", "FINAL")
    assert str(sr.VerifyingObserverSequence[0].VerifyingObserverName) == "Roe^Jane^^Dr"
    assert pydicom.dcmread(results.pdf).VerificationFlag == "VERIFIED"
    assert not results.segmentations, "a finding without a mask has no SEG"


def test_every_exported_object_passes_dciodvfy_and_dsrdump(analyzed_dicom):
    files = sorted(analyzed_dicom.glob("*/dicom/*.dcm"))
    kinds = {f.name.split("-")[0].removesuffix(".dcm") for f in files}
    assert kinds == {"seg", "sr", "report", "key"}, kinds
    assert len(list(analyzed_dicom.glob("*/dicom/sr.dcm"))) == 3, "one SR per demo study"
    problems = {f"{f.parent.parent.name[:12]}/{f.name}": errors for f in files if (errors := dciodvfy_errors(f))}
    assert not problems, problems
    for sr in analyzed_dicom.glob("*/dicom/sr.dcm"):
        done = subprocess.run([_tool("dsrdump"), "+Pl", str(sr)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert "Imaging Measurement Report" in done.stdout
        assert "Trained on synthetic phantoms made by RadView" in done.stdout, "the model card's notice travels"
    for image in analyzed_dicom.glob("*/dicom/key-image-*.dcm"):
        assert pydicom.dcmread(image, stop_before_pixels=True).BurnedInAnnotation == "YES"


def test_real_model_findings_read_back_from_the_sr_and_seg(analyzed_dicom):
    for folder in sorted(p for p in analyzed_dicom.iterdir() if p.is_dir()):
        findings = [item["original"] for item in json.loads((folder / "findings.json").read_text())["findings"]]
        groups = {g.tracking_identifier: g for g in read_measurement_report(folder / "dicom" / "sr.dcm").groups}
        assert set(groups) == {f["id"] for f in findings}
        for f in findings:
            assert groups[f["id"]].measurements == f["measurements"]
            assert groups[f["id"]].algorithm == (f["model_id"], f["model_version"])
        seg = pydicom.dcmread(folder / "dicom" / "seg-1.dcm")
        volumes = {f["id"]: f["measurements"].get("volume_mm3") for f in findings}
        # a CT nodule's segment holds as many voxels as the volume the finding quotes
        if all(volumes.values()):
            spacing = [float(v) for v in seg.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]
            thickness = float(seg.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].SliceThickness)
            per_frame = seg.PerFrameFunctionalGroupsSequence
            bits = np.unpackbits(np.frombuffer(seg.PixelData, np.uint8), bitorder="little")
            frame_size = int(seg.Rows) * int(seg.Columns)
            counts: dict[int, int] = {}
            for n, item in enumerate(per_frame):
                number = int(item.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
                counts[number] = counts.get(number, 0) + int(bits[n * frame_size:(n + 1) * frame_size].sum())
            for f in findings:
                voxels_mm3 = counts[groups[f["id"]].segment_number] * spacing[0] * spacing[1] * thickness
                assert voxels_mm3 == pytest.approx(volumes[f["id"]], abs=1.0)


@cache
def dictionary_meanings() -> dict[tuple[str, str], set[str]]:
    """pydicom's code dictionary: (value, scheme) -> its meanings (some values have several)."""
    meanings: dict[tuple[str, str], set[str]] = {}
    for scheme in codes.schemes():
        collection = getattr(codes, scheme)
        for keyword in collection.dir():
            code = getattr(collection, keyword)
            meanings.setdefault((code.value, code.scheme_designator), set()).add(code.meaning)
    return meanings


def written_codes(ds: Dataset) -> set[tuple[str, str, str]]:
    """Every (CodeValue, CodingSchemeDesignator, CodeMeaning) in `ds`'s sequences, at any depth."""
    found = set()
    for element in ds:
        if element.VR != "SQ":
            continue
        for item in element.value:
            if "CodeValue" in item:
                found.add((str(item.CodeValue), str(item.CodingSchemeDesignator), str(item.CodeMeaning)))
            found |= written_codes(item)
    return found


def codes_unlike_the_dictionary(paths: list[Path]) -> list[str]:
    """What is wrong with the codes of the files at `paths` (empty when each is the dictionary's)."""
    problems = []
    for path in paths:
        for value, scheme, meaning in sorted(written_codes(pydicom.dcmread(path))):
            meanings = dictionary_meanings().get((value, scheme))
            if (value, scheme, meaning) in OUTSIDE_THE_DICTIONARY:
                continue
            if meanings is None:
                problems.append(f"{path.name}: ({value}, {scheme}, {meaning!r}) is not in pydicom's dictionary")
            elif meaning not in meanings:
                problems.append(f"{path.name}: ({value}, {scheme}) means {sorted(meanings)} in pydicom's dictionary, "
                                f"not {meaning!r}")
    return problems


@pytest.mark.parametrize(("ours", "entry"), [
    pytest.param(NODULE, codes.SCT.Nodule, id="nodule"),
    pytest.param(MASS, codes.SCT.Mass, id="mass"),
    pytest.param(NEOPLASM, codes.SCT.Neoplasm, id="neoplasm"),
    pytest.param(CLINICAL_FINDING, codes.SCT.Finding, id="clinical-finding"),
])
def test_finding_types_are_pydicoms(ours: Code, entry):
    """radview.core.findings types findings without pydicom: its codes must still be the dictionary's."""
    assert (ours.value, ours.scheme) == (entry.value, entry.scheme_designator)
    assert ours.meaning in dictionary_meanings()[(entry.value, entry.scheme_designator)]


def test_every_code_in_our_seg_and_sr_is_pydicoms(ct, tmp_path):
    """Each code RadView can write (every measurement, both finding sites and sides, AI and manual
    findings, a qualitative statement) reads back as pydicom's dictionary spells it."""
    _patient, _study, _series, volume = ct
    sources = source_headers(volume)
    every_measurement = {m.key: 1.0 for m in MEASUREMENT_CODES}
    lung = _finding(volume, "lung-1", (60, 200, 300), 1, every_measurement)
    brain = replace(_finding(volume, "brain-1", (120, 300, 180), 2, {"volume_ml": 2.5}),
                    finding_type=NEOPLASM, location={"hemisphere": "right"})
    manual = replace(_finding(volume, "manual-1", (90, 256, 256), 3, {"length_mm": 7.5}, model_id="manual"),
                     finding_type=MASS, location={"side": "right"})
    findings = [lung, brain, manual]
    masks = [SegmentMask(f, _sphere(volume.shape, (f.slice_index, 256, 256), 3)) for f in findings]
    seg_path = tmp_path / "seg.dcm"
    seg = write_segmentation(volume, sources, masks, seg_path)
    reported = [reported_finding(f, volume, sources, (seg, n)) for n, f in enumerate(findings, start=1)]
    sr_path = tmp_path / "sr.dcm"
    write_measurement_report(reported, [*sources, seg], "Dr Test", False, sr_path, "Test Hospital",
                             {"ct-nodule": "Trained on synthetic phantoms"}, ["The brain model is not made for CT."])

    sr_codes = written_codes(pydicom.dcmread(sr_path))
    assert {(c.value, c.scheme) for c in (ML, QUALITATIVE_EVALUATIONS)} <= {(v, s) for v, s, _m in sr_codes}
    assert not codes_unlike_the_dictionary([seg_path, sr_path])
    algorithm = pydicom.dcmread(seg_path).SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0]
    family = algorithm.AlgorithmFamilyCodeSequence[0]
    assert (family.CodeValue, family.CodingSchemeDesignator, family.CodeMeaning) == ("123110", "DCM",
                                                                                      "Artificial Intelligence")


def test_codes_we_type_are_still_missing_from_the_dictionary():
    """Once pydicom's dictionary has one of them, RadView must take it from there."""
    for code in (ML, QUALITATIVE_EVALUATIONS):
        assert (code.value, code.scheme) not in dictionary_meanings(), code


def test_the_analyzed_studies_codes_are_pydicoms(analyzed_dicom):
    paths = sorted([*analyzed_dicom.glob("*/dicom/seg-*.dcm"), *analyzed_dicom.glob("*/dicom/sr.dcm")])
    assert paths
    assert not codes_unlike_the_dictionary(paths)
