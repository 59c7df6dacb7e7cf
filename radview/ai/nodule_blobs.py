"""Nodule candidates from the CT image's shape: a multiscale Hessian blob ("dot") filter in the lung.

The 2.5D segmentation network misses small nodules that touch a vessel or the pleura: it labels
them lung, or labels them nodule together with the vessel so thinly that the cut of its components
(radview.ai.nodule_split) removes them. Even at 8 false positives per scan only about 0.8 of the
hard-case phantoms' nodules had any candidate from the network's labels. In 3D a vessel is a tube
and a nodule a blob whatever their orientation, which is what the Hessian tells apart (Li, Sone and
Doi, Med Phys 2003; used for candidate generation in the LUNA16 systems, Setio et al. 2017):

1. The HU image inside the lungs' bounding box, averaged to a grid of about GRID_MM, is smoothed
   by Gaussians of SCALES_MM (each scale from the last, so each filter is narrow; the larger ones
   on a grid twice as coarse).
2. At each dense voxel (above MIN_HU) in or next to the network's lung, the Hessian's eigenvalues
   |l1| >= |l2| >= |l3|: a bright blob has all three negative, a tube only two, a plate one. The
   dot response l3^2/|l1|, scaled by sigma^2 so scales compare, is in HU: near the blob's contrast
   with the lung for a sphere of radius about sqrt(3) sigma, near zero for a vessel.
3. Each local maximum of the best response over scales above MIN_RESPONSE_HU, at a scale under the
   ceiling, where the smoothed image is nearly flat (a blob's centre, not the rim of a large
   nodule), and outside the radius of every stronger one (at most MAX_BLOBS per scan, strongest
   first) is a candidate: the voxels within its blob's radius that are denser than halfway between
   its centre and the lung around it. radview.ai.nodule_candidates drops one whose centre lies in a
   thicker candidate found whole (a part of a larger nodule).

Every candidate, from whichever source, also gets the highest dot response inside it, with that
point's scale and roundness, as features: the false-positive reduction (radview.ai.nodule_fp)
knows how blob-like and how large it is.

The same filter also runs on the image with the chest wall and mediastinum set to the lung's own
value (lung_filled, the "pleural" filter): a small nodule on the pleura, which the network often
reads as lung (ground glass) and which on the CT image is a bump on a steep wall, is a blob there.
Its peaks outside every plain peak's blob are candidates too, and its response is a feature of
every candidate (radview.ai.nodule_candidates).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from radview.ai.mask_box import bounding_box

GRID_MM = 1.25  # the filter's grid: voxels of 0.9-1.4 mm (0.5 mm pixels averaged 2 by 2, 0.7 mm ones too)
# Gaussian sigmas: blobs of radius about sqrt(3) sigma, 1.7 to 5.5 mm. The last is a ceiling: a
# maximum there is a larger nodule (or its rim), which the network and the envelope find whole
SCALES_MM = (1.0, 1.5, 2.2, 3.2, 4.5)
MIN_HU = -750.0  # ground glass (about -700 to -500 HU) and denser: the lung itself is about -850
MIN_RESPONSE_HU = 30.0  # on the phantoms: solid nodules of 4 mm and more respond 60-150 HU, faint ground glass 35-70
MAX_BLOBS = 120  # per scan, strongest first (noisy thick-slice scans have the most)
# the centre of a blob is where the smoothed image is flat; on the rim of a large nodule or along the
# chest wall it slopes steeply. Slope (gradient times sigma) over response, on the phantoms: small
# nodules on a vessel or the pleura up to 3.3, rims of nodules over 15 mm 3.6-10, other maxima median 3.1
MAX_SLOPE_RATIO = 3.5
LUNG_REACH_VOXELS = 2  # also next to the lung: a nodule on the pleura is partly labelled wall
COARSE_FROM_MM = 3.2  # scales from this sigma up run on a grid twice as coarse, on axes of at most
COARSE_GRID_UP_TO_MM = 1.3  # this spacing (sigma is then still over 1.2 coarse voxels)

# the Hessian's six distinct entries (axis pairs), in this order
_PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))


@dataclass
class BlobMap:
    """The best dot response (HU) over scales, and where it is best its scale (mm), the image's
    slope and the blob's roundness, on the filter's grid; where that grid lies in the volume (box:
    the lungs' bounding box; factors: full-resolution voxels per grid voxel)."""

    response_hu: np.ndarray
    scale_mm: np.ndarray
    slope_hu: np.ndarray  # the smoothed image's gradient times sigma there: near 0 at a blob's centre
    roundness: np.ndarray  # l3 / l1 there: 1 for a sphere, toward 0 for a flattened or elongated blob
    box: tuple[slice, ...]
    factors: tuple[int, int, int]
    grid_spacing_mm: np.ndarray

    def volume_voxel(self, grid_voxel: np.ndarray) -> np.ndarray:
        """A grid voxel (float) in the volume's voxel indices (float)."""
        return np.asarray(grid_voxel, float) * self.factors + (np.asarray(self.factors) - 1) / 2 + [b.start for b in self.box]

    def strongest_within(self, box: tuple[slice, ...], mask: np.ndarray) -> tuple[float, float, float]:
        """(response HU, scale mm, roundness) where the response is highest on the grid voxels that
        a candidate's mask (within box) covers; zeros where it has none."""
        points = np.argwhere(mask) + [b.start for b in box]
        grid = np.floor((points - [b.start for b in self.box]) / self.factors).astype(int)
        inside = np.all((grid >= 0) & (grid < self.response_hu.shape), axis=1)
        if not inside.any():
            return 0.0, 0.0, 0.0
        cells = tuple(np.unique(grid[inside], axis=0).T)
        best = int(np.argmax(self.response_hu[cells]))
        return tuple(float(image[cells][best]) for image in (self.response_hu, self.scale_mm, self.roundness))


def _block_mean(image: np.ndarray, factors: tuple[int, int, int]) -> np.ndarray:
    shape = [n // f * f for n, f in zip(image.shape, factors, strict=True)]
    cropped = image[: shape[0], : shape[1], : shape[2]].astype(np.float32)
    return cropped.reshape(shape[0] // factors[0], factors[0], shape[1] // factors[1], factors[1],
                           shape[2] // factors[2], factors[2]).mean(axis=(1, 3, 5))


def _hessian_at(smoothed: np.ndarray, points: tuple[np.ndarray, ...], spacing: np.ndarray,
                pairs: tuple[tuple[int, int], ...] = _PAIRS) -> np.ndarray:
    """(points, pairs) second derivatives (HU/mm^2) at interior points, by central differences."""
    k, r, c = points
    centre = smoothed[k, r, c]

    def at(dk: int, dr: int, dc: int) -> np.ndarray:
        return smoothed[k + dk, r + dr, c + dc]

    steps = np.eye(3, dtype=int)
    out = np.empty((len(k), len(pairs)), np.float32)
    for n, (i, j) in enumerate(pairs):
        a, b = steps[i], steps[j]
        if i == j:
            out[:, n] = (at(*a) - 2 * centre + at(*-a)) / spacing[i] ** 2
        else:
            out[:, n] = (at(*(a + b)) - at(*(a - b)) - at(*(b - a)) + at(*-(a + b))) / (4 * spacing[i] * spacing[j])
    return out


def _gradient_at(smoothed: np.ndarray, points: tuple[np.ndarray, ...], spacing: np.ndarray) -> np.ndarray:
    """(points, 3) first derivatives (HU/mm) at interior points, by central differences."""
    out = np.empty((len(points[0]), 3), np.float32)
    for axis in range(3):
        ahead, behind = list(points), list(points)
        ahead[axis], behind[axis] = points[axis] + 1, points[axis] - 1
        out[:, axis] = (smoothed[tuple(ahead)] - smoothed[tuple(behind)]) / (2 * spacing[axis])
    return out


def symmetric_eigenvalues(hessian: np.ndarray) -> np.ndarray:
    """(points, 3) eigenvalues, ascending, of symmetric 3x3 matrices given as (xx, yy, zz, xy, xz,
    yz): the closed form (Smith, Comm ACM 1961), a tenth of numpy's eigvalsh time on many points."""
    a, b, c, d, e, f = (hessian[:, i].astype(np.float64) for i in range(6))
    mean = (a + b + c) / 3
    spread = np.sqrt(np.maximum((a - mean) ** 2 + (b - mean) ** 2 + (c - mean) ** 2 + 2 * (d * d + e * e + f * f), 1e-30) / 6)
    a, b, c, d, e, f = (a - mean) / spread, (b - mean) / spread, (c - mean) / spread, d / spread, e / spread, f / spread
    half_det = (a * (b * c - f * f) - d * (d * c - f * e) + e * (d * f - b * e)) / 2
    angle = np.arccos(np.clip(half_det, -1.0, 1.0)) / 3
    largest = mean + 2 * spread * np.cos(angle)
    smallest = mean + 2 * spread * np.cos(angle + 2 * np.pi / 3)
    return np.stack([smallest, 3 * mean - largest - smallest, largest], axis=1)


def dot_response_hu(eigenvalues: np.ndarray) -> np.ndarray:
    """l3^2/|l1| where all three are negative (a bright blob), else 0; |l1| >= |l2| >= |l3|."""
    blob = eigenvalues[:, 2] < 0  # ascending: the largest is negative, so all are
    strongest = np.maximum(np.abs(eigenvalues[:, 0]), 1e-6)
    return np.where(blob, eigenvalues[:, 2] ** 2 / strongest, 0.0).astype(np.float32)


def _scale_responses(smoothed: np.ndarray, points: tuple[np.ndarray, ...], spacing: np.ndarray, sigma_mm: float
                     ) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray, np.ndarray]:
    """(points kept, dot response HU, slope HU, roundness) at one scale, at the points where a
    response of at least half MIN_RESPONSE_HU is possible: a negative definite Hessian's largest
    eigenvalue is at least its largest diagonal entry, so the response (at most |l3|) is at most
    the smallest |diagonal|; the rest of the Hessian is computed only where that bound allows."""
    diagonal = _hessian_at(smoothed, points, spacing, _PAIRS[:3]) * sigma_mm**2
    possible = diagonal.max(axis=1) <= -MIN_RESPONSE_HU / 2
    points = tuple(p[possible] for p in points)
    hessian = np.concatenate([diagonal[possible], _hessian_at(smoothed, points, spacing, _PAIRS[3:]) * sigma_mm**2], axis=1)
    eigenvalues = symmetric_eigenvalues(hessian)
    slope = np.linalg.norm(_gradient_at(smoothed, points, spacing), axis=1) * sigma_mm
    return points, dot_response_hu(eigenvalues), slope, (eigenvalues[:, 2] / eigenvalues[:, 0]).astype(np.float32)


def _interior(mask: np.ndarray) -> tuple[np.ndarray, ...]:
    """The indices of a mask's voxels off the border (central differences need both neighbours)."""
    mask[[0, -1], :, :] = mask[:, [0, -1], :] = mask[:, :, [0, -1]] = False
    return np.nonzero(mask)


def lung_filled(hu: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """float32 HU with every voxel the network called neither lung nor nodule set to the lung's
    median: the chest wall and the mediastinum drop out, so a nodule on the pleura is a blob of its
    own instead of a bump on a wall (whose steep slope and plate-like Hessian the filter rejects)."""
    image = hu.astype(np.float32)
    lung = image[labels == 1]
    median = float(np.median(lung[:: max(1, lung.size // 200_000)])) if lung.size else -850.0
    image[labels == 0] = median
    return image


def blob_map(hu: np.ndarray, labels: np.ndarray, spacing_mm: tuple[float, float, float],
             lung_box: tuple[slice, ...] | None = None, fill_outside_lung: bool = False) -> BlobMap | None:
    """The dot filter over the lungs' bounding box (labels: 1 lung, 2 nodule; lung_box: that box when
    the caller has it); None without lung. fill_outside_lung: filter the lung_filled image (the
    pleural filter), else the CT image itself."""
    spacing = np.asarray(spacing_mm, float)
    if lung_box is None:
        lung_box = bounding_box(labels > 0)
        if lung_box is None:
            return None
    box = lung_box
    factors = tuple(max(1, int(round(GRID_MM / s))) for s in spacing)
    image = _block_mean(lung_filled(hu[box], labels[box]) if fill_outside_lung else hu[box], factors)
    grid_spacing = spacing * factors
    lung = (labels[box] > 0)[tuple(slice(f // 2, n * f, f) for f, n in zip(factors, image.shape, strict=True))]
    search = ndimage.binary_dilation(lung, iterations=LUNG_REACH_VOXELS) & (image > MIN_HU)
    points = _interior(search.copy())
    maps = [np.zeros(image.shape, np.float32) for _ in range(4)]  # response, scale, slope, roundness
    # the larger scales on a grid twice as coarse (a Gaussian of sigma >= COARSE_FROM_MM is sampled
    # finely enough there), decimated from the fine one: coarse voxel i is fine voxel 2i
    halving = tuple(2 if s <= COARSE_GRID_UP_TO_MM else 1 for s in grid_spacing)
    coarse_points = None
    smoothed, done_mm, step_grid, step_spacing = image, 0.0, (1, 1, 1), grid_spacing
    for sigma_mm in SCALES_MM:
        if sigma_mm >= COARSE_FROM_MM and coarse_points is None:
            smoothed = smoothed[tuple(slice(None, None, h) for h in halving)]
            step_grid, step_spacing = halving, grid_spacing * halving
            coarse = np.zeros(smoothed.shape, bool)
            coarse[tuple(np.minimum(p // h, n - 1) for p, h, n in zip(np.nonzero(search), halving, smoothed.shape))] = True
            coarse_points = _interior(coarse)
        # each scale from the last: Gaussians compose, sigma^2 adds
        step_mm = np.sqrt(sigma_mm**2 - done_mm**2)
        smoothed, done_mm = ndimage.gaussian_filter(smoothed, step_mm / step_spacing, truncate=3.0), sigma_mm
        where, value, slope, roundness = _scale_responses(
            smoothed, points if coarse_points is None else coarse_points, step_spacing, sigma_mm)
        if coarse_points is not None:  # to the fine grid: at the first voxel of each coarse voxel's block
            where = tuple(w * h for w, h in zip(where, step_grid))
        better = value > maps[0][where]
        where = tuple(w[better] for w in where)
        for image_map, values in zip(maps, (value[better], sigma_mm, slope[better], roundness[better])):
            image_map[where] = values
    return BlobMap(*maps, box, factors, grid_spacing)


def _peaks(blobs: BlobMap) -> list[tuple[np.ndarray, float, float]]:
    """(grid voxel, response HU, scale mm) of each local maximum above MIN_RESPONSE_HU, strongest first."""
    response = blobs.response_hu
    points = np.argwhere(response > MIN_RESPONSE_HU)
    points = points[np.all((points > 0) & (points < np.array(response.shape) - 1), axis=1)]
    values = response[tuple(points.T)]
    centred = (blobs.slope_hu[tuple(points.T)] <= MAX_SLOPE_RATIO * values) \
        & (blobs.scale_mm[tuple(points.T)] < SCALES_MM[-1])
    points, values = points[centred], values[centred]
    # a 3x3x3 local maximum, tested at these points only (a maximum filter of the whole box costs more)
    for offset in np.argwhere(np.ones((3, 3, 3))) - 1:
        if offset.any():
            keep = values >= response[tuple((points + offset).T)]
            points, values = points[keep], values[keep]
    kept: list[tuple[np.ndarray, float, float]] = []
    for i in np.argsort(-values):
        point, sigma_mm = points[i], float(blobs.scale_mm[tuple(points[i])])
        # one blob, one peak: a weaker maximum inside a stronger blob's radius is the same blob
        if all(np.linalg.norm((point - other) * blobs.grid_spacing_mm) > np.sqrt(3) * max(sigma_mm, other_sigma_mm)
               for other, _value, other_sigma_mm in kept):
            kept.append((point, float(values[i]), sigma_mm))
            if len(kept) == MAX_BLOBS:
                break
    return kept


def blob_regions(hu: np.ndarray, labels: np.ndarray, spacing_mm: tuple[float, float, float], blobs: BlobMap
                 ) -> Iterator[tuple[tuple[slice, ...], np.ndarray, float]]:
    """(bounding box, mask within it, radius mm) of each blob: the voxels within its radius
    (sqrt(3) sigma, at least 1.5 mm) of its centre that are denser than halfway between the centre
    and the lung around it (within the radius only, so a vessel it touches does not pull its centre
    away)."""
    spacing = np.asarray(spacing_mm, float)
    for grid_point, _response, sigma_mm in _peaks(blobs):
        centre = np.round(blobs.volume_voxel(grid_point)).astype(int)
        radius_mm = max(np.sqrt(3) * sigma_mm, 1.5)
        reach = np.ceil(2 * radius_mm / spacing).astype(int)
        box = tuple(slice(max(0, c - r), min(n, c + r + 1)) for c, r, n in zip(centre, reach, hu.shape, strict=True))
        local = np.ogrid[tuple(slice(b.start - c, b.stop - c) for b, c in zip(box, centre, strict=True))]
        distance_mm = np.sqrt(sum((g * s) ** 2 for g, s in zip(local, spacing, strict=True)))
        patch = hu[box].astype(np.float32)
        shell = (distance_mm > radius_mm) & (labels[box] == 1)
        lung_hu = float(np.median(patch[shell])) if shell.any() else -850.0
        centre_hu = float(np.mean(patch[distance_mm <= radius_mm / 2]))
        dense = (distance_mm <= radius_mm) & (patch > (centre_hu + lung_hu) / 2)
        parts, _count = ndimage.label(dense)
        core = parts[distance_mm <= radius_mm / 2]
        if not core.any() or not core.max():
            continue
        mask = parts == np.bincount(core[core > 0]).argmax()
        tight = bounding_box(mask)
        yield tuple(slice(b.start + t.start, b.start + t.stop) for b, t in zip(box, tight, strict=True)), mask[tight], radius_mm
