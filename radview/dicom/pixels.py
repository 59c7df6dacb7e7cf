"""Pixel values of one image into a slice of a volume, with the Modality LUT applied.

Two ways: uncompressed little-endian pixels are read straight from the file into the volume
at the offset the header scan found (no decoder, no copy); everything else (JPEG, JPEG-LS,
JPEG 2000, RLE, deflate, big endian, palette colour) goes through pydicom's decoders.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

import numpy as np
import pydicom

from radview.core.study_index import ImageHeader
from radview.dicom.header import describe_exception
from radview.dicom.limits import UNCOMPRESSED_LITTLE_ENDIAN, limit_problem
from radview.dicom.workers import DECODE_TIMEOUT_S, shutdown_worker_pool, worker_pool

# Codestreams that carry their own image size (ISO 10918-1 / 14495-1 SOF, ISO 15444-1 SIZ). Decoders
# allocate by that size, not the header's, so it is checked against the header before decoding.
SOF_CODESTREAM_SYNTAXES = {
    "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
    "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81",
}
J2K_CODESTREAM_SYNTAXES = {str(uid) for uid in pydicom.uid.JPEG2000TransferSyntaxes}
# SOF0-SOF15 less DHT (C4), JPG (C8) and DAC (CC), plus JPEG-LS SOF55 (F7).
SOF_MARKERS = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF, 0xF7}
# Markers without a length field: TEM and RST0-7 (ISO 10918-1 B.1.1.3).
STANDALONE_MARKERS = {0x01, *range(0xD0, 0xD8)}
JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  "

T = TypeVar("T")


class PixelError(Exception):
    """The pixels of a file cannot be read; the message says why, for a person."""


def raw_dtype(image: ImageHeader) -> np.dtype:
    """numpy dtype of the stored values (little endian), from Bits Allocated and Pixel Representation."""
    signed = image.pixel_representation == 1
    kinds = {8: "i1" if signed else "u1", 16: "i2" if signed else "u2", 32: "i4" if signed else "u4"}
    if image.bits_allocated not in kinds:
        raise PixelError(f"unsupported Bits Allocated {image.bits_allocated} for direct reading")
    return np.dtype("<" + kinds[image.bits_allocated])


def stored_value_range(image: ImageHeader) -> tuple[int, int]:
    """Smallest and largest stored value that Bits Stored and Pixel Representation allow."""
    bits = max(1, min(image.bits_stored, image.bits_allocated))
    if image.pixel_representation == 1:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def volume_dtype(images: list[ImageHeader]) -> np.dtype:
    """The narrowest dtype that holds every image's rescaled values exactly (PS3.3 C.11.1).

    Integer slopes and intercepts keep integers (int16 for CT HU); anything else is float32.
    """
    first = images[0]
    if first.samples_per_pixel == 3 or first.photometric_interpretation == "PALETTE COLOR":
        return np.dtype(np.uint8 if first.bits_allocated <= 8 else np.uint16)
    if first.bits_allocated == 1:
        return np.dtype(np.uint8)
    identity = all(i.rescale_slope == 1 and i.rescale_intercept == 0 for i in images)
    if identity and first.bits_allocated in (8, 16, 32):
        return raw_dtype(first)
    integral = all(float(i.rescale_slope).is_integer() and float(i.rescale_intercept).is_integer() for i in images)
    if not integral:
        return np.dtype(np.float32)
    low = min(min(i.rescale_slope * r for r in stored_value_range(i)) + i.rescale_intercept for i in images)
    high = max(max(i.rescale_slope * r for r in stored_value_range(i)) + i.rescale_intercept for i in images)
    for dtype in (np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return np.dtype(dtype)
    return np.dtype(np.float32)


def check_declared_size(image: ImageHeader) -> None:
    """Refuse images whose header claims an empty or impossible size (radview.dicom.header's
    limits), before allocating anything."""
    if image.bytes_per_frame * image.number_of_frames <= 0:
        raise PixelError(f"{image.path}: header declares an empty image ({image.stored_rows}x{image.stored_columns})")
    problem = limit_problem(image)
    if problem:
        raise PixelError(f"{image.path}: {problem}")


def can_read_directly(image: ImageHeader) -> bool:
    """True when the raw bytes of this frame lie uncompressed at a known offset."""
    return (
        image.pixel_offset is not None
        and image.pixel_length is not None
        and image.samples_per_pixel == 1
        and image.bits_allocated in (8, 16, 32)
        and image.photometric_interpretation in ("MONOCHROME1", "MONOCHROME2")
        and image.pixel_length >= image.bytes_per_frame * image.number_of_frames
    )


def _fix_stored_bits(raw: np.ndarray, image: ImageHeader) -> None:
    """Clear bits above Bits Stored (overlays, garbage) and sign-extend signed values, in place."""
    unused = image.bits_allocated - image.bits_stored
    if unused <= 0 or unused >= image.bits_allocated:
        return
    if image.pixel_representation == 1:
        np.left_shift(raw, unused, out=raw)
        np.right_shift(raw, unused, out=raw)  # arithmetic shift: sign extends
    else:
        np.bitwise_and(raw, raw.dtype.type((1 << image.bits_stored) - 1), out=raw)


def apply_modality_lut(raw: np.ndarray, image: ImageHeader, out: np.ndarray) -> None:
    """out = raw * RescaleSlope + RescaleIntercept (0028,1053 / 0028,1052), written into `out`."""
    slope, intercept = image.rescale_slope, image.rescale_intercept
    same_memory = np.shares_memory(raw, out)
    if slope == 1 and intercept == 0 and raw.dtype == out.dtype:
        if not same_memory:
            out[...] = raw
        return
    if (
        same_memory
        and slope == 1
        and raw.dtype.kind in "iu"
        and out.dtype.kind == "i"
        and raw.dtype.itemsize == out.dtype.itemsize
        and stored_value_range(image)[1] <= np.iinfo(out.dtype).max
    ):
        # Stored values fit the signed type, so reinterpreting the bytes keeps them: add in place.
        np.add(out, out.dtype.type(intercept), out=out)
        return
    work = raw.astype(np.float32 if out.dtype.kind == "f" else np.int64)
    if slope != 1:
        work *= work.dtype.type(slope)
    work += work.dtype.type(intercept)
    out[...] = work


def read_frame_directly(image: ImageHeader, out: np.ndarray) -> None:
    """Read one uncompressed frame (or one mosaic slice) from its file into `out` (rows, cols),
    Modality LUT applied."""
    dtype = raw_dtype(image)
    tile = image.mosaic
    if tile is not None:  # only the band of stored rows the tile lies in, then its columns
        band = np.empty((image.rows, image.stored_columns), dtype)
        raw = band[:, tile.column : tile.column + image.columns]
        first_row = tile.row
    elif dtype.itemsize == out.dtype.itemsize and out.flags.c_contiguous:
        band = raw = out.view(dtype)
        first_row = 0
    else:
        band = raw = np.empty((image.rows, image.columns), dtype)
        first_row = 0
    offset = image.pixel_offset + image.frame_index * image.bytes_per_frame  # type: ignore[operator]
    offset += first_row * image.stored_columns * dtype.itemsize
    with open(image.path, "rb") as f:
        f.seek(offset)
        count = f.readinto(memoryview(band).cast("B"))
    if count != band.nbytes:
        raise PixelError(f"{image.path}: pixel data truncated ({count} of {band.nbytes} bytes)")
    _fix_stored_bits(raw, image)
    apply_modality_lut(raw, image, out)


class DecodedFiles:
    """Decoded pixel arrays of the last few files, so the frames of a multi-frame file decode once."""

    def __init__(self, capacity: int = 2) -> None:
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._capacity = capacity

    def frames_of(self, image: ImageHeader) -> np.ndarray:
        """(frames, rows, cols[, 3]) array of the file holding `image`."""
        if image.path in self._cache:
            self._cache.move_to_end(image.path)
            return self._cache[image.path]
        array = _decode_file(image)
        self._cache[image.path] = array
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        return array


def _decode_file(image: ImageHeader) -> np.ndarray:
    check_declared_size(image)
    if image.transfer_syntax_uid in UNCOMPRESSED_LITTLE_ENDIAN:
        return decode_file(image)
    # Compressed data goes through native decoders that may abort the process on corrupt input.
    try:
        return worker_pool().submit(decode_file, image).result(timeout=DECODE_TIMEOUT_S)
    except TimeoutError as exc:  # concurrent.futures.TimeoutError is this one since Python 3.11
        shutdown_worker_pool(kill=True)
        raise PixelError(f"{image.path}: the image decoder did not finish within {DECODE_TIMEOUT_S:.0f} s "
                         "(corrupt compressed data?)") from exc
    except BrokenProcessPool as exc:
        shutdown_worker_pool()
        raise PixelError(f"{image.path}: the image decoder crashed on this file (corrupt compressed data?)") from exc
    except PixelError:
        raise
    except Exception as exc:  # e.g. an error the worker could not send back
        raise PixelError(f"{image.path}: cannot decode pixels: {describe_exception(exc)}") from exc


def decode_file(image: ImageHeader) -> np.ndarray:
    """All frames of the file holding `image`, decoded by pydicom: (frames, rows, cols[, 3])."""
    ds = _guarded(image, lambda: pydicom.dcmread(image.path, force=True))
    _check_codestreams(ds, image)
    array = _guarded(image, lambda: _pixel_array(ds, image))
    frames = image.number_of_frames
    color = array.ndim == (4 if frames > 1 else 3)
    if frames == 1:
        array = array[np.newaxis]
    expected = (frames, image.stored_rows, image.stored_columns) + ((3,) if color else ())
    if array.shape != expected:
        raise PixelError(f"{image.path}: decoded {array.shape}, header says {expected}")
    return array


def _pixel_array(ds: pydicom.Dataset, image: ImageHeader) -> np.ndarray:
    array = ds.pixel_array
    if image.photometric_interpretation == "PALETTE COLOR":
        array = pydicom.pixels.apply_color_lut(array, ds)
    return array


def _guarded(image: ImageHeader, step: Callable[[], T]) -> T:
    """step(), any failure of pydicom or a decoder turned into a PixelError naming the file."""
    try:
        return step()
    except MemoryError as exc:
        raise PixelError(f"{image.path}: not enough memory to decode the image") from exc
    except (Exception, BaseException) as exc:  # noqa: B036 — Rust decoders panic with a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        syntax = pydicom.uid.UID(image.transfer_syntax_uid)
        name = syntax.name if syntax.is_valid else image.transfer_syntax_uid or "unknown"
        raise PixelError(f"{image.path}: cannot decode pixels ({name}): {describe_exception(exc)}") from exc


def _check_codestreams(ds: pydicom.Dataset, image: ImageHeader) -> None:
    """Refuse a file whose frames' codestreams declare a larger image than its header, before the
    decoder allocates by the codestream's size (a 64x64 file can carry a 30000x30000 SIZ)."""
    syntax = image.transfer_syntax_uid
    if syntax not in SOF_CODESTREAM_SYNTAXES and syntax not in J2K_CODESTREAM_SYNTAXES:
        return
    frames = _guarded(image, lambda: pydicom.encaps.generate_frames(ds.PixelData, number_of_frames=image.number_of_frames))
    for index in range(image.number_of_frames):
        codestream = _guarded(image, lambda: next(frames, None))
        if codestream is None:
            return  # fewer frames than declared: the decoder reports it
        size = _sof_size(codestream) if syntax in SOF_CODESTREAM_SYNTAXES else _siz_size(codestream)
        if size is None:
            continue  # no size found: the decoder finds none either and fails without allocating
        rows, columns, samples = size
        if rows > image.stored_rows or columns > image.stored_columns or samples > image.samples_per_pixel:
            raise PixelError(f"{image.path}: frame {index + 1}'s codestream declares {rows}x{columns}x{samples} "
                             f"samples, the header {image.stored_rows}x{image.stored_columns}x{image.samples_per_pixel} "
                             "(corrupt or a decompression bomb)")


def _sof_size(codestream: bytes) -> tuple[int, int, int] | None:
    """(rows, columns, components) of a JPEG or JPEG-LS codestream's SOF segment, walking the
    segments as libjpeg does (fill bytes skipped, stray bytes before a marker skipped)."""
    if codestream[:2] != b"\xff\xd8":
        return None
    offset, end = 2, len(codestream)
    while offset + 4 <= end:
        if codestream[offset] != 0xFF:
            offset += 1
            continue
        marker = codestream[offset + 1]
        if marker == 0xFF:
            offset += 1
            continue
        if marker in STANDALONE_MARKERS:
            offset += 2
            continue
        if marker in SOF_MARKERS:
            if offset + 10 > end:
                return None
            rows = int.from_bytes(codestream[offset + 5 : offset + 7], "big")
            columns = int.from_bytes(codestream[offset + 7 : offset + 9], "big")
            return rows, columns, codestream[offset + 9]
        if marker in (0xDA, 0xD9):  # scan or end of image before any frame header: nothing to decode
            return None
        offset += 2 + int.from_bytes(codestream[offset + 2 : offset + 4], "big")
    return None


def _siz_size(codestream: bytes) -> tuple[int, int, int] | None:
    """(rows, columns, components) of a JPEG 2000 codestream's SIZ segment (ISO 15444-1 A.5.1),
    which follows SOC at once; also inside a JP2 file's codestream box."""
    start = _jp2c_offset(codestream) if codestream.startswith(JP2_SIGNATURE) else 0
    if start is None or codestream[start : start + 4] != b"\xff\x4f\xff\x51" or start + 42 > len(codestream):
        return None
    field = start + 2  # the SIZ marker
    x, y, x0, y0 = (int.from_bytes(codestream[field + 6 + 4 * k : field + 10 + 4 * k], "big") for k in range(4))
    components = int.from_bytes(codestream[field + 38 : field + 40], "big")
    return max(0, y - y0), max(0, x - x0), components


def _jp2c_offset(data: bytes) -> int | None:
    """Where the codestream starts in a JP2 file: the contents of its 'jp2c' box (ISO 15444-1 I.4)."""
    offset = 0
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        header = 8
        if length == 1:  # the length follows as 8 bytes
            length, header = int.from_bytes(data[offset + 8 : offset + 16], "big"), 16
        if data[offset + 4 : offset + 8] == b"jp2c":
            return offset + header
        if length < header:  # 0: the last box, up to the end; anything shorter is corrupt
            return None
        offset += length
    return None


def read_frame_decoded(image: ImageHeader, out: np.ndarray, files: DecodedFiles) -> None:
    """Decode one frame through pydicom into `out`, Modality LUT applied to grayscale."""
    frame = files.frames_of(image)[image.frame_index]
    if image.mosaic is not None:  # the slice's tile of the decoded mosaic
        tile = image.mosaic
        frame = frame[tile.row : tile.row + image.rows, tile.column : tile.column + image.columns]
    if frame.ndim == 3 or out.ndim == 3:
        if frame.shape != out.shape:
            raise PixelError(f"{image.path}: colour image where the stack expects {out.shape}")
        out[...] = frame
        return
    apply_modality_lut(frame, image, out)
