"""Siemens mosaic images: one stored frame tiled with the slices of a whole volume (fMRI, DTI,
perfusion EPI), cut back into one ImageHeader per slice.

A mosaic is a Siemens image whose ImageType holds MOSAIC. The CSA image header (radview.dicom.csa)
gives NumberOfImagesInMosaic (else the private (0019,xx0A) of "SIEMENS MR HEADER") and
SliceNormalVector. The N slices fill a ceil(sqrt(N)) square grid row by row, so each tile is
Rows/grid x Columns/grid; tiles past N are blank.

ImagePositionPatient of a mosaic is not the first slice's: it places the whole stored frame as if
it were one slice of tile-sized pixels centred where the slices are. nibabel's
MosaicWrapper.image_position (nibabel/nicom/dicomwrappers.py) and dcm2niix undo this by moving
half the difference between the mosaic and the tile along each in-plane direction:

    first slice = IPP + column direction * PixelSpacing[0] * (Rows - tile rows) / 2
                      + row direction * PixelSpacing[1] * (Columns - tile columns) / 2

Slice k lies k slice spacings (SpacingBetweenSlices, else SliceThickness) further along the slice
normal: the row x column cross product, turned to point where the CSA SliceNormalVector points
(the order the slices were tiled in), as nibabel's SiemensWrapper.slice_normal and dcm2niix do.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from pydicom.dataset import Dataset

from radview.core.study_index import ImageHeader, MosaicTile
from radview.dicom.csa import CSA2_MAGIC, MAX_CSA_BYTES, CsaError, CsaHeader, parse_csa
from radview.dicom.limits import mosaic_problem
from radview.dicom.values import ds_text

CSA_CREATOR = "SIEMENS CSA HEADER"
MR_CREATOR = "SIEMENS MR HEADER"
CSA_IMAGE_ELEMENT = 0x10  # (0029,xx10) CSA Image Header Info
MOSAIC_COUNT_ELEMENT = 0x0A  # (0019,xx0A) NumberOfImagesInMosaic
# |cos| between the CSA slice normal and the plane's normal below which the two disagree (8 degrees)
NORMAL_AGREEMENT = 0.99


class MosaicError(Exception):
    """A mosaic that cannot be cut into slices; the message says why, for a person."""


def is_mosaic(ds: Dataset, base: ImageHeader) -> bool:
    """True for a Siemens image whose ImageType (0008,0008) holds MOSAIC."""
    return any(v.strip().upper() == "MOSAIC" for v in base.image_type) and "SIEMENS" in ds_text(ds, "Manufacturer").upper()


def _private_tag(ds: Dataset, group: int, creator: str, element: int) -> int | None:
    """The tag of a private element by its creator (PS3.5 7.8.1), else None. Only the creator
    elements are read: pydicom's private_block reads the whole group, CSA values included."""
    for block in range(0x10, 0x100):
        tag = (group << 16) | block
        if tag in ds and str(ds[tag].value).strip() == creator:
            return (group << 16) | (block << 8) | element
    return None


def csa_image_header(ds: Dataset, source: str) -> CsaHeader | None:
    """The CSA image header of a Siemens file; None when it has none or an old (CSA1) one.
    Raises CsaError naming `source` when it is too large or corrupt."""
    tag = _private_tag(ds, 0x0029, CSA_CREATOR, CSA_IMAGE_ELEMENT)
    if tag is None and 0x00290010 not in ds and 0x00291010 in ds:
        tag = 0x00291010  # the creator was stripped (some anonymisers do); the element is where Siemens puts it
    if tag is None or tag not in ds:
        return None
    length = getattr(ds.get_item(tag, keep_deferred=True), "length", None)  # the raw element: its length, unread
    if length == 0xFFFFFFFF:
        raise CsaError(source, "stored with an undefined length (corrupt)")
    if length is not None and length > MAX_CSA_BYTES:
        raise CsaError(source, f"{length} bytes, over the {MAX_CSA_BYTES} byte limit")
    blob = ds[tag].value
    if not isinstance(blob, (bytes, bytearray)) or not blob.startswith(CSA2_MAGIC):
        return None
    return parse_csa(bytes(blob), source)


def _private_count(ds: Dataset) -> int | None:
    """NumberOfImagesInMosaic from (0019,xx0A) of the "SIEMENS MR HEADER" block."""
    tag = _private_tag(ds, 0x0019, MR_CREATOR, MOSAIC_COUNT_ELEMENT)
    if tag is None or tag not in ds:
        return None
    value = ds[tag].value
    if isinstance(value, (bytes, bytearray)):  # read as UN: a little-endian US
        return int.from_bytes(value[:2], "little") if len(value) >= 2 else None
    try:
        return int(value[0] if isinstance(value, (list, tuple)) else value)
    except (TypeError, ValueError, IndexError):
        return None


def _count(ds: Dataset, csa: CsaHeader | None) -> int | None:
    number = csa.number("NumberOfImagesInMosaic") if csa is not None else None
    if number is not None and number > 0 and float(number).is_integer():
        return int(number)
    return _private_count(ds)


def _slice_normal(base: ImageHeader, csa: CsaHeader | None) -> np.ndarray:
    """The unit normal slice k+1 lies along from slice k."""
    orientation = np.asarray(base.orientation, dtype=float)
    normal = np.cross(orientation[:3], orientation[3:])
    length = float(np.linalg.norm(normal))
    if not length > 1e-6:
        raise MosaicError(f"degenerate ImageOrientationPatient {list(base.orientation or ())}")
    normal /= length
    csa_normal = csa.numbers("SliceNormalVector", 3) if csa is not None else None
    if csa_normal is not None and np.linalg.norm(csa_normal) > 1e-6:
        cosine = float(normal @ np.asarray(csa_normal)) / float(np.linalg.norm(csa_normal))
        if abs(cosine) < NORMAL_AGREEMENT:
            raise MosaicError(f"CSA SliceNormalVector {list(csa_normal)} is not perpendicular to the image plane: "
                              "the order of the slices is unknown")
        if cosine < 0:
            normal = -normal
    return normal


def _positions(base: ImageHeader, count: int, tile_rows: int, tile_columns: int,
               csa: CsaHeader | None) -> list[tuple[float, float, float]] | None:
    """ImagePositionPatient of each slice (the module's docstring), or None without geometry."""
    if base.position_mm is None or base.orientation is None or base.pixel_spacing_mm is None:
        return None
    if not all(math.isfinite(v) for v in (*base.position_mm, *base.orientation, *base.pixel_spacing_mm)):
        return None  # radview.dicom.stacks names such images and shows them without geometry
    orientation = np.asarray(base.orientation, dtype=float)
    between_rows, between_columns = base.pixel_spacing_mm
    first = (np.asarray(base.position_mm, dtype=float)
             + orientation[3:] * between_rows * (base.rows - tile_rows) / 2
             + orientation[:3] * between_columns * (base.columns - tile_columns) / 2)
    normal = _slice_normal(base, csa)
    step = next((s for s in (base.spacing_between_slices_mm, base.slice_thickness_mm) if s is not None and s > 0), 1.0)
    return [tuple(float(v) for v in first + k * step * normal) for k in range(count)]  # type: ignore[misc]


def mosaic_slices(ds: Dataset, base: ImageHeader) -> list[ImageHeader]:
    """One ImageHeader per slice of the mosaic `base` (its one stored frame), in tile order.

    Raises MosaicError or CsaError (naming the file) when it cannot be cut into slices."""
    csa = csa_image_header(ds, base.path)
    count = _count(ds, csa)
    if count is None:
        raise MosaicError("a Siemens mosaic without NumberOfImagesInMosaic (CSA header or (0019,xx0A)): "
                          "its slices cannot be told apart")
    problem = mosaic_problem(base, count)
    if problem:
        raise MosaicError(problem)
    grid = math.isqrt(count - 1) + 1
    tile_rows, tile_columns = base.rows // grid, base.columns // grid
    positions = _positions(base, count, tile_rows, tile_columns, csa)
    acquisition, direction = base.acquisition, base.diffusion_direction
    if csa is not None:  # Siemens keeps the b-value and gradient of a mosaic in the CSA header
        b_value = csa.number("B_value")
        if acquisition.diffusion_b_value is None and b_value is not None:
            acquisition = replace(acquisition, diffusion_b_value=b_value)
        direction = direction or csa.numbers("DiffusionGradientDirection", 3)  # type: ignore[assignment]
    images = []
    for k in range(count):
        row, column = divmod(k, grid)
        tile = MosaicTile(k, count, row * tile_rows, column * tile_columns, base.rows, base.columns)
        images.append(replace(base, rows=tile_rows, columns=tile_columns, mosaic=tile, acquisition=acquisition,
                              diffusion_direction=direction, position_mm=positions[k] if positions else None))
    return images
