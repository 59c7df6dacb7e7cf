"""Cut a component of nodule voxels into blobs: a nodule is not one connected component per nodule.

A nodule that touches a vessel, or a large nodule with vessels and spicules running into it, is one
connected component with them. Its longest diameter then spans the vessel and the shape test
(sphere fill) takes the whole for a vessel: how a 26 mm nodule was missed. So a component that
fails the shape test is cut (radview.ai.nodule_candidates):

1. Thin parts go: an opening with a ball of `opening_mm` radius (two Euclidean distance
   transforms in mm, so anisotropic voxels are handled) removes vessels and spicules thinner than
   that ball and keeps every part thicker than it.
2. What remains is split at its necks: blob centres are maxima of the distance to the background
   that lie outside the ball of every larger centre. Two centres belong to one blob when the
   straight path between them stays thick (at least NECK_SHARE of the larger radius): so the
   centres along a thick vessel join into one tube, a lobulated nodule stays one, and a nodule
   joined to a vessel by a narrower neck is cut from it. Each voxel goes to the centre nearest in
   units of that centre's radius.
3. Each piece keeps its radius and the widest neck joining it to the rest: a nodule on a vessel is
   much thicker than its necks, a stretch of vessel is not. The false-positive reduction reads that
   ratio (radview.ai.nodule_fp).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass
class Piece:
    """One part of a component: its mask, the radius of its blob (mm; 0 when it was not cut) and the
    widest neck (mm) joining it to the rest: a nodule is much thicker than what it touches."""

    mask: np.ndarray
    radius_mm: float = 0.0
    neck_mm: float = 0.0

    @property
    def neck_ratio(self) -> float:
        """Its radius over its widest neck (0 when nothing joins it): a nodule on a vessel is well
        over 2, a stretch of vessel or a bifurcation up to about 1.5."""
        return self.radius_mm / self.neck_mm if self.neck_mm > 0 else 0.0


def _path_min(distance: np.ndarray, a: np.ndarray, b: np.ndarray, spacing: np.ndarray) -> float:
    """The smallest distance-to-background along the straight path from voxel a to voxel b (mm)."""
    length = float(np.linalg.norm((b - a) * spacing))
    steps = np.linspace(0.0, 1.0, max(2, int(length / PATH_STEP_MM) + 1))[:, None]
    path = np.clip(np.round(a + steps * (b - a)).astype(int), 0, np.array(distance.shape) - 1)
    return float(distance[tuple(path.T)].min())


def _blobs(centres: list[np.ndarray], radii: list[float], distance: np.ndarray,
           spacing: np.ndarray) -> tuple[list[int], dict[tuple[int, int], float]]:
    """A blob number per centre (centres joined by a thick straight path share one: union-find),
    and the neck (the thinnest point of the path) between every pair of neighbouring centres."""
    parent = list(range(len(centres)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    necks = {}
    for i in range(len(centres)):
        for j in range(i + 1, len(centres)):
            length = float(np.linalg.norm((centres[j] - centres[i]) * spacing))
            if length > radii[i] + radii[j] + PATH_STEP_MM * 4:
                continue  # balls apart: not one blob unless a third centre links them
            necks[(i, j)] = _path_min(distance, centres[i], centres[j], spacing)
            if necks[(i, j)] >= NECK_SHARE * max(radii[i], radii[j]):
                parent[root(j)] = root(i)
    return [root(i) for i in range(len(centres))], necks


def split_component(component: np.ndarray, spacing_mm: tuple[float, float, float], opening_mm: float) -> list[Piece]:
    """The pieces of one connected component (masks of the component's shape)."""
    spacing = np.asarray(spacing_mm, float)
    padded = np.pad(component, 1)
    distance = ndimage.distance_transform_edt(padded, sampling=spacing)
    core = distance > opening_mm
    if opening_mm <= 0 or not core.any():
        return [Piece(component)]
    opened = (ndimage.distance_transform_edt(~core, sampling=spacing) <= opening_mm) & padded
    trimmed = bool((padded & ~opened).any())  # thin parts (vessels, spicules) were cut off here
    centres = _centres(distance, core, spacing, opening_mm)
    radii = [float(distance[tuple(np.round(c).astype(int))]) for c in centres]
    blobs, necks = _blobs(centres, radii, distance, spacing)
    inner = (slice(1, -1),) * component.ndim
    voxels = np.argwhere(opened)
    # nearest centre in units of its radius: a big nodule's ball claims its voxels before a vessel's
    scaled = np.stack([np.linalg.norm((voxels - c) * spacing, axis=1) / max(r, 1e-6) for c, r in zip(centres, radii)])
    owner = np.asarray(blobs)[np.argmin(scaled, axis=0)]
    pieces = []
    for blob in sorted(set(blobs)):
        members = [i for i, b in enumerate(blobs) if b == blob]
        outside = [neck for (i, j), neck in necks.items() if (blobs[i] == blob) != (blobs[j] == blob)]
        neck = max([*outside, opening_mm if trimmed else 0.0])
        piece = np.zeros_like(opened)
        piece[tuple(voxels[owner == blob].T)] = True
        if piece[inner].any():
            pieces.append(Piece(piece[inner], max(radii[i] for i in members), neck))
    return pieces
