"""Bounding boxes of masks and of their connected components.

`ndimage.find_objects` on a mask visits every voxel with its labelling logic: about 0.2 s for a
200x512x512 CT mask. An `any` along the other axes, one axis at a time and each on the part
already cut down, gives the same box in about 0.01 s.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import ndimage


def bounding_box(mask: np.ndarray) -> tuple[slice, ...] | None:
    """The smallest box holding every True voxel of `mask` (what find_objects gives for it), or
    None when there is none."""
    inner = np.asarray(mask, dtype=bool)
    box: list[slice] = []
    for axis in range(inner.ndim):
        along = np.flatnonzero(inner.any(axis=tuple(a for a in range(inner.ndim) if a != axis)))
        if along.size == 0:
            return None
        cut = slice(int(along[0]), int(along[-1]) + 1)
        box.append(cut)
        inner = inner[(slice(None),) * axis + (cut,)]
    return tuple(box)


def components(mask: np.ndarray) -> Iterator[tuple[tuple[slice, ...], np.ndarray]]:
    """(bounding box, component mask within it) for every connected component, in
    ndimage.label's order (raster order of each component's first voxel)."""
    offset = bounding_box(mask)
    if offset is None:
        return
    # labelled inside the mask's own box: the same components in the same order, on less of the volume
    labelled, _count = ndimage.label(mask[offset])
    for n, box in enumerate(ndimage.find_objects(labelled), start=1):
        if box is not None:
            yield tuple(slice(o.start + b.start, o.start + b.stop) for o, b in zip(offset, box)), labelled[box] == n
