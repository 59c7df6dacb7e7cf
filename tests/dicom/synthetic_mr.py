"""Tiny synthetic MR files for the reader's tests: Siemens mosaics with a hand-built CSA header, and
enhanced MR multi-frame files with several b-values or time points."""

from __future__ import annotations

import math
import struct
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_STORAGE = "1.2.840.10008.5.1.4.1.1.4.1"
AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)


def csa2(tags: dict[str, tuple[str, list[str]]]) -> bytes:
    """A CSA2 ("SV10") header holding `tags`: name -> (VR, values as text)."""
    out = b"SV10\x04\x03\x02\x01" + struct.pack("<2I", len(tags), 77)
    for name, (vr, values) in tags.items():
        out += struct.pack("<64si4s3i", name.encode(), len(values), vr.encode(), 0, len(values), 77)
        for value in values:
            data = value.encode() + b"\x00"
            out += struct.pack("<4i", len(data), len(data), 77, len(data)) + data + b"\x00" * (-len(data) % 4)
    return out


def series_uids() -> dict[str, str]:
    """Study, series and frame of reference UIDs that files of one series share."""
    return {"StudyInstanceUID": generate_uid(), "SeriesInstanceUID": generate_uid(), "FrameOfReferenceUID": generate_uid()}


def _dataset(sop_class: str, uids: dict[str, str], description: str) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.Modality = "MR"
    ds.PatientName, ds.PatientID, ds.PatientPosition = "Synthetic^MR", "SYNMR1", "HFS"
    ds.StudyDate = ds.SeriesDate = "20240101"
    ds.StudyTime = "100000"
    for keyword, uid in uids.items():
        setattr(ds, keyword, uid)
    ds.SeriesNumber, ds.SeriesDescription = 5, description
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    return ds


def tile_values(count: int, tile: tuple[int, int], volume: int = 1) -> np.ndarray:
    """(count, rows, cols) uint16: every tile and volume different, every pixel of a tile too."""
    ramp = np.arange(tile[0] * tile[1]).reshape(tile)
    return np.stack([1000 * (k + 1) + 100 * volume + ramp for k in range(count)]).astype(np.uint16)


def write_mosaic(path: Path, uids: dict[str, str], *, count: int = 9, tile: tuple[int, int] = (8, 10),
                 orientation: tuple[float, ...] = AXIAL, csa_normal: tuple[float, ...] | None = (0.0, 0.0, 1.0),
                 position: tuple[float, float, float] = (-100.0, -80.0, 20.0), spacing: tuple[float, float] = (2.0, 2.5),
                 slice_spacing: float = 3.0, volume: int = 1, csa: bytes | None = None, private_count: int | None = None,
                 b_value: float | None = None, direction: tuple[float, float, float] | None = None) -> np.ndarray:
    """A Siemens mosaic of `count` tiles; returns the tiles (count, rows, cols) in tile order.

    csa: the CSA image header to store (default: one with NumberOfImagesInMosaic, SliceNormalVector
    unless csa_normal is None, and the b-value and direction if given); private_count: (0019,xx0A)."""
    grid = math.isqrt(count - 1) + 1
    tiles = tile_values(count, tile, volume)
    pixels = np.zeros((tile[0] * grid, tile[1] * grid), np.uint16)
    for k in range(count):
        r, c = divmod(k, grid)
        pixels[r * tile[0] : (r + 1) * tile[0], c * tile[1] : (c + 1) * tile[1]] = tiles[k]
    ds = _dataset(MR_STORAGE, uids, "ep2d_bold")
    ds.Manufacturer = "SIEMENS"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"]
    ds.InstanceNumber = ds.AcquisitionNumber = volume
    ds.AcquisitionTime = f"1000{volume:02d}.000"
    ds.ScanningSequence, ds.SequenceVariant, ds.EchoTime, ds.RepetitionTime = "EP", "SK", 30, 2000
    ds.ImagePositionPatient, ds.ImageOrientationPatient = list(position), list(orientation)
    ds.PixelSpacing = list(spacing)
    ds.SliceThickness = ds.SpacingBetweenSlices = slice_spacing
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelData = pixels.tobytes()
    if private_count is not None:
        ds.private_block(0x0019, "SIEMENS MR HEADER", create=True).add_new(0x0A, "US", private_count)
    if csa is None:
        tags = {"NumberOfImagesInMosaic": ("US", [str(count)]), "AcquisitionMatrixText": ("SH", ["64p*64"])}
        if csa_normal is not None:
            tags["SliceNormalVector"] = ("FD", [f"{v:.8f}" for v in csa_normal])
        if b_value is not None:
            tags["B_value"] = ("IS", [str(int(b_value))])
        if direction is not None:
            tags["DiffusionGradientDirection"] = ("FD", [f"{v:.8f}" for v in direction])
        csa = csa2(tags)
    if csa:
        ds.private_block(0x0029, "SIEMENS CSA HEADER", create=True).add_new(0x10, "OB", csa)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return tiles


def _item(**values) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def write_enhanced_mr(path: Path, frames: list[dict], *, slices: int = 4, dimensions: list[tuple[int, int]] | None = None,
                      rows: int = 6, columns: int = 5, description: str = "DWI") -> np.ndarray:
    """An enhanced MR file (axial, 2 x 2.5 mm pixels, 3 mm apart) with one frame per entry of
    `frames`: each {"slice": k, and any of "b": b-value, "direction": (x, y, z), "time": temporal
    position index, "trigger": ms, "index": DimensionIndexValues}. `dimensions`: DimensionIndexSequence
    as (pointer, functional group) tags. Returns the frames' pixels (frames, rows, cols)."""
    ds = _dataset(ENHANCED_MR_STORAGE, series_uids(), description)
    ds.Manufacturer = "Philips"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "DIFFUSION", "NONE"]
    ds.InstanceNumber = 1
    ds.ContentDate, ds.ContentTime, ds.AcquisitionDateTime = "20240101", "100000", "20240101100000"
    ds.Rows, ds.Columns, ds.NumberOfFrames = rows, columns, len(frames)
    ds.SharedFunctionalGroupsSequence = Sequence([_item(
        PixelMeasuresSequence=Sequence([_item(PixelSpacing=[2.0, 2.5], SliceThickness=3.0, SpacingBetweenSlices=3.0)]),
        PlaneOrientationSequence=Sequence([_item(ImageOrientationPatient=list(AXIAL))]),
        MRTimingAndRelatedParametersSequence=Sequence([_item(RepetitionTime=3000.0)]),
    )])
    if dimensions is not None:
        ds.DimensionIndexSequence = Sequence([_item(DimensionIndexPointer=p, FunctionalGroupPointer=g) for p, g in dimensions])
    per_frame, pixels = [], []
    for n, frame in enumerate(frames):
        k = frame["slice"]
        content = _item(StackID="1", InStackPositionNumber=k + 1)
        if "time" in frame:
            content.TemporalPositionIndex = frame["time"]
        if "index" in frame:
            content.DimensionIndexValues = list(frame["index"])
        item = _item(FrameContentSequence=Sequence([content]),
                     PlanePositionSequence=Sequence([_item(ImagePositionPatient=[-5.0, -6.0, 10.0 + 3.0 * k])]))
        if "b" in frame:
            diffusion = _item(DiffusionBValue=float(frame["b"]),
                              DiffusionDirectionality="DIRECTIONAL" if "direction" in frame else "NONE")
            if "direction" in frame:
                diffusion.DiffusionGradientDirectionSequence = Sequence(
                    [_item(DiffusionGradientOrientation=list(frame["direction"]))])
            item.MRDiffusionSequence = Sequence([diffusion])
        if "trigger" in frame:
            item.CardiacSynchronizationSequence = Sequence([_item(NominalCardiacTriggerDelayTime=float(frame["trigger"]))])
        per_frame.append(item)
        pixels.append(np.full((rows, columns), 100 * n, np.uint16) + np.arange(rows * columns, dtype=np.uint16).reshape(rows, columns))
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    ds.PixelData = np.stack(pixels).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return np.stack(pixels)
