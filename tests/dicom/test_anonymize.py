"""De-identification (PS3.15 Annex E Basic Profile, modified dates): no identity left, references intact."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pydicom
import pytest

from radview.dicom.anonymize import AnonymizeError, anonymize_folder
from tests.workflow.test_dicom_results import dciodvfy_errors


def _walk_values(ds, keyword_filter=None):
    for element in ds.iterall():
        if keyword_filter is None or element.keyword in keyword_filter:
            yield element


def _uids(ds) -> set[str]:
    out = set()
    for element in _walk_values(ds):
        if element.VR == "UI" and element.value:
            values = element.value if element.VM > 1 else [element.value]
            out |= {str(v) for v in values if str(v).startswith("2.25.")}  # instance UIDs, not standard classes
    return out


@pytest.fixture(scope="module")
def study_with_results(demo_study, analyzed_dicom, tmp_path_factory):
    """The demo CT plus RadView's SEG, SR, PDF and key images of it, in one folder."""
    folder = tmp_path_factory.mktemp("source") / "study"
    shutil.copytree(demo_study / "dicom" / "chest-ct", folder / "images")
    ct_uid = pydicom.dcmread(next((folder / "images").iterdir()), stop_before_pixels=True).StudyInstanceUID
    shutil.copytree(analyzed_dicom / ct_uid / "dicom", folder / "results")
    return folder


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_no_identifying_value_survives_and_references_stay_valid(study_with_results, tmp_path):
    before = _digest(study_with_results)
    sources = [pydicom.dcmread(p) for p in sorted(study_with_results.rglob("*.dcm")) if p.parent.name == "results"]
    sources += [pydicom.dcmread(p) for p in sorted((study_with_results / "images").iterdir())]
    first = sources[-1]
    identifying = {str(first.PatientName), str(first.PatientName).split("^")[1], first.PatientID,
                   first.PatientBirthDate, first.StudyDate, first.AccessionNumber, first.InstitutionName,
                   str(first.ReferringPhysicianName), "Test^^^Dr"}
    identifying |= {uid for ds in sources for uid in _uids(ds)}
    assert len(identifying) > 200

    result = anonymize_folder(study_with_results, tmp_path / "out")

    left_out = {p.name: reason for p, reason in result.left_out}
    assert set(left_out) == {"report-pdf.dcm", "key-image-1.dcm", "key-image-2.dcm", "key-image-3.dcm"}
    assert "encapsulated document" in left_out["report-pdf.dcm"] and "Secondary Capture" in left_out["key-image-1.dcm"]
    assert len(result.written) == 200 + 2, "every CT image, the SEG and the SR"
    blob = b"".join(p.read_bytes() for p in result.written) + "".join(map(str, result.written)).encode()
    leaked = sorted(v for v in identifying if v and v.encode() in blob)
    assert not leaked, f"identifying values in the output: {leaked[:5]}"

    out = [pydicom.dcmread(p) for p in result.written]
    instances = {ds.SOPInstanceUID for ds in out}
    for ds in out:
        assert ds.PatientIdentityRemoved == "YES" and ds.LongitudinalTemporalInformationModified == "MODIFIED"
        assert [c.CodeValue for c in ds.DeidentificationMethodCodeSequence] == ["113100", "113107"]
        assert not any(e.tag.is_private for e in ds.iterall())
        referenced = {str(e.value) for e in _walk_values(ds, {"ReferencedSOPInstanceUID"})}
        assert referenced <= instances, "a SEG/SR reference points at an instance that is not in the output"
    derived = [ds for ds in out if ds.Modality in ("SEG", "SR")]
    assert len(derived) == 2 and all(_walk_values(ds, {"ReferencedSOPInstanceUID"}) for ds in derived)
    assert len({ds.StudyInstanceUID for ds in out}) == 1 and len({ds.PatientID for ds in out}) == 1

    shifts = {(pydicom.valuerep.DA(first.StudyDate) - pydicom.valuerep.DA(ds.StudyDate)).days for ds in out}
    assert len(shifts) == 1 and 365 <= shifts.pop() <= 3650, "one date shift for the whole study"
    for path in {p.parent: p for p in result.written}.values():  # one file per series
        assert not dciodvfy_errors(path), path
    assert _digest(study_with_results) == before, "the source must never be modified"


def test_the_same_key_gives_the_same_pseudonyms_and_uids(study_with_results, tmp_path):
    one = anonymize_folder(study_with_results / "images", tmp_path / "a", key="site-secret")
    two = anonymize_folder(study_with_results / "images", tmp_path / "b", key="site-secret")
    three = anonymize_folder(study_with_results / "images", tmp_path / "c")
    names = [sorted(p.relative_to(p.parents[2]) for p in r.written) for r in (one, two, three)]
    assert names[0] == names[1] and names[0] != names[2]


def test_output_inside_the_source_is_refused_and_broken_files_are_listed(study_with_results, tmp_path):
    with pytest.raises(AnonymizeError, match="must not be inside"):
        anonymize_folder(study_with_results, study_with_results / "anon")
    broken = tmp_path / "in"
    broken.mkdir()
    shutil.copy(next((study_with_results / "images").iterdir()), broken / "good.dcm")
    (broken / "bad.dcm").write_bytes(b"DICM" * 10)
    result = anonymize_folder(broken, tmp_path / "out")
    assert len(result.written) == 1 and [p.name for p, _ in result.left_out] == ["bad.dcm"]


def test_the_command_line_lists_what_it_left_out(study_with_results, tmp_path):
    from tests.conftest import radview_command

    done = radview_command(tmp_path / "home", "anonymize", str(study_with_results), str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "202 file(s) de-identified" in done.stdout and "left out:" in done.stdout and "report-pdf.dcm" in done.stdout
