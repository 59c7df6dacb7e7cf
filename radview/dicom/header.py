"""Read the header of one DICOM file into plain ImageHeader records (one per frame).

Only the header is parsed: large values (pixel data) are deferred, so their byte offset is known
without reading them. pydicom parses lazily and raises many exception types on first access of
a malformed element (docs/facts.md), so every access here sits inside one guard that turns
any failure into a HeaderError naming the file and the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID

from radview.core.acquisition import Acquisition
from radview.core.study_index import ImageHeader
from radview.dicom.csa import CsaError
from radview.dicom.frames import frames_of_classic, frames_of_enhanced
from radview.dicom.limits import (UNCOMPRESSED_LITTLE_ENDIAN, expansion_problem, held_pixel_problem, inflated_size_problem,
                                  limit_problem)
from radview.dicom.mosaic import MosaicError, is_mosaic, mosaic_slices
from radview.dicom.values import ds_float, ds_floats, ds_int, ds_item, ds_joined, ds_text, present

DEFER_SIZE_BYTES = 4096
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"


class HeaderError(Exception):
    """A file that is not a usable DICOM image; the message says why, for a person."""


@dataclass
class FileHeader:
    """Patient / study / series identity of one file plus its image(s)."""

    path: str
    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""
    sex: str = ""
    study_instance_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    accession_number: str = ""
    referring_physician: str = ""
    series_instance_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    series_date: str = ""
    series_time: str = ""
    modality: str = ""
    body_part: str = ""
    frame_of_reference_uid: str = ""
    manufacturer: str = ""
    images: list[ImageHeader] = field(default_factory=list)


def _pixel_spacing(ds: Dataset) -> tuple[tuple[float, float] | None, str]:
    """PixelSpacing (patient plane), else ImagerPixelSpacing (radiographs, at the detector).

    DICOM PS3.3 C.8.11.4 / C.8.11.7: ImagerPixelSpacing is measured at the detector; divided by
    EstimatedRadiographicMagnificationFactor it approximates the size at the patient.
    """
    spacing = ds_floats(ds, "PixelSpacing", 2)
    if spacing and min(spacing) > 0:
        return (spacing[0], spacing[1]), "PixelSpacing"
    imager = ds_floats(ds, "ImagerPixelSpacing", 2)
    if imager and min(imager) > 0:
        factor = ds_float(ds, "EstimatedRadiographicMagnificationFactor")
        if factor and factor > 0 and abs(factor - 1.0) > 1e-6:
            return (imager[0] / factor, imager[1] / factor), "ImagerPixelSpacing / magnification factor"
        return (imager[0], imager[1]), "ImagerPixelSpacing (at the detector)"
    nominal = ds_floats(ds, "NominalScannedPixelSpacing", 2)
    if nominal and min(nominal) > 0:
        return (nominal[0], nominal[1]), "NominalScannedPixelSpacing"
    return None, ""


def _acquisition(ds: Dataset) -> Acquisition:
    """The acquisition attributes (PS3.3 C.8.3.1 MR Image, C.8.2.1 CT Image, C.8.11.5 DX
    Positioning); enhanced MR keeps TR/TE/TI/b in the shared functional groups (C.8.13.5)."""
    shared = ds_item(ds, "SharedFunctionalGroupsSequence")
    first_frame = ds_item(ds, "PerFrameFunctionalGroupsSequence")

    def group(sequence: str) -> Dataset | None:  # shared by all frames, else as the first frame has it
        return ds_item(shared, sequence) or ds_item(first_frame, sequence)

    timing, echo = group("MRTimingAndRelatedParametersSequence"), group("MREchoSequence")
    modifier, diffusion = group("MRModifierSequence"), group("MRDiffusionSequence")
    return Acquisition(
        scanning_sequence=ds_joined(ds, "ScanningSequence"),
        sequence_name=ds_text(ds, "SequenceName") or ds_text(ds, "PulseSequenceName"),
        inversion_recovery=ds_text(ds, "InversionRecovery"),
        inversion_time_ms=ds_float(ds, "InversionTime") or (ds_float(modifier, "InversionTimes") if modifier else None),
        echo_time_ms=ds_float(ds, "EchoTime") or (ds_float(echo, "EffectiveEchoTime") if echo else None),
        repetition_time_ms=ds_float(ds, "RepetitionTime") or (ds_float(timing, "RepetitionTime") if timing else None),
        diffusion_b_value=present(ds_float(ds, "DiffusionBValue"),  # b = 0 is a value
                                  ds_float(diffusion, "DiffusionBValue") if diffusion else None),
        protocol_name=ds_text(ds, "ProtocolName"),
        convolution_kernel=ds_joined(ds, "ConvolutionKernel"),
        contrast_agent=ds_text(ds, "ContrastBolusAgent"),
        view_position=ds_text(ds, "ViewPosition").upper(),
    )


def _base_image(ds: Dataset, path: str, transfer_syntax: str) -> ImageHeader:
    rows = ds_int(ds, "Rows") or 0
    columns = ds_int(ds, "Columns") or 0
    if rows <= 0 or columns <= 0:
        raise HeaderError("image has no Rows/Columns")
    spacing, spacing_source = _pixel_spacing(ds)
    position = ds_floats(ds, "ImagePositionPatient", 3)
    orientation = ds_floats(ds, "ImageOrientationPatient", 6)
    return ImageHeader(
        path=path,
        sop_instance_uid=ds_text(ds, "SOPInstanceUID"),
        sop_class_uid=ds_text(ds, "SOPClassUID"),
        number_of_frames=max(1, ds_int(ds, "NumberOfFrames") or 1),
        instance_number=ds_int(ds, "InstanceNumber"),
        transfer_syntax_uid=transfer_syntax,
        modality=ds_text(ds, "Modality"),
        rows=rows,
        columns=columns,
        samples_per_pixel=ds_int(ds, "SamplesPerPixel") or 1,
        bits_allocated=ds_int(ds, "BitsAllocated") or 16,
        bits_stored=ds_int(ds, "BitsStored") or ds_int(ds, "BitsAllocated") or 16,
        pixel_representation=ds_int(ds, "PixelRepresentation") or 0,
        photometric_interpretation=ds_text(ds, "PhotometricInterpretation") or "MONOCHROME2",
        position_mm=position,  # type: ignore[arg-type]
        orientation=orientation,  # type: ignore[arg-type]
        pixel_spacing_mm=spacing,
        pixel_spacing_source=spacing_source,
        slice_thickness_mm=ds_float(ds, "SliceThickness"),
        spacing_between_slices_mm=ds_float(ds, "SpacingBetweenSlices"),
        rescale_slope=ds_float(ds, "RescaleSlope") or 1.0,
        rescale_intercept=ds_float(ds, "RescaleIntercept") or 0.0,
        rescale_type=ds_text(ds, "RescaleType"),
        window_center=ds_float(ds, "WindowCenter"),
        window_width=ds_float(ds, "WindowWidth"),
        echo_number=ds_int(ds, "EchoNumbers"),
        acquisition_number=ds_int(ds, "AcquisitionNumber"),
        temporal_position=ds_int(ds, "TemporalPositionIdentifier"),
        trigger_time_ms=ds_float(ds, "TriggerTime"),
        diffusion_direction=ds_floats(ds, "DiffusionGradientOrientation", 3),  # type: ignore[arg-type]
        gantry_tilt_deg=ds_float(ds, "GantryDetectorTilt"),
        image_type=tuple(str(v) for v in (ds.get("ImageType") or [])),
        acquisition=_acquisition(ds),
    )


def _pixel_location(ds: Dataset, image: ImageHeader) -> tuple[int | None, int | None]:
    """Byte offset and length of uncompressed little-endian pixel data, else (None, None)."""
    if image.transfer_syntax_uid not in UNCOMPRESSED_LITTLE_ENDIAN:
        return None, None
    raw = ds._dict.get(0x7FE00010)  # the raw element keeps the file offset of a deferred value
    tell = getattr(raw, "value_tell", None)
    length = getattr(raw, "length", None)
    if tell is None or length is None or length == 0xFFFFFFFF:
        return None, None
    return int(tell), int(length)


def _dataset_of(path: str) -> Dataset:
    problem = inflated_size_problem(path)
    if problem:
        raise HeaderError(problem)
    try:
        return pydicom.dcmread(path, defer_size=DEFER_SIZE_BYTES, force=True)
    except Exception as exc:  # pydicom raises many kinds on malformed input (docs/facts.md)
        raise HeaderError(f"not readable as DICOM: {describe_exception(exc)}") from exc


def describe_exception(exc: BaseException) -> str:
    """One line naming an exception's type and first message line (for skipped-file reasons)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def unsafe_to_read(path: str) -> str | None:
    """Why a file must not be read in full (a deflate bomb, pixels beyond the limits or beyond what
    a compressed file can hold, fewer pixel bytes than declared), else None. For readers of any
    object (de-identification), not only images; an unreadable file is the reader's to report."""
    try:
        ds = _dataset_of(path)
    except HeaderError as error:
        return str(error) if "not readable as DICOM" not in str(error) else None
    if 0x7FE00010 not in ds:
        return None
    meta = getattr(ds, "file_meta", None)
    syntax = str(getattr(meta, "TransferSyntaxUID", "") or "") if meta is not None else ""
    base = _base_image(ds, os.fspath(path), syntax or ("1.2.840.10008.1.2" if ds.is_implicit_VR else "1.2.840.10008.1.2.1"))
    return limit_problem(base) or held_pixel_problem(ds, base) or expansion_problem(base, os.path.getsize(path))


def read_file_header(path: str) -> FileHeader:
    """Parse one file's header; raise HeaderError with a readable reason if it is no usable image.

    Reads (0008,0016/0018) SOP class/instance, patient/study/series identity, the Image Pixel,
    Image Plane and Modality LUT attributes, and enhanced multi-frame functional groups.
    """
    try:
        return _read_file_header(path)
    except HeaderError:
        raise
    except MemoryError as exc:
        raise HeaderError("header too large to read (corrupt length?)") from exc
    except Exception as exc:  # lazy parsing fails at first access, in any of many types
        raise HeaderError(f"malformed DICOM header: {describe_exception(exc)}") from exc


def _read_file_header(path: str) -> FileHeader:
    ds = _dataset_of(path)
    sop_class = ds_text(ds, "SOPClassUID")
    if sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
        raise HeaderError("DICOMDIR (a directory of the media, not an image)")
    if not ds_text(ds, "SOPInstanceUID") and not ds_text(ds, "StudyInstanceUID"):
        raise HeaderError("not a DICOM file (no SOP Instance UID or Study Instance UID)")
    if 0x7FE00010 not in ds and 0x7FE00008 not in ds and 0x7FE00009 not in ds:
        kind = UID(sop_class).name if sop_class else "unknown object"
        if kind.endswith("Image Storage"):
            raise HeaderError(f"no pixel data in this {kind} file")
        raise HeaderError(f"not an image ({kind})")
    if 0x7FE00010 not in ds:
        raise HeaderError("float pixel data is not supported")
    meta = getattr(ds, "file_meta", None)
    transfer_syntax = str(getattr(meta, "TransferSyntaxUID", "") or "") if meta is not None else ""
    if not transfer_syntax:
        transfer_syntax = "1.2.840.10008.1.2" if ds.is_implicit_VR else "1.2.840.10008.1.2.1"
    base = _base_image(ds, os.fspath(path), transfer_syntax)
    if not base.sop_instance_uid:
        raise HeaderError("image has no SOP Instance UID (0008,0018)")
    # Before one ImageHeader per frame is made and before any pixel is read: a bomb stops here.
    problem = limit_problem(base) or held_pixel_problem(ds, base) or expansion_problem(base, os.path.getsize(path))
    if problem:
        raise HeaderError(problem)
    if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
        images = frames_of_enhanced(ds, base)
    elif base.number_of_frames > 1:
        images = frames_of_classic(ds, base)
    elif is_mosaic(ds, base):
        try:
            images = mosaic_slices(ds, base)
        except CsaError as error:
            raise HeaderError(f"Siemens mosaic: {error.problem}") from error
        except MosaicError as error:
            raise HeaderError(f"Siemens mosaic: {error}") from error
    else:
        images = [base]
    offset, length = _pixel_location(ds, base)
    for image in images:
        image.pixel_offset, image.pixel_length = offset, length
    name = ds.get("PatientName")
    header = FileHeader(
        path=os.fspath(path),
        patient_id=ds_text(ds, "PatientID"),
        patient_name=str(name).strip() if name is not None else "",
        birth_date=ds_text(ds, "PatientBirthDate"),
        sex=ds_text(ds, "PatientSex"),
        study_instance_uid=ds_text(ds, "StudyInstanceUID"),
        study_date=ds_text(ds, "StudyDate"),
        study_time=ds_text(ds, "StudyTime"),
        study_description=ds_text(ds, "StudyDescription"),
        accession_number=ds_text(ds, "AccessionNumber"),
        referring_physician=ds_text(ds, "ReferringPhysicianName"),
        series_instance_uid=ds_text(ds, "SeriesInstanceUID"),
        series_number=ds_int(ds, "SeriesNumber"),
        series_description=ds_text(ds, "SeriesDescription"),
        series_date=ds_text(ds, "SeriesDate"),
        series_time=ds_text(ds, "SeriesTime"),
        modality=base.modality,
        body_part=ds_text(ds, "BodyPartExamined"),
        frame_of_reference_uid=ds_text(ds, "FrameOfReferenceUID"),
        manufacturer=ds_text(ds, "Manufacturer"),
        images=images,
    )
    if not header.series_instance_uid:
        raise HeaderError("image has no Series Instance UID (0020,000E)")
    return header

