"""A bounded reader of the Siemens CSA header, the private (0029,xx10) element of Siemens MR images.

The format (as nibabel's nibabel/nicom/csareader.py documents it, after SPM): "SV10", four unused
bytes, then uint32 tag count and uint32 check value (77); per tag a 64-byte NUL-terminated name,
int32 VM, 4-byte VR, int32 SyngoDT, int32 item count and int32 check (77 or 205); per item four
int32 (the second is the item's length in bytes) and the value as NUL-terminated text, padded to
4 bytes. Only this CSA2 layout is read (dcm2niix reads no other either); the older CSA1 layout is
reported as unreadable.

Every count the header declares is checked against the bytes really there before it is used, so
a forged count costs nothing: the parse is linear in the element's length, which is itself bounded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

CSA2_MAGIC = b"SV10"
# Real image headers are 5-15 KiB, series headers (the protocol) up to a few hundred KiB.
MAX_CSA_BYTES = 1024 * 1024
# Real headers hold about 100 tags of at most a few hundred items (MosaicRefAcqTimes: one per slice).
MAX_CSA_TAGS = 1000
MAX_CSA_ITEMS = 1000
TAG_LAYOUT = struct.Struct("<64si4s3i")
ITEM_LAYOUT = struct.Struct("<4i")


class CsaError(ValueError):
    """A CSA header that cannot be read; names the file it came from and the problem."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: Siemens CSA header: {problem}")
        self.source = source
        self.problem = problem


@dataclass(frozen=True)
class CsaHeader:
    """The tags of one CSA header: name -> (VR, the item values as text, empty items left out)."""

    tags: dict[str, tuple[str, tuple[str, ...]]]

    def values(self, name: str) -> tuple[str, ...]:
        """The item values of tag `name` (empty when absent)."""
        return self.tags.get(name, ("", ()))[1]

    def number(self, name: str) -> float | None:
        """The first value of `name` as a number, else None."""
        numbers = self.numbers(name, None)
        return numbers[0] if numbers else None

    def numbers(self, name: str, count: int | None) -> tuple[float, ...] | None:
        """The values of `name` as numbers, None unless there are `count` of them (any when None)."""
        try:
            numbers = tuple(float(v) for v in self.values(name))
        except ValueError:
            return None
        if not numbers or (count is not None and len(numbers) != count):
            return None
        return numbers


def _text(raw: bytes) -> str:
    """Item bytes up to the first NUL, as text (Latin-1 never fails, as nibabel reads them)."""
    end = raw.find(b"\x00")
    return (raw if end < 0 else raw[:end]).decode("latin-1").strip()


def parse_csa(blob: bytes, source: str) -> CsaHeader:
    """Parse a CSA2 header; raise CsaError naming `source` (the file) when it is not one."""
    if len(blob) > MAX_CSA_BYTES:
        raise CsaError(source, f"{len(blob)} bytes, over the {MAX_CSA_BYTES} byte limit")
    if blob[:4] != CSA2_MAGIC:
        raise CsaError(source, "not the SV10 (CSA2) layout")
    offset = 8
    end = len(blob)

    def take(size: int, what: str) -> bytes:
        nonlocal offset
        if offset + size > end:
            raise CsaError(source, f"ends inside {what} (at byte {offset} of {end}): truncated or corrupt")
        chunk = blob[offset : offset + size]
        offset += size
        return chunk

    count, _check = struct.unpack("<2I", take(8, "the tag count"))
    if not 0 < count <= MAX_CSA_TAGS:
        raise CsaError(source, f"declares {count} tags; 1 to {MAX_CSA_TAGS} are expected")
    tags: dict[str, tuple[str, tuple[str, ...]]] = {}
    for number in range(count):
        raw_name, vm, raw_vr, _syngodt, items, _check = TAG_LAYOUT.unpack(take(TAG_LAYOUT.size, f"tag {number}"))
        name = _text(raw_name)
        if not 0 <= items <= MAX_CSA_ITEMS:
            raise CsaError(source, f"tag {name or number} declares {items} items; at most {MAX_CSA_ITEMS} are expected")
        # VM gives how many items hold values; when it is 0, every item may.
        wanted = vm if 0 < vm <= items else items
        values: list[str] = []
        for item in range(items):
            length = ITEM_LAYOUT.unpack(take(ITEM_LAYOUT.size, f"item {item} of tag {name}"))[1]
            if length < 0:
                raise CsaError(source, f"item {item} of tag {name} declares a negative length")
            raw = take(length, f"item {item} of tag {name}")
            offset = min(end, offset + (-length % 4))  # items are padded to 4 bytes
            value = _text(raw)
            if item < wanted and value:
                values.append(value)
        tags[name] = (_text(raw_vr), tuple(values))
    return CsaHeader(tags)
