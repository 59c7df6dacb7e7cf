"""Build and write the DICOM datasets of the phantoms (pydicom), valid for dciodvfy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, PYDICOM_IMPLEMENTATION_UID
from pydicom.valuerep import DSfloat

from radview import __version__
from radview.demo.identity import SyntheticPatient


def ds_value(x: float) -> DSfloat:
    """A decimal string of at most 16 characters (pydicom would write longer ones silently)."""
    return DSfloat(float(x), auto_format=True)


def base_dataset(
    patient: SyntheticPatient, study_key: str, sop_class_uid: str, modality: str, series_number: int,
    series_description: str, study_description: str,
) -> Dataset:
    """Patient, General Study, General Series, General Equipment and SOP Common modules."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = sop_class_uid
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.PatientAge = f"{patient.age_years:03d}Y"
    ds.StudyInstanceUID = patient.uid(study_key, "study")
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = patient.study_date
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101500"
    ds.StudyID = str(1000 + patient.seed % 9000)
    ds.AccessionNumber = f"A{patient.seed:06d}{sum(map(ord, study_key)) % 100:02d}"
    ds.ReferringPhysicianName = "REFERRER^DEMO"
    ds.StudyDescription = study_description
    ds.Modality = modality
    ds.SeriesInstanceUID = patient.uid(study_key, "series", series_number)
    ds.SeriesNumber = series_number
    ds.SeriesDescription = series_description
    ds.Manufacturer = "RadView synthetic phantom"
    ds.ManufacturerModelName = "radview demo"
    ds.SoftwareVersions = __version__
    ds.InstitutionName = "RadView Demo Hospital"
    ds.PatientIdentityRemoved = "NO"
    ds.BurnedInAnnotation = "NO"
    return ds


def write_dataset(ds: Dataset, path: Path) -> None:
    """Write `ds` as a Part 10 file, explicit VR little endian."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = f"RADVIEW_{__version__}"[:16]
    ds.file_meta = meta
    ds.preamble = b"\0" * 128
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def set_pixels(ds: Dataset, pixels: np.ndarray, bits_stored: int) -> None:
    """Image Pixel module for unsigned grayscale pixels (rows, cols)."""
    assert pixels.dtype == np.uint16
    ds.SamplesPerPixel = 1
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = np.ascontiguousarray(pixels).tobytes()


def ct_template(patient: SyntheticPatient, study_key: str, series_number: int, series_description: str,
                study_description: str, body_part: str, pixel_spacing_mm: float, slice_spacing_mm: float) -> Dataset:
    """The attributes every slice of an axial CT series shares (frame of reference, plane, rescale)."""
    from pydicom.uid import CTImageStorage

    template = base_dataset(patient, study_key, CTImageStorage, "CT", series_number, series_description, study_description)
    template.FrameOfReferenceUID = patient.uid(study_key, "frame")
    template.PositionReferenceIndicator = ""
    template.PatientPosition = "HFS"
    template.BodyPartExamined = body_part
    template.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    template.PhotometricInterpretation = "MONOCHROME2"
    template.KVP = ds_value(120)
    template.AcquisitionNumber = 1
    template.PixelSpacing = [ds_value(pixel_spacing_mm)] * 2
    template.SliceThickness = ds_value(slice_spacing_mm)
    template.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    template.RescaleIntercept = -1024
    template.RescaleSlope = 1
    template.RescaleType = "HU"
    return template


def write_ct_slices(template: Dataset, hu: np.ndarray, origin_mm: tuple[float, float, float], slice_spacing_mm: float,
                    folder: Path, patient: SyntheticPatient, study_key: str, shear: float = 0.0) -> list[Path]:
    """One file per slice of `hu` (slices, rows, cols; -1024 to 3071 HU), stored as 12-bit unsigned
    with intercept -1024; slice k at origin + k * spacing (a gantry tilt shifts it by `shear` in y)."""
    files = []
    for k in range(hu.shape[0]):
        ds = Dataset()
        ds.update(template)
        ds.SOPInstanceUID = patient.uid(study_key, int(template.SeriesNumber), "image", k)
        ds.InstanceNumber = k + 1
        z = origin_mm[2] + k * slice_spacing_mm
        ds.ImagePositionPatient = [ds_value(origin_mm[0]), ds_value(origin_mm[1] + shear * (z - origin_mm[2])), ds_value(z)]
        ds.SliceLocation = ds_value(z)
        set_pixels(ds, (hu[k].astype(np.int32) + 1024).astype(np.uint16), bits_stored=12)
        files.append(folder / f"IM{k + 1:04d}")
        write_dataset(ds, files[-1])
    return files
