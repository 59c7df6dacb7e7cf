"""Read the header of one DICOM file into plain ImageHeader records (one per frame).

Only the header is parsed: large values (pixel data) are deferred, so their byte offset is known
without reading them. pydicom parses lazily and raises many exception types on first access of
a malformed element (docs/facts.md), so every access here sits inside one guard that turns
any failure into a HeaderError naming the file and the problem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID

from radview.core.acquisition import Acquisition
from radview.core.study_index import ImageHeader
from radview.dicom.limits import (UNCOMPRESSED_LITTLE_ENDIAN, expansion_problem, held_pixel_problem, inflated_size_problem,
                                  limit_problem)

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


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword, "")
    return "" if value is None else str(value).strip()


def _int(ds: Dataset, keyword: str) -> int | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        return int(value[0] if isinstance(value, (list, pydicom.multival.MultiValue)) else value)
    except (TypeError, ValueError):
        return None


def _float(ds: Dataset, keyword: str) -> float | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        if not value:
            return None
        value = value[0]  # multi-valued WindowCenter: the first is the default
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _floats(ds: Dataset, keyword: str, count: int) -> tuple[float, ...] | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == count else None


def _item(ds: Dataset | None, sequence: str) -> Dataset | None:
    if ds is None:
        return None
    seq = ds.get(sequence)
    return seq[0] if seq else None


def _pixel_spacing(ds: Dataset) -> tuple[tuple[float, float] | None, str]:
    """PixelSpacing (patient plane), else ImagerPixelSpacing (radiographs, at the detector).

    DICOM PS3.3 C.8.11.4 / C.8.11.7: ImagerPixelSpacing is measured at the detector; divided by
    EstimatedRadiographicMagnificationFactor it approximates the size at the patient.
    """
    spacing = _floats(ds, "PixelSpacing", 2)
    if spacing and min(spacing) > 0:
        return (spacing[0], spacing[1]), "PixelSpacing"
    imager = _floats(ds, "ImagerPixelSpacing", 2)
    if imager and min(imager) > 0:
        factor = _float(ds, "EstimatedRadiographicMagnificationFactor")
        if factor and factor > 0 and abs(factor - 1.0) > 1e-6:
            return (imager[0] / factor, imager[1] / factor), "ImagerPixelSpacing / magnification factor"
        return (imager[0], imager[1]), "ImagerPixelSpacing (at the detector)"
    nominal = _floats(ds, "NominalScannedPixelSpacing", 2)
    if nominal and min(nominal) > 0:
        return (nominal[0], nominal[1]), "NominalScannedPixelSpacing"
    return None, ""


def _joined(ds: Dataset, keyword: str) -> str:
    """A multi-valued CS/SH as DICOM writes it ("SE\\IR"); a single value as it is."""
    value = ds.get(keyword)
    if value is None or value == "":
        return ""
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(v).strip() for v in value)
    return str(value).strip()


def _acquisition(ds: Dataset) -> Acquisition:
    """The acquisition attributes (PS3.3 C.8.3.1 MR Image, C.8.2.1 CT Image, C.8.11.5 DX
    Positioning); enhanced MR keeps TR/TE/TI/b in the shared functional groups (C.8.13.5)."""
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    first_frame = _item(ds, "PerFrameFunctionalGroupsSequence")

    def group(sequence: str) -> Dataset | None:  # shared by all frames, else as the first frame has it
        return _item(shared, sequence) or _item(first_frame, sequence)

    timing, echo = group("MRTimingAndRelatedParametersSequence"), group("MREchoSequence")
    modifier, diffusion = group("MRModifierSequence"), group("MRDiffusionSequence")
    return Acquisition(
        scanning_sequence=_joined(ds, "ScanningSequence"),
        sequence_name=_text(ds, "SequenceName") or _text(ds, "PulseSequenceName"),
        inversion_recovery=_text(ds, "InversionRecovery"),
        inversion_time_ms=_float(ds, "InversionTime") or (_float(modifier, "InversionTimes") if modifier else None),
        echo_time_ms=_float(ds, "EchoTime") or (_float(echo, "EffectiveEchoTime") if echo else None),
        repetition_time_ms=_float(ds, "RepetitionTime") or (_float(timing, "RepetitionTime") if timing else None),
        diffusion_b_value=_float(ds, "DiffusionBValue") or (_float(diffusion, "DiffusionBValue") if diffusion else None),
        protocol_name=_text(ds, "ProtocolName"),
        convolution_kernel=_joined(ds, "ConvolutionKernel"),
        contrast_agent=_text(ds, "ContrastBolusAgent"),
        view_position=_text(ds, "ViewPosition").upper(),
    )


def _base_image(ds: Dataset, path: str, transfer_syntax: str) -> ImageHeader:
    rows = _int(ds, "Rows") or 0
    columns = _int(ds, "Columns") or 0
    if rows <= 0 or columns <= 0:
        raise HeaderError("image has no Rows/Columns")
    spacing, spacing_source = _pixel_spacing(ds)
    position = _floats(ds, "ImagePositionPatient", 3)
    orientation = _floats(ds, "ImageOrientationPatient", 6)
    return ImageHeader(
        path=path,
        sop_instance_uid=_text(ds, "SOPInstanceUID"),
        sop_class_uid=_text(ds, "SOPClassUID"),
        number_of_frames=max(1, _int(ds, "NumberOfFrames") or 1),
        instance_number=_int(ds, "InstanceNumber"),
        transfer_syntax_uid=transfer_syntax,
        modality=_text(ds, "Modality"),
        rows=rows,
        columns=columns,
        samples_per_pixel=_int(ds, "SamplesPerPixel") or 1,
        bits_allocated=_int(ds, "BitsAllocated") or 16,
        bits_stored=_int(ds, "BitsStored") or _int(ds, "BitsAllocated") or 16,
        pixel_representation=_int(ds, "PixelRepresentation") or 0,
        photometric_interpretation=_text(ds, "PhotometricInterpretation") or "MONOCHROME2",
        position_mm=position,  # type: ignore[arg-type]
        orientation=orientation,  # type: ignore[arg-type]
        pixel_spacing_mm=spacing,
        pixel_spacing_source=spacing_source,
        slice_thickness_mm=_float(ds, "SliceThickness"),
        spacing_between_slices_mm=_float(ds, "SpacingBetweenSlices"),
        rescale_slope=_float(ds, "RescaleSlope") or 1.0,
        rescale_intercept=_float(ds, "RescaleIntercept") or 0.0,
        rescale_type=_text(ds, "RescaleType"),
        window_center=_float(ds, "WindowCenter"),
        window_width=_float(ds, "WindowWidth"),
        echo_number=_int(ds, "EchoNumbers"),
        acquisition_number=_int(ds, "AcquisitionNumber"),
        temporal_position=_int(ds, "TemporalPositionIdentifier"),
        gantry_tilt_deg=_float(ds, "GantryDetectorTilt"),
        image_type=tuple(str(v) for v in (ds.get("ImageType") or [])),
        acquisition=_acquisition(ds),
    )


def _frames_of_enhanced(ds: Dataset, base: ImageHeader) -> list[ImageHeader]:
    """One ImageHeader per frame from the shared and per-frame functional groups (PS3.3 C.7.6.16)."""
    shared = _item(ds, "SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    images = []
    for index in range(base.number_of_frames):
        frame = per_frame[index] if index < len(per_frame) else None

        def find(sequence: str) -> Dataset | None:
            return _item(frame, sequence) or _item(shared, sequence)

        plane_position = find("PlanePositionSequence")
        plane_orientation = find("PlaneOrientationSequence")
        measures = find("PixelMeasuresSequence")
        transform = find("PixelValueTransformationSequence")
        voi = find("FrameVOILUTSequence")
        content = find("FrameContentSequence")
        echo = find("MREchoSequence")
        spacing = _floats(measures, "PixelSpacing", 2) if measures else None
        image = replace(base)
        image.frame_index = index
        image.position_mm = _floats(plane_position, "ImagePositionPatient", 3) if plane_position else None  # type: ignore[assignment]
        image.orientation = (  # type: ignore[assignment]
            _floats(plane_orientation, "ImageOrientationPatient", 6) if plane_orientation else base.orientation
        )
        if spacing:
            image.pixel_spacing_mm = (spacing[0], spacing[1])
            image.pixel_spacing_source = "PixelSpacing"
        if measures is not None:
            image.slice_thickness_mm = _float(measures, "SliceThickness")
            image.spacing_between_slices_mm = _float(measures, "SpacingBetweenSlices")
        if transform is not None:
            image.rescale_slope = _float(transform, "RescaleSlope") or 1.0
            image.rescale_intercept = _float(transform, "RescaleIntercept") or 0.0
            image.rescale_type = _text(transform, "RescaleType")
        if voi is not None:
            image.window_center = _float(voi, "WindowCenter")
            image.window_width = _float(voi, "WindowWidth")
        if content is not None:
            image.stack_id = _text(content, "StackID") or None
            image.temporal_position = _int(content, "TemporalPositionIndex")
            image.acquisition_number = _int(content, "FrameAcquisitionNumber")
        if echo is not None:
            te = _float(echo, "EffectiveEchoTime")
            image.echo_number = None if te is None else int(round(te * 1000))
        images.append(image)
    return images


def _frames_of_classic(ds: Dataset, base: ImageHeader) -> list[ImageHeader]:
    """Frames of a multi-frame file without functional groups (RT dose, NM, US, XA cine).

    Only GridFrameOffsetVector (3004,000C) places such frames in space (RT Dose, PS3.3
    C.8.8.3.2); otherwise they are a sequence in stored order with no 3D position.
    """
    offsets = ds.get("GridFrameOffsetVector")
    positioned = (
        base.position_mm is not None
        and base.orientation is not None
        and offsets is not None
        and len(offsets) == base.number_of_frames
    )
    images = []
    normal = None
    if positioned:
        o = base.orientation
        normal = (o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3])  # type: ignore[index]
    for index in range(base.number_of_frames):
        position = None
        if positioned and normal is not None:
            d = float(offsets[index])
            position = tuple(p + d * n for p, n in zip(base.position_mm, normal))  # type: ignore[arg-type]
        images.append(
            replace(base, frame_index=index, position_mm=position, orientation=base.orientation if positioned else None)
        )
    return images


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
    sop_class = _text(ds, "SOPClassUID")
    if sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
        raise HeaderError("DICOMDIR (a directory of the media, not an image)")
    if not _text(ds, "SOPInstanceUID") and not _text(ds, "StudyInstanceUID"):
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
        images = _frames_of_enhanced(ds, base)
    elif base.number_of_frames > 1:
        images = _frames_of_classic(ds, base)
    else:
        images = [base]
    offset, length = _pixel_location(ds, base)
    for image in images:
        image.pixel_offset, image.pixel_length = offset, length
    name = ds.get("PatientName")
    header = FileHeader(
        path=os.fspath(path),
        patient_id=_text(ds, "PatientID"),
        patient_name=str(name).strip() if name is not None else "",
        birth_date=_text(ds, "PatientBirthDate"),
        sex=_text(ds, "PatientSex"),
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        study_date=_text(ds, "StudyDate"),
        study_time=_text(ds, "StudyTime"),
        study_description=_text(ds, "StudyDescription"),
        accession_number=_text(ds, "AccessionNumber"),
        referring_physician=_text(ds, "ReferringPhysicianName"),
        series_instance_uid=_text(ds, "SeriesInstanceUID"),
        series_number=_int(ds, "SeriesNumber"),
        series_description=_text(ds, "SeriesDescription"),
        series_date=_text(ds, "SeriesDate"),
        series_time=_text(ds, "SeriesTime"),
        modality=base.modality,
        body_part=_text(ds, "BodyPartExamined"),
        frame_of_reference_uid=_text(ds, "FrameOfReferenceUID"),
        manufacturer=_text(ds, "Manufacturer"),
        images=images,
    )
    if not header.series_instance_uid:
        raise HeaderError("image has no Series Instance UID (0020,000E)")
    return header

