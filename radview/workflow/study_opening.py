"""Opening a study, the same way in every driver: scan, choose the stack to read, load it
progressively.

The stack choice is one named policy (READING_STACK_POLICY): the window opens the study at that
stack, and `radview analyze` reads each series' stack by it. The window and the other drivers reach
the DICOM services through this module only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from radview.core.progress import CancelToken, ProgressCallback
from radview.core.study_index import Series, StudyIndex
from radview.core.volume import Volume
from radview.dicom.stacks import Stack, split_series

__all__ = ["READING_STACK_POLICY", "Stack", "iter_load", "load_stack", "reading_stack", "scan", "series_stacks",
           "stack_thumbnail"]

READING_STACK_POLICY = "largest stack first: the volume with the most images (ties: the order found)"


def scan(path: str | Path | list[str], progress: ProgressCallback | None = None,
         cancel: CancelToken | None = None) -> StudyIndex:
    """Scan a folder, a file, a DICOMDIR or a list of files into patients, studies and series.
    Headers of files seen before and unchanged come from the user's header cache."""
    from radview.dicom.header_cache import HeaderCache
    from radview.dicom.scan import scan_path
    from radview.user_dirs import header_cache_path

    cache = HeaderCache(header_cache_path())
    try:
        return scan_path(path, progress=progress, cancel=cancel, cache=cache)
    finally:
        cache.close()


def start_scan_workers() -> None:
    """Start the header-scan worker processes ahead of the first large folder (returns at once)."""
    from radview.dicom.workers import start_workers

    start_workers()


def stop_scan_workers() -> None:
    """Stop the header-scan worker processes (at quit)."""
    from radview.dicom.workers import shutdown_worker_pool

    shutdown_worker_pool()


def series_stacks(series: Series) -> list[Stack]:
    """The stacks (volumes) of one series, in READING_STACK_POLICY order."""
    return split_series(series)


def reading_stack(stacks: list[Stack]) -> Stack | None:
    """The stack a reader starts with (READING_STACK_POLICY); None when there is none."""
    return max(stacks, key=lambda s: len(s.images)) if stacks else None


def iter_load(stack: Stack, cancel: CancelToken | None = None) -> Iterator[Volume]:
    """The stack's volume as it fills in: the first slice at once, then the rest."""
    from radview.dicom.load import iter_load as load

    return load(stack, cancel)


def load_stack(stack: Stack, cancel: CancelToken | None = None) -> Volume:
    """The whole stack's volume."""
    from radview.dicom.load import load_stack as load

    return load(stack, cancel=cancel)


def stack_thumbnail(stack: Stack, size: int = 64) -> np.ndarray:
    """A small greyscale picture of the stack's middle image for the browser."""
    from radview.dicom.thumbnail import stack_thumbnail as thumbnail

    return thumbnail(stack, size)
