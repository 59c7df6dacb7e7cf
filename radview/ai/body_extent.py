"""How large the imaged body is, in mm: the input check's physical sense of what it is looking at.

A network's features are read from normalised images (an MR is z-scored), so they cannot tell a
head from a chest by its size: the brain model's feature check passes a chest CT. The body's
extent in mm can. Per slice, the body is what is brighter than a quarter of the way from the
image's darkest to its brightest values (the 0.5th and 99.5th percentiles: air and noise below,
soft tissue above, on CT, MR and radiographs alike). A row or column belongs to it when it
crosses at least 10 mm of body (a noise speck does not); the body's height is the longest run
of such rows without a gap, its width that of such columns (a thin line or a table apart from the
body is a run of its own), and its extent the larger of the two. The image's extent is the
median over the checked slices, so a few slices through the neck or the vertex do not decide it.
"""

from __future__ import annotations

import numpy as np

from radview.core.percentiles import percentiles

FOREGROUND_FRACTION = 0.25  # of the way from the darkest to the brightest value
MIN_CROSSING_MM = 10.0  # a row or column counts when it crosses this much of the body
TOLERANCE = 1.25  # the limits: the training images' smallest / 1.25 to their largest x 1.25


def body_extent_mm(slices: np.ndarray, pixel_spacing_mm: tuple[float, float], low: float | None = None,
                   high: float | None = None, inverted: bool = False) -> float:
    """Median over `slices` (N, rows, cols) of the body's larger in-plane extent in mm.

    low, high: the image's darkest and brightest values (its 0.5th and 99.5th percentiles), taken
    here when not given. inverted: MONOCHROME1, where the body is darker than the air."""
    if low is None or high is None:
        low, high = (float(v) for v in percentiles(slices, [0.5, 99.5]))
    cut = low + FOREGROUND_FRACTION * (high - low)
    body = slices < high - FOREGROUND_FRACTION * (high - low) if inverted else slices > cut
    row_mm, col_mm = float(pixel_spacing_mm[0]), float(pixel_spacing_mm[1])
    rows = body.sum(axis=2) * col_mm >= MIN_CROSSING_MM  # (N, rows): the row crosses 10 mm of body
    cols = body.sum(axis=1) * row_mm >= MIN_CROSSING_MM  # (N, cols)
    return float(np.median([max(_longest_run(r) * row_mm, _longest_run(c) * col_mm) for r, c in zip(rows, cols)]))


def _longest_run(present: np.ndarray) -> int:
    """The longest run of consecutive True (0 when none)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], present.astype(np.int8), [0]))))
    return int((edges[1::2] - edges[::2]).max()) if edges.size else 0


def extent_limits(extents_mm: list[float]) -> tuple[float, float]:
    """(low, high) limits from the training images' extents: their range widened by TOLERANCE each
    way (adult heads differ by about a tenth in length, chests by more; a limit fitted to a few
    dozen phantoms must not refuse a patient for being larger than the phantoms)."""
    if not extents_mm:
        raise ValueError("the body-extent limits need at least one training image")
    return min(extents_mm) / TOLERANCE, max(extents_mm) * TOLERANCE
