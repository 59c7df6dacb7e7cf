"""Atomic file writes: a crash or power cut leaves the old file or the new one, never half.

The work is radview.core.safe_files.write_private_atomic: a uniquely named temp file (0600) beside
the target, fsynced, renamed over it; a symbolic link at the target is refused, never followed.
"""

from __future__ import annotations

from pathlib import Path

from radview.core.safe_files import write_private_atomic


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temp file beside `path`, fsync it, then rename it over `path` (0600;
    missing folders are created 0700)."""
    write_private_atomic(Path(path), data)


def write_text_atomic(path: Path, text: str) -> None:
    """write_bytes_atomic for UTF-8 text."""
    write_private_atomic(Path(path), text.encode("utf-8"))
