"""Seeded mutation fuzzing over real files: every case is a loaded image or a listed, readable
error; no exception escapes, no case runs past its time limit, memory stays bounded. And the
builders of a small corpus of broken files (tests/test_commands_on_bad_input.py runs the commands
on it): truncated, random bytes, declaring more than they hold, declaration and decompression bombs,
a series of 1x1 images, a text file named .dcm."""

import resource
import signal
import struct
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from radview.core.study_index import ImageHeader, Series
from radview.dicom.load import LoadError, load_stack
from radview.dicom.pixels import PixelError, decode_file
from radview.dicom.scan import scan_path
from radview.dicom.stacks import Stack, split_series
from tests.conftest import real_file


# ---- builders of broken files ---------------------------------------------------------------
def ct_image(rows: int = 16, columns: int = 16, frames: int = 1, pixels: bytes | None = None, z: float = 0.0,
             series: str | None = None, study: str | None = None, syntax: str = ExplicitVRLittleEndian) -> Dataset:
    """A minimal chest CT image (signed 16 bit, HU by intercept); `pixels` may hold less than declared."""
    meta = FileMetaDataset()
    meta.TransferSyntaxUID = syntax
    meta.MediaStorageSOPClassUID = CTImageStorage
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = study or generate_uid()
    ds.SeriesInstanceUID = series or generate_uid()
    ds.PatientID, ds.PatientName, ds.Modality, ds.BodyPartExamined = "BAD1", "Broken^Files", "CT", "CHEST"
    ds.Rows, ds.Columns = rows, columns
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, z], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 1.0
    ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
    ds.PixelData = pixels if pixels is not None else bytes(2 * rows * columns * frames)
    return ds


def save(ds: Dataset, path: Path) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def write_truncated(path: Path) -> Path:
    """A good image cut off inside its pixel data."""
    data = save(ct_image(), path).read_bytes()
    path.write_bytes(data[: len(data) - 100])
    return path


def write_truncated_header(path: Path) -> Path:
    """A good image cut off inside its header."""
    data = save(ct_image(), path).read_bytes()
    path.write_bytes(data[:200])
    return path


def write_random_bytes(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def write_overdeclared(path: Path) -> Path:
    """A header declaring 64x64 pixels (8 KiB) over Pixel Data of 8 bytes."""
    return save(ct_image(64, 64, pixels=bytes(8)), path)


def write_declaration_bomb(path: Path) -> Path:
    """65535 x 65535 x 1000 frames of 16 bits declared (8 TB) in a file of 1 KB."""
    return save(ct_image(65535, 65535, frames=1000, pixels=bytes(64)), path)


def write_not_dicom(path: Path) -> Path:
    path.write_text("Patient list, exported by hand\nnot a DICOM file\n")
    return path


def write_one_pixel_series(folder: Path, slices: int = 60) -> Path:
    """One CT series of `slices` images of 1x1 pixel, 1 mm apart."""
    folder.mkdir(parents=True, exist_ok=True)
    series, study = generate_uid(), generate_uid()
    for k in range(slices):
        save(ct_image(1, 1, z=float(k), series=series, study=study), folder / f"IM{k:04d}.dcm")
    return folder


BAD_FILES = {
    "truncated.dcm": write_truncated, "truncated-header.dcm": write_truncated_header,
    "random.dcm": write_random_bytes, "overdeclared.dcm": write_overdeclared,
    "declaration-bomb.dcm": write_declaration_bomb, "not-dicom.dcm": write_not_dicom,
}


def write_bad_corpus(folder: Path) -> dict[str, Path]:
    """Every broken file of BAD_FILES in `folder`, by name."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: build(folder / name) for name, build in BAD_FILES.items()}


def with_codestream_size(name: str, rows: int, columns: int, path: Path) -> Path:
    """A real JPEG 2000 / JPEG-LS / JPEG file whose codestream is rewritten to declare rows x columns
    (the DICOM header keeps its own size): a decoder would allocate by the codestream's."""
    ds = pydicom.dcmread(real_file(name))
    frame = bytearray(next(generate_frames(ds.PixelData, number_of_frames=1)))
    if frame[:2] == b"\xff\x4f":  # J2K SIZ: Xsiz Ysiz XOsiz YOsiz XTsiz YTsiz from byte 8
        struct.pack_into(">IIIIII", frame, 8, columns, rows, 0, 0, columns, rows)
    else:  # JPEG / JPEG-LS: the SOF segment's Y and X
        offset = 2
        while frame[offset + 1] not in (0xC0, 0xC1, 0xC3, 0xF7):
            offset += 2 + struct.unpack(">H", frame[offset + 2 : offset + 4])[0]
        struct.pack_into(">HH", frame, offset + 5, rows, columns)
    ds.PixelData = encapsulate([bytes(frame)])
    return save(ds, path)


# ---- the limits, from the header, before anything is allocated -----------------------------
def _skipped_reason(path: Path) -> str:
    index = scan_path(path, parallel=False)
    assert not index.all_series(), f"{path.name} was accepted"
    assert [s.path for s in index.skipped] == [str(path)]
    return index.skipped[0].reason


@pytest.mark.parametrize("rows, columns, frames, samples, bits, limit", [
    (65535, 65535, 1000, 1, 16, "16384x16384"),
    (16385, 512, 1, 1, 16, "16384x16384"),
    (64, 64, 10001, 1, 16, "10000 frames"),
    (64, 64, 1, 4, 8, "1 (grey) or 3 (colour)"),
    (64, 64, 1, 1, 12, "1, 8, 16, 32 or 64"),
    (16384, 16384, 9, 1, 16, "4.0 GiB limit"),
])
def test_a_header_beyond_a_real_study_is_skipped_naming_the_limit(tmp_path, rows, columns, frames, samples, bits, limit):
    ds = ct_image(rows, columns, frames, pixels=bytes(64))
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit = samples, bits, bits, bits - 1
    path = save(ds, tmp_path / "declared.dcm")
    started = time.monotonic()
    assert limit in _skipped_reason(path)
    assert time.monotonic() - started < 2


def test_a_file_holding_less_pixel_data_than_it_declares_is_skipped(tmp_path):
    reason = _skipped_reason(write_overdeclared(tmp_path / "over.dcm"))
    assert "declares 8.0 KiB of pixel data but the file holds 8 bytes" in reason
    assert "holds 412 bytes" in _skipped_reason(write_truncated(tmp_path / "cut.dcm"))


def test_a_compressed_file_declaring_far_more_than_its_codec_can_make_of_it_is_skipped(tmp_path):
    ds = pydicom.dcmread(real_file("MR_small_RLE.dcm"))  # 64x64 in 6 KB
    ds.Rows = ds.Columns = 4096  # 32 MiB from 6 KB: more than RLE's 64:1
    assert "RLE Lossless decodes to at most 64:1" in _skipped_reason(save(ds, tmp_path / "rle.dcm"))
    ds = pydicom.dcmread(real_file("MR_small_jp2klossless.dcm"))
    ds.Rows = ds.Columns = 16384  # 512 MiB from a few KB
    assert "decodes to at most 10000:1" in _skipped_reason(save(ds, tmp_path / "j2k.dcm"))


def test_a_deflated_file_is_not_inflated_past_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr("radview.dicom.limits.MAX_INFLATED_BYTES", 1024**2)
    path = save(ct_image(1024, 1024, syntax=pydicom.uid.DeflatedExplicitVRLittleEndian), tmp_path / "dfl.dcm")
    assert path.stat().st_size < 64 * 1024  # 2 MiB of zeros deflate to a few KB
    assert "inflate to more than 1.0 MiB" in _skipped_reason(path)


@pytest.mark.parametrize("name", ["MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm", "SC_rgb_jpeg_dcmtk.dcm"])
def test_a_codestream_declaring_a_larger_image_than_the_header_is_not_decoded(tmp_path, name):
    path = with_codestream_size(name, 30000, 30000, tmp_path / name)
    stack = split_series(scan_path(path, parallel=False).all_series()[0])[0]
    started = time.monotonic()
    with pytest.raises(PixelError, match="codestream declares 30000x30000"):
        decode_file(stack.images[0])  # here, not in a worker: the decoders take 2-4 GB and 5-15 s on this
    assert time.monotonic() - started < 1
    with pytest.raises(LoadError, match=f"{name}: frame 1's codestream declares 30000x30000"):
        load_stack(stack)


def _stack(images: list[ImageHeader]) -> Stack:
    return Stack(Series("1.2.3", "1.2", "CT"), images)


def test_the_loader_refuses_a_declaration_bomb_it_is_handed_directly(tmp_path):
    path = str(tmp_path / "never-read.dcm")
    image = ImageHeader(path, "1.2.3.4", rows=20000, columns=20000, transfer_syntax_uid=ExplicitVRLittleEndian)
    with pytest.raises(LoadError, match="never-read.dcm: declares 20000x20000 pixels, over the 16384x16384 limit"):
        load_stack(_stack([image]))


def test_the_loader_refuses_a_volume_beyond_the_limit_before_allocating(tmp_path):
    images = [ImageHeader(str(tmp_path / f"IM{k}"), f"1.2.3.{k}", rows=16384, columns=16384, instance_number=k,
                          transfer_syntax_uid=ExplicitVRLittleEndian) for k in range(100)]  # 100 x 512 MiB
    with pytest.raises(LoadError, match="IM0: 100 images of 16384x16384 need 50.0 GiB, over the 16 GiB limit"):
        load_stack(_stack(images))

SOURCES = [
    "CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "JPEG2000.dcm",
    "SC_rgb_jpeg_dcmtk.dcm", "emri_small.dcm", "eCT_Supplemental.dcm", "image_dfl.dcm", "MR_small_bigendian.dcm",
]
CASES = 2000
SECONDS_PER_FILE = 5
VRS = [b"OB", b"OW", b"SQ", b"UN", b"US", b"UL", b"DS", b"IS", b"CS", b"UI", b"AT", b"FD"]


def _mutate(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    kind = rng.integers(5)
    if kind == 0:  # truncation
        return bytes(buf[: int(rng.integers(0, len(buf)))])
    if kind == 1:  # flipped bytes
        for pos in rng.integers(0, len(buf), int(rng.integers(1, 20))):
            buf[pos] ^= int(rng.integers(1, 256))
        return bytes(buf)
    if kind == 2:  # a wrong length: overwrite 4 bytes after a tag-like position with a big number
        pos = int(rng.integers(128, max(129, min(len(buf) - 4, 4000))))
        buf[pos : pos + 4] = int(rng.choice([0xFFFFFFFF, 0x7FFFFFFF, 0xFFFFFFF0, int(rng.integers(0, 1 << 31))])).to_bytes(4, "little")
        return bytes(buf)
    if kind == 3:  # a wrong VR where an explicit VR sits
        candidates = [i for i in range(132, min(len(buf) - 2, 6000)) if buf[i : i + 2].isalpha() and buf[i : i + 2].isupper()]
        if candidates:
            pos = candidates[int(rng.integers(len(candidates)))]
            buf[pos : pos + 2] = VRS[int(rng.integers(len(VRS)))]
        return bytes(buf)
    # a block of the header replaced by random bytes
    pos = int(rng.integers(0, max(1, min(len(buf), 3000))))
    buf[pos : pos + 64] = rng.integers(0, 256, min(64, len(buf) - pos), dtype=np.uint8).tobytes()
    return bytes(buf)


class _TimeLimit(Exception):
    pass


def _alarm(signum, frame):
    raise _TimeLimit()


@pytest.mark.slow
def test_mutated_real_files_load_or_fail_cleanly(tmp_path):
    sources = [real_file(name).read_bytes() for name in SOURCES]
    rng = np.random.default_rng(20261122)
    outcomes = {"loaded": 0, "skipped": 0, "load error": 0}
    previous = signal.signal(signal.SIGALRM, _alarm)
    path = tmp_path / "case.dcm"
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        for case in range(CASES):
            source = int(rng.integers(len(sources)))
            path.write_bytes(_mutate(sources[source], rng))
            signal.alarm(SECONDS_PER_FILE)
            try:
                index = scan_path(path, parallel=False)
                if index.skipped:
                    assert len(index.skipped) == 1 and index.skipped[0].reason
                    assert not index.all_series()
                    outcomes["skipped"] += 1
                for series in index.all_series():
                    for stack in split_series(series):
                        try:
                            volume = load_stack(stack)
                            assert volume.voxels.shape[0] >= 1
                            outcomes["loaded"] += 1
                        except LoadError as exc:
                            assert str(exc), f"case {case}: empty message"
                            outcomes["load error"] += 1
            except _TimeLimit:
                pytest.fail(f"case {case} (from {SOURCES[source]}) ran past {SECONDS_PER_FILE} s")
            except Exception as exc:  # anything else escaping is the bug this test hunts
                pytest.fail(f"case {case} (from {SOURCES[source]}): {type(exc).__name__}: {exc}")
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_start) / 1024
    assert growth_mb < 1024, f"peak memory grew by {growth_mb:.0f} MB"
    assert sum(outcomes.values()) >= CASES * 0.9
    assert outcomes["loaded"] > 100 and outcomes["skipped"] > 100, outcomes
