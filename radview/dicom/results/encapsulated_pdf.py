"""The report PDF as an Encapsulated PDF instance (pydicom: highdicom has no class for it)."""

from __future__ import annotations

from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import EncapsulatedPDFStorage, ExplicitVRLittleEndian

from radview.dicom.results.common import (MANUFACTURER, MODEL_NAME, PDF_SERIES_NUMBER, SOFTWARE_VERSION,
                                          TYPE2_KEYWORDS, ResultWriteError, content_date_time, new_uid, save_dataset)

# Patient and General Study modules: copied from the source so the PDF files with its study
PATIENT_STUDY_KEYWORDS = (
    "PatientName", "PatientID", "IssuerOfPatientID", "PatientBirthDate", "PatientSex", "PatientAge",
    "StudyInstanceUID", "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID", "AccessionNumber",
    "StudyDescription",
)


def copy_patient_and_study(source: Dataset, ds: Dataset) -> None:
    """Patient and study attributes of `source` into `ds` (type 2 ones present, maybe empty)."""
    for keyword in PATIENT_STUDY_KEYWORDS:
        if keyword in source:
            setattr(ds, keyword, source.data_element(keyword).value)
        elif keyword in TYPE2_KEYWORDS:
            setattr(ds, keyword, "")
    if "SpecificCharacterSet" in source:
        ds.SpecificCharacterSet = source.SpecificCharacterSet


def write_encapsulated_pdf(pdf_path: Path, source: Dataset, path: Path, title: str, signed: bool) -> Dataset:
    """Wrap the PDF at `pdf_path` into a DOC-modality instance of `source`'s study and write it."""
    try:
        document = Path(pdf_path).read_bytes()
    except OSError as error:
        raise ResultWriteError(f"{pdf_path}: the report PDF cannot be read ({error})") from error
    if not document.startswith(b"%PDF"):
        raise ResultWriteError(f"{pdf_path}: not a PDF")
    length = len(document)
    if length % 2:
        document += b"\0"  # DICOM values have even length; EncapsulatedDocumentLength keeps the real one
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = EncapsulatedPDFStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    copy_patient_and_study(source, ds)
    date, time = content_date_time()
    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = new_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = new_uid()
    ds.SeriesNumber = PDF_SERIES_NUMBER
    ds.SeriesDescription = "RadView report (PDF)"
    ds.Manufacturer = MANUFACTURER
    ds.ManufacturerModelName = MODEL_NAME
    ds.SoftwareVersions = SOFTWARE_VERSION
    ds.ConversionType = "WSD"  # workstation
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime = date, time
    ds.AcquisitionDateTime = date + time
    ds.BurnedInAnnotation = "YES"  # the PDF names the patient
    ds.DocumentTitle = title[:64]
    ds.ConceptNameCodeSequence = []
    ds.VerificationFlag = "VERIFIED" if signed else "UNVERIFIED"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.EncapsulatedDocument = document
    ds.EncapsulatedDocumentLength = length
    save_dataset(ds, path)
    return ds
