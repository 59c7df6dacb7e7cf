"""Pixel values of one image into a slice of a volume, with the Modality LUT applied.

Two ways: uncompressed little-endian pixels are read straight from the file into the volume
at the offset the header scan found (no decoder, no copy); everything else (JPEG, JPEG-LS,
JPEG 2000, RLE, deflate, big endian, palette colour) goes through pydicom's decoders.
"""

from __future__ import annotations

from collections import OrderedDict
from concurrent.futures.process import BrokenProcessPool

import numpy as np
import pydicom

from radview.core.study_index import ImageHeader
from radview.dicom.header import UNCOMPRESSED_LITTLE_ENDIAN, describe_exception
from radview.dicom.workers import shutdown_worker_pool, worker_pool

# A header that claims more than this is corrupt or beyond a workstation: refuse it before
# any allocation (a fuzzed Rows x Columns x Frames can ask for terabytes).
MAX_IMAGE_BYTES = 8 * 1024**3


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
    """Refuse images whose header claims an impossible size, before allocating anything."""
    total = image.bytes_per_frame * image.number_of_frames
    if total <= 0:
        raise PixelError(f"{image.path}: header declares an empty image ({image.rows}x{image.columns})")
    if total > MAX_IMAGE_BYTES:
        raise PixelError(
            f"{image.path}: header declares {image.rows}x{image.columns}x{image.number_of_frames} "
            f"pixels ({total / 1024**3:.1f} GiB): corrupt or too large"
        )


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
    """Read one uncompressed frame from its file into `out` (rows, cols), Modality LUT applied."""
    dtype = raw_dtype(image)
    if dtype.itemsize == out.dtype.itemsize and out.flags.c_contiguous:
        raw = out.view(dtype)
    else:
        raw = np.empty((image.rows, image.columns), dtype)
    offset = image.pixel_offset + image.frame_index * image.bytes_per_frame  # type: ignore[operator]
    with open(image.path, "rb") as f:
        f.seek(offset)
        count = f.readinto(memoryview(raw).cast("B"))
    if count != raw.nbytes:
        raise PixelError(f"{image.path}: pixel data truncated ({count} of {raw.nbytes} bytes)")
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
        return worker_pool().submit(decode_file, image).result()
    except BrokenProcessPool as exc:
        shutdown_worker_pool()
        raise PixelError(f"{image.path}: the image decoder crashed on this file (corrupt compressed data?)") from exc
    except PixelError:
        raise
    except Exception as exc:  # e.g. an error the worker could not send back
        raise PixelError(f"{image.path}: cannot decode pixels: {describe_exception(exc)}") from exc


def decode_file(image: ImageHeader) -> np.ndarray:
    """All frames of the file holding `image`, decoded by pydicom: (frames, rows, cols[, 3])."""
    try:
        ds = pydicom.dcmread(image.path, force=True)
        array = ds.pixel_array
        if image.photometric_interpretation == "PALETTE COLOR":
            array = pydicom.pixels.apply_color_lut(array, ds)
    except MemoryError as exc:
        raise PixelError(f"{image.path}: not enough memory to decode the image") from exc
    except (Exception, BaseException) as exc:  # noqa: B036 — Rust decoders panic with a BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        syntax = pydicom.uid.UID(image.transfer_syntax_uid)
        name = syntax.name if syntax.is_valid else image.transfer_syntax_uid or "unknown"
        raise PixelError(f"{image.path}: cannot decode pixels ({name}): {describe_exception(exc)}") from exc
    frames = image.number_of_frames
    color = array.ndim == (4 if frames > 1 else 3)
    if frames == 1:
        array = array[np.newaxis]
    expected = (frames, image.rows, image.columns) + ((3,) if color else ())
    if array.shape != expected:
        raise PixelError(f"{image.path}: decoded {array.shape}, header says {expected}")
    return array


def read_frame_decoded(image: ImageHeader, out: np.ndarray, files: DecodedFiles) -> None:
    """Decode one frame through pydicom into `out`, Modality LUT applied to grayscale."""
    frame = files.frames_of(image)[image.frame_index]
    if frame.ndim == 3 or out.ndim == 3:
        if frame.shape != out.shape:
            raise PixelError(f"{image.path}: colour image where the stack expects {out.shape}")
        out[...] = frame
        return
    apply_modality_lut(frame, image, out)
