"""Nodule candidates from the ct-nodule network's nodule voxels, and the measurements that describe each.

Candidate generation favours recall: every connected component of nodule voxels that passes the
shape test whole is one candidate; one that fails it (a nodule joined to vessels, the chest wall or
its own spicules: one component, whose longest diameter spans them) is cut into blobs
(radview.ai.nodule_split) and every blob thick enough to be a nodule is a candidate. A second
source does not read the nodule label at all: solid tissue inside the lung's envelope that the
network called neither lung nor nodule (radview.ai.nodule_envelope), where large solid nodules
hide. A third reads the CT image's shape alone: blobs of a Hessian dot filter in the lung
(radview.ai.nodule_blobs), where small nodules on a vessel or the pleura hide; a fourth, the
same filter on the image with the chest wall set to the lung's value, where ground-glass nodules
on the pleura hide. No candidate is dropped for its shape here: the false-positive reduction
(radview.ai.nodule_fp) scores each from the features below, as the candidate-generation plus
false-positive-reduction systems of LUNA16 do (Setio et al. 2017).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from radview.ai.mask_box import bounding_box, components
from radview.ai.nodule_blobs import BlobMap, blob_map, blob_regions
from radview.ai.nodule_envelope import envelope_regions
from radview.ai.nodule_split import split_component
from radview.ai.postprocess import longest_diameter_mm
from radview.core.volume import Volume

SOLID_HU = -300.0  # ground glass sits near -500 HU, solid tissue near 40 HU (docs/domain.md)
MIN_BLOB_RADIUS_MM = 1.5  # a cut blob thinner than this (3 mm across) is a vessel or a spicule
MAX_CANDIDATES = 400  # per scan: a cap against a network that labels a whole lung

# What the false-positive reduction reads, in this order (its weights depend on it).
FEATURES = (
    "log_volume_mm3",  # size
    "thickness_mm",  # the largest distance from inside to the edge: a blob's radius, a vessel's
    "sphere_fill",  # volume over that of the sphere of its longest diameter: ~0.5-1 blob, <0.3 tube
    "mean_probability",  # the network's nodule probability, mean and highest over the candidate
    "max_probability",
    "mean_hu",
    "sd_hu",
    "solid_share",  # share above -300 HU: solid, part-solid or ground glass
    "elongation",  # square roots of the ratios of its principal extents (mm): long, then flat
    "flatness",
    "log_slices",  # how many slices it spans, and how thick they are
    "slice_spacing_mm",
    "outside_lung_share",  # the share of its rim that is not lung (chest wall, mediastinum)
    "neck_ratio",  # a cut blob: its radius over the widest neck to the rest; 0 when not cut
    "cut",  # 1 for a blob cut from a larger component
    "from_envelope",  # 1 for dense tissue the network left out of the lung (radview.ai.nodule_envelope)
    "blob_response_hu",  # the highest Hessian dot response inside it (radview.ai.nodule_blobs), in 100 HU,
    "blob_scale_mm",  # and the scale and roundness (l3 / l1: 1 for a sphere) where it is highest
    "blob_roundness",
    "from_blob_filter",  # 1 for a blob the dot filter found in the CT image
    "pleural_blob_response_hu",  # the same three from the pleural filter (the chest wall set to lung)
    "pleural_blob_scale_mm",
    "pleural_blob_roundness",
    "from_pleural_blob_filter",  # 1 for a blob only the pleural filter found
)


@dataclass
class Candidate:
    """One possible nodule: its bounding box in the volume, its mask inside the box, its features."""

    box: tuple[slice, ...]
    mask: np.ndarray
    features: np.ndarray  # float32, FEATURES order

    @property
    def volume_voxels(self) -> int:
        return int(self.mask.sum())

    @property
    def centre_voxel(self) -> np.ndarray:
        """Its centre of mass in the volume's voxel indices (float)."""
        return np.argwhere(self.mask).mean(axis=0) + [b.start for b in self.box]

    def contains(self, voxel: np.ndarray) -> bool:
        """Whether a voxel (volume indices, float: rounded) lies in its mask."""
        local = np.round(voxel).astype(int) - [b.start for b in self.box]
        return all(0 <= i < n for i, n in zip(local, self.mask.shape)) and bool(self.mask[tuple(local)])


def on_nodule(centre_mm: np.ndarray, nodule: dict) -> bool:
    """LUNA16's hit rule for a candidate: its centre within the reference nodule's radius (at least
    1.5 mm, so the smallest nodules can be hit at all)."""
    reach = max(nodule["diameter_mm"] / 2, 1.5)
    return bool(np.linalg.norm(np.asarray(centre_mm) - np.array(nodule["centre_mm"])) <= reach)


def sphere_fill(component: np.ndarray, volume: Volume) -> float:
    """Volume of a component over that of the sphere spanning its longest 3D diameter: about 0.5-1
    for a nodule, well under 0.3 for a vessel segment (long and thin)."""
    count = int(component.sum())
    if count < 2:
        return 1.0
    longest = max(longest_diameter_mm(component, volume), min(volume.spacing_mm))
    return float(count * np.prod(volume.spacing_mm) / (np.pi / 6 * longest**3))


def _principal_ratios(mask: np.ndarray, spacing: np.ndarray) -> tuple[float, float]:
    """(elongation, flatness): sqrt(largest / middle) and sqrt(middle / smallest) principal
    variance of the voxels in mm, each voxel counted with its own extent (so one voxel is round)."""
    points = np.argwhere(mask) * spacing
    covariance = np.cov(points.T) if len(points) > 1 else np.zeros((3, 3))
    eigen = np.sort(np.linalg.eigvalsh(covariance + np.diag(spacing**2 / 12)))[::-1]
    return float(np.sqrt(eigen[0] / eigen[1])), float(np.sqrt(eigen[1] / eigen[2]))


def _outside_lung_share(labels: np.ndarray, box: tuple[slice, ...], mask: np.ndarray) -> float:
    """Share of the voxels just outside the candidate (one-voxel rim) that are neither lung nor nodule."""
    grown = tuple(slice(max(s.start - 1, 0), min(s.stop + 1, n)) for s, n in zip(box, labels.shape))
    inner = np.zeros([g.stop - g.start for g in grown], bool)
    inner[tuple(slice(s.start - g.start, s.stop - g.start) for s, g in zip(box, grown))] = mask
    rim = ndimage.binary_dilation(inner) & ~inner
    return float((labels[grown][rim] == 0).mean()) if rim.any() else 0.0


def candidate_features(volume: Volume, labels: np.ndarray, probability: np.ndarray, blobs: BlobMap | None,
                       box: tuple[slice, ...], mask: np.ndarray, thickness_mm: float, neck_ratio: float,
                       source: str, pleural: BlobMap | None = None) -> np.ndarray:
    """The FEATURES of one candidate (mask within box) from its source ("network": a whole
    component, "cut", "envelope", "blob" or "pleural blob"; the module docstring); blobs and
    pleural: the dot filter's maps of the CT image and of the lung-filled one. probability: the
    network's nodule probability, read where it labelled nodule only (0 elsewhere: an envelope
    part or a blob the network called lung has none)."""
    spacing = np.asarray(volume.spacing_mm, float)
    hu = volume.voxels[box][mask].astype(np.float32)
    p = np.where(labels[box][mask] == 2, probability[box][mask], 0.0).astype(np.float32)
    elongation, flatness = _principal_ratios(mask, spacing)
    blob = blobs.strongest_within(box, mask) if blobs is not None else (0.0, 0.0, 0.0)
    pleural_blob = pleural.strongest_within(box, mask) if pleural is not None else (0.0, 0.0, 0.0)
    values = {
        "log_volume_mm3": np.log(mask.sum() * np.prod(spacing)),
        "thickness_mm": thickness_mm,
        "sphere_fill": sphere_fill(mask, volume),
        "mean_probability": p.mean(),
        "max_probability": p.max(),
        "mean_hu": hu.mean() / 1000,
        "sd_hu": hu.std() / 1000,
        "solid_share": (hu > SOLID_HU).mean(),
        "elongation": elongation,
        "flatness": flatness,
        "log_slices": np.log(np.count_nonzero(mask.any(axis=(1, 2)))),
        "slice_spacing_mm": spacing[0],
        "outside_lung_share": _outside_lung_share(labels, box, mask),
        "neck_ratio": neck_ratio,
        "cut": float(source == "cut"),
        "from_envelope": float(source == "envelope"),
        "blob_response_hu": blob[0] / 100,
        "blob_scale_mm": blob[1],
        "blob_roundness": blob[2],
        "from_blob_filter": float(source == "blob"),
        "pleural_blob_response_hu": pleural_blob[0] / 100,
        "pleural_blob_scale_mm": pleural_blob[1],
        "pleural_blob_roundness": pleural_blob[2],
        "from_pleural_blob_filter": float(source == "pleural blob"),
    }
    return np.array([values[name] for name in FEATURES], np.float32)


def _thickness_mm(mask: np.ndarray, spacing: np.ndarray) -> float:
    return float(ndimage.distance_transform_edt(np.pad(mask, 1), sampling=spacing).max())


def nodule_candidates(volume: Volume, labels: np.ndarray, probability: np.ndarray, min_sphere_fill: float,
                      opening_mm: float, min_volume_mm3: float = 0.0) -> list[Candidate]:
    """The candidates of one scan. labels: the network's classes (1 lung, 2 nodule); probability:
    its nodule probability where it labelled a nodule. A component that passes the shape test
    (sphere fill >= min_sphere_fill) is one candidate; one that fails it gives the blobs cut from it
    with opening_mm (radview.ai.nodule_split). Then the solid parts the network left out of the
    lung's envelope (radview.ai.nodule_envelope), the blobs of the CT image's dot filter
    (radview.ai.nodule_blobs) and those of the pleural filter outside every plain blob, each one
    candidate."""
    spacing = np.asarray(volume.spacing_mm, float)
    lung_box = bounding_box(labels > 0)
    with ThreadPoolExecutor(2) as pool:
        # the dot filters (Gaussians that free the GIL) run beside the components and the envelope,
        # which do not need them: only the candidates' features read them
        blobs_later, pleural_later = [pool.submit(blob_map, volume.voxels, labels, volume.spacing_mm, lung_box, filled)
                                      for filled in (False, True)] if lung_box is not None else [None, None]
        shapes = _network_shapes(volume, labels, min_sphere_fill, opening_mm, min_volume_mm3)
        envelope = [(box, mask, _thickness_mm(mask, spacing), 0.0, "envelope") for box, mask in
                    (envelope_regions(volume.voxels, labels, volume.spacing_mm, SOLID_HU, lung_box)
                     if lung_box is not None else ())]
        blobs = blobs_later.result() if blobs_later is not None else None
        pleural = pleural_later.result() if pleural_later is not None else None

    def candidate(box: tuple[slice, ...], mask: np.ndarray, thickness_mm: float, neck_ratio: float, source: str) -> Candidate:
        return Candidate(box, mask, candidate_features(volume, labels, probability, blobs, box, mask, thickness_mm,
                                                       neck_ratio, source, pleural))

    found = [candidate(*shape) for shape in shapes]
    found.sort(key=lambda c: -float(c.features[FEATURES.index("mean_probability")]))
    found = found[:MAX_CANDIDATES]
    # then the sources that do not read the nodule label: each capped on its own, never cut above
    found.extend(candidate(*shape) for shape in envelope)
    if blobs is None:
        return found
    whole = [c for c in found if not c.features[FEATURES.index("cut")]]

    def part_of_whole(centre: np.ndarray, radius_mm: float) -> bool:
        # a blob inside a thicker candidate found whole is a part of it (the rim of a large nodule)
        return any(c.features[FEATURES.index("thickness_mm")] > radius_mm and c.contains(centre) for c in whole)

    plain = []  # (centre voxel, radius mm) of every plain blob
    for box, mask, radius_mm in blob_regions(volume.voxels, labels, volume.spacing_mm, blobs):
        centre = np.argwhere(mask).mean(axis=0) + [b.start for b in box]
        plain.append((centre, radius_mm))
        if not part_of_whole(centre, radius_mm):
            found.append(candidate(box, mask, _thickness_mm(mask, spacing), 0.0, "blob"))
    for box, mask, radius_mm in blob_regions(volume.voxels, labels, volume.spacing_mm, pleural):
        centre = np.argwhere(mask).mean(axis=0) + [b.start for b in box]
        # inside the lung the two images are one: only the peaks the chest wall hid are new
        if all(np.linalg.norm((centre - other) * spacing) > max(radius_mm, other_mm) for other, other_mm in plain) \
                and not part_of_whole(centre, radius_mm):
            found.append(candidate(box, mask, _thickness_mm(mask, spacing), 0.0, "pleural blob"))
    return found


def _network_shapes(volume: Volume, labels: np.ndarray, min_sphere_fill: float, opening_mm: float,
                    min_volume_mm3: float) -> list[tuple[tuple[slice, ...], np.ndarray, float, float, str]]:
    """(box, mask, thickness mm, neck ratio, source) of each candidate from the nodule label: a
    component whole when it passes the shape test, else the blobs cut from it."""
    spacing = np.asarray(volume.spacing_mm, float)
    voxel_mm3 = float(np.prod(spacing))
    shapes = []
    for box, component in components(labels == 2):
        if component.sum() * voxel_mm3 < min_volume_mm3:
            continue
        if sphere_fill(component, volume) >= min_sphere_fill or opening_mm <= 0:
            shapes.append((box, component, _thickness_mm(component, spacing), 0.0, "network"))
            continue
        for piece in split_component(component, tuple(spacing), opening_mm):
            if piece.radius_mm < MIN_BLOB_RADIUS_MM or piece.mask.sum() * voxel_mm3 < min_volume_mm3:
                continue
            tight = bounding_box(piece.mask)
            piece_box = tuple(slice(b.start + t.start, b.start + t.stop) for b, t in zip(box, tight))
            shapes.append((piece_box, piece.mask[tight], piece.radius_mm, piece.neck_ratio, "cut"))
    return shapes
