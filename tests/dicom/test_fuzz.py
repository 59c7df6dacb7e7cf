"""Seeded mutation fuzzing over real files: every case is a loaded image or a listed, readable
error; no exception escapes, no case runs past its time limit, memory stays bounded."""

import resource
import signal

import numpy as np
import pytest

from radview.dicom.load import LoadError, load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series
from tests.conftest import real_file

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
