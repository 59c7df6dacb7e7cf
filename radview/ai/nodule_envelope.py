"""Nodule candidates the segmentation network left out of the lung: dense tissue inside the lung's envelope.

A large solid nodule is as dense as the chest wall and the heart, and the 2.5D network labels much
of it as neither lung nor nodule (background): a 27 mm nodule on a vessel and a 16 mm one on the
pleura had 14-19 % of their voxels labelled nodule, so no candidate from the nodule voxels covered
them. Large solid nodules are the ones a reader must never miss, so a second candidate source looks
for them without the network's nodule label, as the large-solid-nodule detector of Setio et al.
(Med Phys 2015) does:

1. The lung's envelope: the network's lung (lung and nodule voxels) closed by a ball of
   ENVELOPE_CLOSING_MM and its holes filled, on a coarse grid (a nodule-sized closing needs no
   finer one). A nodule inside the lung is a hole in the lung mask; one on the pleura is a dent in
   its outline that the ball cannot enter.
2. Inside the envelope, the voxels the network did not call lung that are solid (denser than
   -300 HU; radview.ai.nodule_candidates passes its SOLID_HU), opened by a ball of OPENING_MM:
   vessels and slivers of chest wall thinner than that go.
3. Each remaining connected part between MIN_VOLUME_MM3 and MAX_VOLUME_MM3, and no longer than
   MAX_EXTENT_MM, is a candidate. The false-positive reduction (radview.ai.nodule_fp) scores it
   like any other, knowing its source (the "from_envelope" feature): it tells a nodule from a
   corner of chest wall or mediastinum.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import ndimage

from radview.ai.mask_box import bounding_box

ENVELOPE_CLOSING_MM = 20.0  # a ball of this radius cannot enter the dent of a juxtapleural nodule up to ~40 mm
COARSE_MM = 2.8  # grid of the envelope: a tenth of the closing is fine enough for an outline
OPENING_MM = 2.0  # as the cut of the network's components (card's vessel_opening_mm)
MIN_VOLUME_MM3 = 65.0  # a 5 mm sphere: smaller dense specks are the network's business
MAX_VOLUME_MM3 = 65_000.0  # a 50 mm sphere: more is a piece of mediastinum or chest wall, not a nodule
MAX_EXTENT_MM = 60.0  # longer than this along an axis is mediastinum or wall too (masses are <= ~40 mm)


def _coarse(mask: np.ndarray, factors: list[int]) -> np.ndarray:
    """The mask on a grid `factors` times coarser per axis, sampled at each coarse voxel's centre
    (an outline needs no more, and a block average of the whole scan costs a second)."""
    shape = [-(-n // f) for n, f in zip(mask.shape, factors, strict=True)]
    points = np.ix_(*[np.minimum(np.arange(s) * f + f // 2, n - 1) for s, f, n in zip(shape, factors, mask.shape, strict=True)])
    return mask[points]


def coarse_envelope(lung: np.ndarray, spacing_mm: np.ndarray, closing_mm: float = ENVELOPE_CLOSING_MM
                    ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(envelope, lung) on a coarse grid, and its factor per axis: the lung mask closed by a ball of
    closing_mm (two Euclidean distance transforms in mm), each axial slice's holes filled, then one
    coarse voxel taken off its outline (a coarse voxel at the edge is up to half chest wall, which
    would leave a sliver of wall along every lung)."""
    factors = [max(1, int(round(COARSE_MM / s))) for s in spacing_mm]
    coarse = _coarse(lung, factors)
    coarse_mm = np.asarray(spacing_mm, float) * factors
    margin = int(np.ceil(closing_mm / coarse_mm.min())) + 1  # room for the dilation at the edges
    padded = np.pad(coarse, margin)
    dilated = ndimage.distance_transform_edt(~padded, sampling=coarse_mm) <= closing_mm
    closed = ndimage.distance_transform_edt(dilated, sampling=coarse_mm) > closing_mm
    closed = closed[(slice(margin, -margin),) * 3] | coarse
    closed = np.stack([ndimage.binary_fill_holes(plane) for plane in closed])
    return ndimage.binary_erosion(closed, border_value=1), coarse, factors


def _opened(mask: np.ndarray, spacing_mm: np.ndarray, radius_mm: float) -> np.ndarray:
    """Opening by a ball of radius_mm: what lies within radius_mm of a voxel deeper than radius_mm."""
    depth = ndimage.distance_transform_edt(np.pad(mask, 1), sampling=spacing_mm)[(slice(1, -1),) * 3]
    core = depth > radius_mm
    if not core.any():
        return core
    return mask & (ndimage.distance_transform_edt(~core, sampling=spacing_mm) <= radius_mm)


def _full(coarse: np.ndarray, factors: list[int], box: tuple[slice, ...]) -> np.ndarray:
    """The full-resolution box of a coarse mask (each coarse voxel repeated)."""
    covering = tuple(slice(b.start // f, -(-b.stop // f)) for b, f in zip(box, factors, strict=True))
    full = coarse[covering]
    for axis, factor in enumerate(factors):
        full = full.repeat(factor, axis=axis)
    offset = tuple(slice(b.start - c.start * f, b.stop - c.start * f) for b, c, f in zip(box, covering, factors, strict=True))
    return full[offset]


def envelope_regions(hu: np.ndarray, labels: np.ndarray, spacing_mm: tuple[float, float, float], dense_hu: float,
                     lung_box: tuple[slice, ...] | None = None) -> Iterator[tuple[tuple[slice, ...], np.ndarray]]:
    """(bounding box, mask within it) of each part denser than dense_hu inside the lung's envelope
    that the network did not label lung or nodule (labels: 1 lung, 2 nodule; lung_box: the
    bounding box of both when the caller has it)."""
    spacing = np.asarray(spacing_mm, float)
    if lung_box is None:
        lung_box = bounding_box(labels > 0)
        if lung_box is None:
            return
    # a closing never reaches past the bounding box of what it closes: work inside the lungs' box
    lung, hu = labels[lung_box] > 0, hu[lung_box]
    envelope, coarse_lung, factors = coarse_envelope(lung, spacing)
    # only where the envelope adds to the lung is there anything to find: full resolution there only
    added, _count = ndimage.label(ndimage.binary_dilation(envelope & ~coarse_lung))
    voxel_mm3 = float(np.prod(spacing))
    for index, coarse_box in enumerate(ndimage.find_objects(added), start=1):
        box = tuple(slice(c.start * f, min(n, c.stop * f)) for c, f, n in zip(coarse_box, factors, hu.shape, strict=True))
        # this region's voxels only, so a part in two regions' boxes is found once
        dense = (_full(added, factors, box) == index) & _full(envelope, factors, box) & ~lung[box] & (hu[box] > dense_hu)
        parts, _ = ndimage.label(dense)
        sizes = np.bincount(parts.ravel()) * voxel_mm3
        for n, part_box in enumerate(ndimage.find_objects(parts), start=1):
            if part_box is None or not MIN_VOLUME_MM3 <= sizes[n] <= MAX_VOLUME_MM3 \
                    or max((b.stop - b.start) * s for b, s in zip(part_box, spacing, strict=True)) > MAX_EXTENT_MM:
                continue
            pieces, _ = ndimage.label(_opened(parts[part_box] == n, spacing, OPENING_MM))
            for m, piece_box in enumerate(ndimage.find_objects(pieces), start=1):
                piece = pieces[piece_box] == m
                if piece.sum() * voxel_mm3 >= MIN_VOLUME_MM3:
                    yield (tuple(slice(w.start + o.start + p.start + q.start, w.start + o.start + p.start + q.stop)
                                 for w, o, p, q in zip(lung_box, box, part_box, piece_box, strict=True)), piece)
