"""Nodule candidates from the network's nodule voxels, not one connected component per nodule.

A nodule that touches a vessel, or a large nodule with vessels and spicules running into it, is one
connected component with them. Its longest diameter then spans the vessel, the shape test (sphere
fill) takes the whole for a vessel and drops the nodule: how a 26 mm nodule was missed. So each
component is cut before any test:

1. Thin parts go: an opening with a ball of `opening_mm` radius (two Euclidean distance
   transforms in mm, so anisotropic voxels are handled) removes vessels and spicules thinner than
   that ball and keeps every part thicker than it.
2. What remains is split at its necks: blob centres are maxima of the distance to the background
   that lie outside the ball of every larger centre. Two centres belong to one blob when the
   straight path between them stays thick (at least NECK_SHARE of the larger radius): so the
   centres along a thick vessel join into one tube, a lobulated nodule stays one, and a nodule
   joined to a vessel by a narrower neck is cut from it. Each voxel goes to the centre nearest in
   units of that centre's radius.
3. A component with no part thicker than the ball (a small nodule, a thin vessel) stays whole, as
   before; the caller's size and shape tests judge every piece.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from scipy import ndimage

MAX_CENTRES = 64  # per component: a cap on the centre search (a network's blob has a few)
NECK_SHARE = 0.75  # a path thinner than this share of the larger blob's radius separates two blobs
PATH_STEP_MM = 0.5


def _ball_footprint(radius_mm: float, spacing_mm: np.ndarray) -> np.ndarray:
    reach = np.maximum(np.ceil(radius_mm / spacing_mm).astype(int), 1)
    grid = np.ogrid[tuple(slice(-r, r + 1) for r in reach)]
    return sum((g * s) ** 2 for g, s in zip(grid, spacing_mm)) <= radius_mm**2


def _centres(distance: np.ndarray, core: np.ndarray, spacing_mm: np.ndarray, opening_mm: float) -> list[np.ndarray]:
    """Blob centres (voxel index, float): local maxima of `distance` inside `core`, largest first,
    each kept only if no larger centre's ball (its distance value) contains it."""
    peaks = (distance == ndimage.maximum_filter(distance, footprint=_ball_footprint(opening_mm, spacing_mm))) & core
    plateaus, count = ndimage.label(peaks)
    if count == 0:
        return []
    index = range(1, count + 1)
    points = np.array(ndimage.center_of_mass(peaks, plateaus, index))
    heights = np.array(ndimage.maximum(distance, plateaus, index))
    kept: list[tuple[np.ndarray, float]] = []
    for n in np.argsort(-heights)[: MAX_CENTRES * 4]:
        point = points[n]
        if all(np.linalg.norm((point - p) * spacing_mm) > r for p, r in kept):
            kept.append((point, heights[n]))
        if len(kept) == MAX_CENTRES:
            break
    return [p for p, _ in kept]


def _blobs(centres: list[np.ndarray], radii: list[float], distance: np.ndarray, spacing: np.ndarray) -> list[int]:
    """A blob number per centre: centres joined by a thick straight path share one (union-find)."""
    parent = list(range(len(centres)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    limit = np.array(distance.shape) - 1
    for i in range(len(centres)):
        for j in range(i + 1, len(centres)):
            length = float(np.linalg.norm((centres[j] - centres[i]) * spacing))
            if length > radii[i] + radii[j] + PATH_STEP_MM * 4:
                continue  # balls apart: not one blob unless a third centre links them
            steps = np.linspace(0.0, 1.0, max(2, int(length / PATH_STEP_MM) + 1))[:, None]
            path = np.clip(np.round(centres[i] + steps * (centres[j] - centres[i])).astype(int), 0, limit)
            if distance[tuple(path.T)].min() >= NECK_SHARE * max(radii[i], radii[j]):
                parent[root(j)] = root(i)
    return [root(i) for i in range(len(centres))]


def split_component(component: np.ndarray, spacing_mm: tuple[float, float, float], opening_mm: float) -> list[np.ndarray]:
    """Boolean masks (the component's shape) of the pieces of one connected component."""
    spacing = np.asarray(spacing_mm, float)
    padded = np.pad(component, 1)
    distance = ndimage.distance_transform_edt(padded, sampling=spacing)
    core = distance > opening_mm
    if opening_mm <= 0 or not core.any():
        return [component]
    opened = (ndimage.distance_transform_edt(~core, sampling=spacing) <= opening_mm) & padded
    centres = _centres(distance, core, spacing, opening_mm)
    radii = [float(distance[tuple(np.round(c).astype(int))]) for c in centres]
    blobs = _blobs(centres, radii, distance, spacing)
    inner = (slice(1, -1),) * component.ndim
    if len(set(blobs)) <= 1:
        return [opened[inner]]
    voxels = np.argwhere(opened)
    # nearest centre in units of its radius: a big nodule's ball claims its voxels before a vessel's
    scaled = np.stack([np.linalg.norm((voxels - c) * spacing, axis=1) / max(r, 1e-6) for c, r in zip(centres, radii)])
    owner = np.asarray(blobs)[np.argmin(scaled, axis=0)]
    pieces = []
    for blob in sorted(set(blobs)):
        piece = np.zeros_like(opened)
        piece[tuple(voxels[owner == blob].T)] = True
        pieces.append(piece[inner])
    return [piece for piece in pieces if piece.any()]


def nodule_pieces(nodule_mask: np.ndarray, spacing_mm: tuple[float, float, float],
                  opening_mm: float) -> Iterator[tuple[tuple[slice, ...], np.ndarray]]:
    """(bounding box, piece mask within it) for every candidate of a (slices, rows, cols) mask."""
    components, _count = ndimage.label(nodule_mask)
    for n, box in enumerate(ndimage.find_objects(components), start=1):
        if box is None:
            continue
        for piece in split_component(components[box] == n, spacing_mm, opening_mm):
            rows = [np.flatnonzero(piece.any(axis=tuple(a for a in range(piece.ndim) if a != axis)))
                    for axis in range(piece.ndim)]
            tight = tuple(slice(r[0], r[-1] + 1) for r in rows)
            yield tuple(slice(b.start + t.start, b.start + t.stop) for b, t in zip(box, tight)), piece[tight]
