"""What one DICOM file may declare, checked from its header before anything is allocated,
inflated or decoded: a fuzzed or hostile Rows x Columns x NumberOfFrames can ask for terabytes, a
compressed stream can inflate far beyond its file. radview.dicom.header refuses such a file at the
scan, radview.dicom.pixels before decoding, radview.dicom.anonymize before reading it.
"""

from __future__ import annotations

import math
import os
import zlib
from typing import BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import UID

from radview.core.study_index import ImageHeader

UNCOMPRESSED_LITTLE_ENDIAN = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}
DEFLATED = "1.2.840.10008.1.2.1.99"
# Pixels stored as they are (no codec), so the Pixel Data length says how much the file holds.
NATIVE_SYNTAXES = UNCOMPRESSED_LITTLE_ENDIAN | {"1.2.840.10008.1.2.2", DEFLATED}

# ---- What one file may declare. A header is checked against these before anything is allocated,
# inflated or decoded: a fuzzed or hostile Rows x Columns x NumberOfFrames can ask for terabytes.
# Rows and Columns: the largest real single images (digital mammograms about 4096x5900, film
# digitised at 50 um about 7000x8600, whole-slide tiles) stay well below this; the format allows 65535.
MAX_ROWS = 16384
MAX_COLUMNS = 16384
# Frames in one file: long XA/US cine and enhanced CT/MR files hold a few thousand.
MAX_FRAMES = 10000
# Slices in one Siemens mosaic (NumberOfImagesInMosaic): one volume of an fMRI, DTI or perfusion
# run, at most a few hundred slices; each becomes a slice record at the scan, so a forged count must
# not make millions of them.
MAX_MOSAIC_IMAGES = 1024
# PS3.3 C.7.6.3.1.1: 1 (grey, palette) or 3 (RGB, YBR); 4 (ARGB, CMYK) is retired.
SAMPLES_PER_PIXEL = (1, 3)
# PS3.5 8.1.1: Bits Allocated is 1 or a multiple of 8; pydicom decodes these.
BITS_ALLOCATED = (1, 8, 16, 32, 64)
# Uncompressed pixels of one file: what a native Pixel Data value can hold at most (its length is a
# 32-bit field, PS3.5 7.1), so no file that could be stored uncompressed declares more.
MAX_PIXEL_BYTES = 4 * 1024**3
# A deflated file is inflated whole by pydicom before its header can be read: its pixels plus room
# for the rest of the data set (overlays, private data), never more.
MAX_INFLATED_BYTES = MAX_PIXEL_BYTES + 256 * 1024**2
# How many bytes of decoded pixels one byte of a compressed file may become. Where the coding has a
# hard ceiling, that ceiling: RLE's PackBits makes at most 128 bytes from 2 (64:1); Huffman-coded JPEG
# spends at least 2 bits per 8x8 block and component (at most 512:1 for 16-bit samples, 1024:1 leaves
# room for colour subsampling). JPEG-LS run mode and JPEG 2000 empty code-blocks have no ceiling; they
# get MAX_EXPANSION, far above real images (lossless 2-4:1, diagnostic lossy JPEG 2000 10-30:1).
MAX_EXPANSION_BY_SYNTAX = {
    "1.2.840.10008.1.2.5": 64,  # RLE Lossless
    "1.2.840.10008.1.2.4.50": 1024,  # JPEG Baseline
    "1.2.840.10008.1.2.4.51": 1024,  # JPEG Extended
    "1.2.840.10008.1.2.4.57": 1024,  # JPEG Lossless
    "1.2.840.10008.1.2.4.70": 1024,  # JPEG Lossless SV1
}
MAX_EXPANSION = 10_000


def size_text(count: int) -> str:
    """A byte count for a person: '4.0 GiB', '12.5 MiB', '412 bytes'."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} bytes"


def decoded_pixel_bytes(image: ImageHeader) -> int:
    """Memory the decoded pixels of the whole file take (pydicom gives 1-bit pixels a byte each)."""
    bytes_per_sample = max(1, image.bits_allocated // 8)
    return image.stored_rows * image.stored_columns * image.samples_per_pixel * image.number_of_frames * bytes_per_sample


def stored_pixel_bytes(image: ImageHeader) -> int:
    """Bytes the file's uncompressed Pixel Data must hold: 1-bit pixels are packed across frames, and
    YBR_FULL_422 stores two samples per pixel, not three (PS3.3 C.7.6.3.1.2)."""
    bits = image.stored_rows * image.stored_columns * image.samples_per_pixel * image.number_of_frames * image.bits_allocated
    total = (bits + 7) // 8
    return total // 3 * 2 if image.photometric_interpretation == "YBR_FULL_422" else total


def limit_problem(image: ImageHeader) -> str | None:
    """Why the pixels the file declares are beyond any real study (the limits above), else None.
    From the header alone: call it before allocating, inflating or decoding anything."""
    if image.stored_rows > MAX_ROWS or image.stored_columns > MAX_COLUMNS:
        return f"declares {image.stored_rows}x{image.stored_columns} pixels, over the {MAX_ROWS}x{MAX_COLUMNS} limit"
    if image.number_of_frames > MAX_FRAMES:
        return f"declares {image.number_of_frames} frames, over the limit of {MAX_FRAMES} frames in one file"
    if image.samples_per_pixel not in SAMPLES_PER_PIXEL:
        return f"declares {image.samples_per_pixel} samples per pixel; an image has 1 (grey) or 3 (colour)"
    if image.bits_allocated not in BITS_ALLOCATED:
        return f"unsupported Bits Allocated {image.bits_allocated} (1, 8, 16, 32 or 64)"
    total = decoded_pixel_bytes(image)
    if total > MAX_PIXEL_BYTES:
        return (f"declares {image.stored_rows}x{image.stored_columns}x{image.number_of_frames} frames of pixels "
                f"({size_text(total)}), over the {size_text(MAX_PIXEL_BYTES)} limit for one file")
    return None


def mosaic_problem(image: ImageHeader, count: int) -> str | None:
    """Why a frame of `image` cannot hold `count` mosaic slices (radview.dicom.mosaic), else None:
    the tiles form a ceil(sqrt(count)) square grid that must divide Rows and Columns."""
    if not 1 <= count <= MAX_MOSAIC_IMAGES:
        return f"declares {count} images in its mosaic; 1 to {MAX_MOSAIC_IMAGES} are supported"
    grid = math.isqrt(count - 1) + 1  # ceil(sqrt(count)) in integers
    if image.stored_rows % grid or image.stored_columns % grid:
        return (f"a mosaic of {count} images needs a {grid}x{grid} grid of tiles, which does not divide its "
                f"{image.stored_rows}x{image.stored_columns} pixels")
    if image.number_of_frames != 1 or image.samples_per_pixel != 1:
        return "a mosaic must be one frame of grey pixels"
    return None


def expansion_problem(image: ImageHeader, file_bytes: int) -> str | None:
    """Why a compressed file of `file_bytes` cannot hold the pixels it declares, else None."""
    if image.transfer_syntax_uid in NATIVE_SYNTAXES or file_bytes <= 0:
        return None
    limit = MAX_EXPANSION_BY_SYNTAX.get(image.transfer_syntax_uid, MAX_EXPANSION)
    total = stored_pixel_bytes(image)
    if total <= limit * file_bytes:
        return None
    syntax = UID(image.transfer_syntax_uid)
    name = syntax.name if syntax.is_valid else image.transfer_syntax_uid or "unknown transfer syntax"
    return (f"declares {size_text(total)} of pixels in a file of {size_text(file_bytes)} ({total // file_bytes}:1); "
            f"{name} decodes to at most {limit}:1 (corrupt or a decompression bomb)")


def held_pixel_problem(ds: Dataset, image: ImageHeader) -> str | None:
    """Why an uncompressed file holds fewer pixel bytes than it declares (truncated or corrupt), else None."""
    if image.transfer_syntax_uid not in NATIVE_SYNTAXES:
        return None
    raw = ds._dict.get(0x7FE00010)  # the raw element: its length, and where a deferred value starts
    held = getattr(raw, "length", None)
    if held is None or held == 0xFFFFFFFF:
        return None  # no length to compare (encapsulated data in a native syntax): the decoder says why
    value, tell = getattr(raw, "value", None), getattr(raw, "value_tell", None)
    if value is not None:
        held = min(held, len(value))
    elif tell is not None and image.transfer_syntax_uid != DEFLATED:  # deflated offsets are not file offsets
        held = min(held, max(0, os.path.getsize(image.path) - tell))
    needed = stored_pixel_bytes(image)
    if held >= needed:
        return None
    return f"declares {size_text(needed)} of pixel data but the file holds {size_text(held)} (truncated or corrupt)"


def inflated_size_problem(path: str) -> str | None:
    """Why a deflated file must not be read: it inflates beyond MAX_INFLATED_BYTES, counted while it
    streams (pydicom inflates the whole data set in one call, with no bound); else None."""
    try:
        with open(path, "rb") as f:
            if _plainly_not_deflated(f.read(16384)):
                return None
            f.seek(0)
            if _syntax_and_start(f) == DEFLATED and not _inflates_within_limit(f):
                return (f"deflated data inflate to more than {size_text(MAX_INFLATED_BYTES)}, the limit "
                        "for one file (corrupt or a decompression bomb)")
    except (OSError, zlib.error):
        pass  # unreadable or a corrupt stream: dcmread reports it
    return None


# Explicit VRs with a 4-byte length (PS3.5 7.1.2); the others have 2 bytes.
LONG_LENGTH_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def _plainly_not_deflated(head: bytes) -> bool:
    """True when the file meta (group 0002, explicit VR little endian, PS3.10 7.1) ends inside `head`
    and does not name the deflated syntax: most files, decided without pydicom's slower parse of the
    meta. Anything unusual answers False, and the exact parse decides."""
    if DEFLATED.encode() in head:
        return False
    offset = 132 if head[128:132] == b"DICM" else 0
    while offset + 8 <= len(head):
        if int.from_bytes(head[offset : offset + 2], "little") != 2:
            return True  # past the meta, which did not name the deflated syntax
        vr = head[offset + 4 : offset + 6]
        if vr in LONG_LENGTH_VRS:
            offset += 12 + int.from_bytes(head[offset + 8 : offset + 12], "little")
        elif vr.isalpha() and vr.isupper():
            offset += 8 + int.from_bytes(head[offset + 6 : offset + 8], "little")
        else:
            return False
    return False  # the meta runs past the head


def _syntax_and_start(f: BinaryIO) -> str | None:
    """The file meta's transfer syntax, read as dcmread reads it (the same functions, so both agree),
    leaving `f` where dcmread starts on the data set; None when that cannot be read."""
    try:
        pydicom.filereader.read_preamble(f, True)
        syntax = pydicom.filereader._read_file_meta_info(f).get("TransferSyntaxUID")
        pydicom.filereader._read_command_set_elements(f)
    except Exception:  # noqa: BLE001 — malformed meta raises many types; dcmread reports them
        return None
    return None if syntax is None else str(syntax)


def _inflates_within_limit(f: BinaryIO) -> bool:
    """Inflate the rest of `f` a chunk at a time, keeping nothing; False past MAX_INFLATED_BYTES."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated = 0
    while not inflater.eof and (chunk := f.read(1 << 16)):
        while chunk:
            inflated += len(inflater.decompress(chunk, 1 << 22))
            if inflated > MAX_INFLATED_BYTES:
                return False
            chunk = inflater.unconsumed_tail
    return True
