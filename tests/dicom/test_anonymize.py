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


# ---- identity planted everywhere a file can hold it -----------------------------------------------
NAME = "Quimby^Hortensia^Zoë"  # family^given^middle; the middle name is not ASCII
REFERRER = "Oddleigh^Bartholomew"
PATIENT_ID, BIRTH_DATE, ACCESSION = "PID-4471902", "19560312", "ACC88321907"
INSTITUTION, ADDRESS = "Saint Swithin Infirmary", "12 Larkspur Lane Quillfield"
CREATOR_UID = "1.2.826.0.1.3680043.9.4471902"


def _identifying_values() -> set[str]:
    """Every planted value, and each person name as stored, with spaces, in either order and by parts."""
    values = {PATIENT_ID, BIRTH_DATE, ACCESSION, INSTITUTION, ADDRESS, CREATOR_UID}
    for name in (NAME, REFERRER):
        parts = name.split("^")
        values |= {name, " ".join(parts), " ".join(reversed(parts)), f"{parts[1]} {parts[0]}", *parts}
    return values


def _code(value: str, meaning: str, **more) -> pydicom.Dataset:
    """A SNOMED code item, with any further attributes (nested sequences) given by keyword."""
    item = pydicom.Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "SCT", meaning
    for keyword, element_value in more.items():
        setattr(item, keyword, element_value)
    return item


def _plant_overlay(ds: pydicom.Dataset, group: int, description: str, label: str) -> None:
    """A valid 1-bit overlay plane whose description, label and comments name the patient."""
    for element, vr, value in ((0x0010, "US", 128), (0x0011, "US", 128), (0x0040, "CS", "G"), (0x0050, "SS", [1, 1]),
                               (0x0100, "US", 1), (0x0102, "US", 0), (0x3000, "OW", bytes(128 * 128 // 8)),
                               (0x0022, "LO", description), (0x1500, "LO", label), (0x4000, "LT", ACCESSION)):
        ds.add_new((group << 16) | element, vr, value)


@pytest.fixture
def planted_file(tmp_path) -> Path:
    """pydicom's CT with the patient's identity in the preamble, the file meta, nested sequences,
    free text, a defined term, a private tag, an unknown attribute and two overlay planes."""
    from pydicom import examples

    ds = examples.ct
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.preamble = f"{NAME} {PATIENT_ID} {BIRTH_DATE}".encode().ljust(128, b"\0")
    ds.file_meta.SourceApplicationEntityTitle = PATIENT_ID
    ds.file_meta.PrivateInformationCreatorUID = CREATOR_UID
    ds.file_meta.PrivateInformation = f"{NAME}|{BIRTH_DATE}|{ACCESSION}".encode()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, PATIENT_ID, BIRTH_DATE
    ds.AccessionNumber, ds.InstitutionName, ds.PatientAddress = ACCESSION, INSTITUTION, ADDRESS
    ds.ReferringPhysicianName = REFERRER
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL", "QUIMBY"]
    ds.WindowCenterWidthExplanation = "Hortensia"
    ds.ContentDescription = f"scanned at {INSTITUTION}"
    deepest = _code("39607008", "Hortensia Quimby", ContentDescription=ACCESSION, PersonName=REFERRER)
    content = pydicom.Dataset()
    content.ValueType, content.TextValue = "TEXT", f"{NAME} born {BIRTH_DATE}"
    content.ConceptNameCodeSequence = [_code("121071", "Finding")]
    middle = _code("7771000", INSTITUTION, PrimaryAnatomicStructureSequence=[deepest], ContentSequence=[content])
    named = _code("39607008", NAME, AnatomicRegionModifierSequence=[middle])
    ds.AnatomicRegionSequence = [_code("39607008", "Lung"), named]
    ds.private_block(0x0011, f"{INSTITUTION} PACS", create=True).add_new(0x01, "LO", NAME)
    ds.add_new(0x00729999, "UN", f"{NAME} {PATIENT_ID}".encode())  # no dictionary knows this tag
    ds.add_new(0x00729998, "LO", ADDRESS)
    _plant_overlay(ds, 0x6000, NAME, PATIENT_ID)
    _plant_overlay(ds, 0x601E, REFERRER, INSTITUTION)
    path = tmp_path / "in" / f"{PATIENT_ID}.dcm"
    path.parent.mkdir()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_the_planted_file_does_hold_every_value(planted_file):
    """The leak check below is only worth something if its input really carries every value."""
    blob = planted_file.read_bytes()
    planted = {NAME, REFERRER, PATIENT_ID, BIRTH_DATE, ACCESSION, INSTITUTION, ADDRESS, CREATOR_UID, "Hortensia Quimby"}
    assert not [value for value in planted if value.encode() not in blob]
    assert NAME.encode() in blob[:128] and b"QUIMBY" in blob and "Zoë".encode() in blob


def test_no_byte_of_the_output_holds_an_identifying_value(planted_file, tmp_path):
    result = anonymize_folder(planted_file.parent, tmp_path / "out")
    assert not result.left_out and len(result.written) == 1
    path = result.written[0]
    blob = (path.read_bytes() + str(path).encode()).lower()  # case-insensitive: "QUIMBY" is as bad as "Quimby"
    leaked = sorted(value for value in _identifying_values() if value.lower().encode() in blob)
    assert not leaked, f"identifying values in the output: {leaked}"
    assert blob[:132] == bytes(128) + b"dicm", "the preamble is 128 zero bytes"


def test_the_output_is_valid_dicom_with_the_same_pixels(planted_file, tmp_path):
    source = pydicom.dcmread(planted_file)
    out = pydicom.dcmread(anonymize_folder(planted_file.parent, tmp_path / "out").written[0])
    assert set(out.file_meta.keys()) <= {0x00020000, 0x00020001, 0x00020002, 0x00020003, 0x00020010, 0x00020012,
                                         0x00020013}, "the file meta is rebuilt: no source AE title or private data"
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID != source.SOPInstanceUID
    assert out.file_meta.MediaStorageSOPClassUID == out.SOPClassUID == source.SOPClassUID
    assert out.file_meta.TransferSyntaxUID == source.file_meta.TransferSyntaxUID
    assert out.PixelData == source.PixelData
    assert (out.pixel_array == source.pixel_array).all()
    overlays = [e for e in out.iterall() if e.tag.group & 0xFF01 == 0x6000]
    assert not overlays, "whole overlay planes go: without their data (Annex E) they are invalid, their text identifies"
    assert not [e for e in out.iterall() if e.tag.is_private or e.VR == "UN"]
    kept, cleaned = out.AnatomicRegionSequence
    assert (kept.CodeValue, kept.CodeMeaning) == ("39607008", "Lung"), "codes without identity are kept as they were"
    deepest = cleaned.AnatomicRegionModifierSequence[0].PrimaryAnatomicStructureSequence[0]
    assert deepest.CodeValue == "39607008" and deepest.CodeMeaning == "ANONYMIZED", "cleaned at depth 3, not dropped"
    assert list(out.ImageType) == ["ORIGINAL", "PRIMARY", "AXIAL", "ANONYMIZED"]
