"""Write the demo studies (`radview demo OUT_DIR --seed N`): DICOM under dicom/, truth under ground-truth/."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import DigitalXRayImageStorageForPresentation, MRImageStorage

from radview.core.nifti_layout import to_nifti_layout
from radview.demo.brain_mr import make_brain_mr
from radview.demo.chest_ct import make_chest_ct
from radview.demo.chest_xray import make_chest_xray
from radview.demo.dicom_writer import base_dataset, ct_template, ds_value, set_pixels, write_ct_slices, write_dataset
from radview.demo.identity import SyntheticPatient, synthetic_patient

NOTICE = "Synthetic phantom made by RadView for testing and demonstration; not a real patient."


def _axial_affine_lps(origin: tuple[float, float, float], spacing: float, slice_step: tuple[float, float, float]) -> np.ndarray:
    a = np.eye(4)
    a[:3, 0] = (spacing, 0, 0)
    a[:3, 1] = (0, spacing, 0)
    a[:3, 2] = slice_step
    a[:3, 3] = origin
    return a


def _save_mask(labels: np.ndarray, affine_lps: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data, affine = to_nifti_layout(labels, affine_lps)
    image = nib.Nifti1Image(np.ascontiguousarray(data), affine)
    image.set_qform(affine, code=1)
    image.set_sform(affine, code=1)
    nib.save(image, path)


def write_chest_ct(patient: SyntheticPatient, out: Path, truth: Path, slices: int = 200, tilt_deg: float = 0.0,
                   series_number: int = 3) -> dict:
    """The chest CT series, one file per slice (uncompressed, 12-bit unsigned, intercept -1024)."""
    ct = make_chest_ct(patient.seed, slices=slices, tilt_deg=tilt_deg)
    shear = float(np.tan(np.radians(tilt_deg)))
    template = ct_template(patient, "chest-ct", series_number,
                           "Chest 1.25mm" if ct.slice_spacing_mm == 1.25 else "Chest 1.5mm", "CT CHEST", "CHEST",
                           ct.pixel_spacing_mm, ct.slice_spacing_mm)
    template.WindowCenter = [ds_value(-600), ds_value(40)]
    template.WindowWidth = [ds_value(1500), ds_value(400)]
    template.WindowCenterWidthExplanation = ["LUNG", "MEDIASTINUM"]
    template.ImageComments = NOTICE
    if tilt_deg:
        template.GantryDetectorTilt = ds_value(tilt_deg)
    series_dir = out / f"chest-ct{'-tilted' if tilt_deg else ''}"
    write_ct_slices(template, ct.hu, ct.origin_mm, ct.slice_spacing_mm, series_dir, patient, "chest-ct", shear)
    affine = _axial_affine_lps(ct.origin_mm, ct.pixel_spacing_mm, (0, shear * ct.slice_spacing_mm, ct.slice_spacing_mm))
    name = series_dir.name
    _save_mask(ct.nodule_labels, affine, truth / f"{name}-nodules.nii.gz")
    _save_mask(ct.lung_labels, affine, truth / f"{name}-lungs.nii.gz")
    return {"series_instance_uid": template.SeriesInstanceUID, "folder": series_dir.name, **ct.ground_truth()}


def write_chest_xray(patient: SyntheticPatient, out: Path, truth: Path) -> dict:
    """A PA chest radiograph (DX for presentation, ImagerPixelSpacing)."""
    cxr = make_chest_xray(patient.seed)
    ds = base_dataset(patient, "chest-xray", DigitalXRayImageStorageForPresentation, "DX", 1, "Chest PA", "XR CHEST PA")
    ds.SOPInstanceUID = patient.uid("chest-xray", "image")
    ds.InstanceNumber = 1
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.PositionerType = "NONE"
    ds.AcquisitionContextSequence = []
    view = Dataset()
    view.CodeValue, view.CodingSchemeDesignator, view.CodeMeaning = "272479007", "SCT", "postero-anterior"
    ds.ViewCodeSequence = [view]
    ds.PatientOrientation = ["L", "F"]
    ds.ImageLaterality = "U"
    ds.PhotometricInterpretation = cxr.photometric
    ds.ImagerPixelSpacing = [ds_value(cxr.pixel_spacing_mm)] * 2
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1 if cxr.photometric == "MONOCHROME2" else -1
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.RescaleType = "US"
    ds.PresentationLUTShape = "IDENTITY" if cxr.photometric == "MONOCHROME2" else "INVERSE"
    ds.LossyImageCompression = "00"
    ds.WindowCenter = ds_value(2048)
    ds.WindowWidth = ds_value(4096)
    ds.DetectorType = "SCINTILLATOR"
    ds.KVP = ds_value(125)
    ds.ImageComments = NOTICE
    ds.AnatomicRegionSequence = [Dataset()]
    region = ds.AnatomicRegionSequence[0]
    region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning = "816094009", "SCT", "Chest"
    set_pixels(ds, cxr.pixels, bits_stored=12)
    write_dataset(ds, out / "chest-xray" / "IM0001")
    nib.save(nib.Nifti1Image(np.ascontiguousarray(cxr.nodule_mask.T[:, ::-1]), np.diag([cxr.pixel_spacing_mm] * 2 + [1, 1])),
             truth / "chest-xray-nodules.nii.gz")
    return {"series_instance_uid": ds.SeriesInstanceUID, "folder": "chest-xray", **cxr.ground_truth()}


def write_brain_mr(patient: SyntheticPatient, out: Path, truth: Path) -> dict:
    """An axial FLAIR-like brain series."""
    mr = make_brain_mr(patient.seed)
    template = base_dataset(patient, "brain-mr", MRImageStorage, "MR", 2, "AX FLAIR", "MR BRAIN")
    template.FrameOfReferenceUID = patient.uid("brain-mr", "frame")
    template.PositionReferenceIndicator = ""
    template.PatientPosition = "HFS"
    template.BodyPartExamined = "HEAD"
    template.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
    template.PhotometricInterpretation = "MONOCHROME2"
    template.ScanningSequence = ["SE", "IR"]
    template.SequenceVariant = ["SK", "SP", "MP"]
    template.ScanOptions = ""
    template.MRAcquisitionType = "2D"
    template.SequenceName = "tir2d1_16"
    template.RepetitionTime = ds_value(9000)
    template.EchoTime = ds_value(120)
    template.InversionTime = ds_value(2500)
    template.EchoTrainLength = 16
    template.EchoNumbers = 1
    template.MagneticFieldStrength = ds_value(1.5)
    template.ImagingFrequency = ds_value(63.87)
    template.ImagedNucleus = "1H"
    template.SliceThickness = ds_value(mr.slice_spacing_mm)
    template.SpacingBetweenSlices = ds_value(mr.slice_spacing_mm)
    template.PixelSpacing = [ds_value(mr.pixel_spacing_mm)] * 2
    template.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    template.AcquisitionNumber = 1
    template.ImageComments = NOTICE
    for k in range(mr.pixels.shape[0]):
        ds = Dataset()
        ds.update(template)
        ds.SOPInstanceUID = patient.uid("brain-mr", "image", k)
        ds.InstanceNumber = k + 1
        z = mr.origin_mm[2] + k * mr.slice_spacing_mm
        ds.ImagePositionPatient = [ds_value(mr.origin_mm[0]), ds_value(mr.origin_mm[1]), ds_value(z)]
        ds.SliceLocation = ds_value(z)
        set_pixels(ds, mr.pixels[k], bits_stored=12)
        write_dataset(ds, out / "brain-mr" / f"IM{k + 1:04d}")
    affine = _axial_affine_lps(mr.origin_mm, mr.pixel_spacing_mm, (0, 0, mr.slice_spacing_mm))
    _save_mask(mr.labels, affine, truth / "brain-mr-tumour.nii.gz")
    return {"series_instance_uid": template.SeriesInstanceUID, "folder": "brain-mr", **mr.ground_truth()}


def write_demo_studies(out_dir: str | Path, seed: int = 0, ct_slices: int = 200) -> dict:
    """Write the three phantom studies of one synthetic patient; return (and save) the ground truth.

    Layout: OUT/dicom/{chest-ct,chest-xray,brain-mr}/IMnnnn, OUT/ground-truth/*.nii.gz and
    OUT/ground-truth/ground-truth.json. Deterministic per seed.
    """
    out = Path(out_dir)
    dicom, truth = out / "dicom", out / "ground-truth"
    truth.mkdir(parents=True, exist_ok=True)
    patient = synthetic_patient(seed)
    result = {
        "seed": seed,
        "notice": NOTICE,
        "patient": {"name": patient.name, "id": patient.patient_id, "birth_date": patient.birth_date, "sex": patient.sex},
        "chest_ct": write_chest_ct(patient, dicom, truth, slices=ct_slices),
        "chest_xray": write_chest_xray(patient, dicom, truth),
        "brain_mr": write_brain_mr(patient, dicom, truth),
    }
    (truth / "ground-truth.json").write_text(json.dumps(result, indent=2))
    return result
