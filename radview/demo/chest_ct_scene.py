"""The chest CT phantom's scene: its ground-truth records, the lungs and vessels it is drawn
from, and the anatomy of one slice (radview.demo.chest_ct draws the phantom from these).

Values are Hounsfield units as docs/domain.md lists them: air -1000, lung about -850,
fat -100, soft tissue and blood 40, cancellous bone 250, cortical bone 700+.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from radview.demo.shapes import ellipse_distance, soft_inside

SOLID_HU = (25.0, 55.0)  # soft tissue
GROUND_GLASS_HU = (-700.0, -450.0)  # docs/domain.md: ground glass about -500
SOLID_CORE_HU = 45.0


@dataclass
class PlantedNodule:
    """A nodule the phantom contains, in patient (LPS) mm and voxel indices."""

    centre_mm: tuple[float, float, float]
    centre_voxel: tuple[float, float, float]  # (slice, row, col)
    diameter_mm: float
    kind: str  # "solid" or "part-solid" ("ground-glass" in hard cases)
    solid_diameter_mm: float
    side: str  # "right" or "left" (patient's side)
    zone: str  # "upper" or "lower" half of that lung
    volume_mm3: float = 0.0
    label: int = 0
    # the strata, in hard cases only (None otherwise, and then left out of the ground truth so
    # the default phantom's ground truth stays as it was)
    composition: str | None = None  # solid, part-solid or ground-glass
    location: str | None = None  # as measured in the voxels: juxtapleural, juxtavascular or isolated
    margin: str | None = None  # smooth, lobulated or spiculated
    size_band: str | None = None  # 4-6, 6-10, 10-20, 20+ mm, or under 4 mm (not a reference nodule)
    touches_pleura: bool | None = None
    touches_vessel: bool | None = None


@dataclass
class ChestCT:
    """The phantom's voxels (HU), geometry and ground truth."""

    hu: np.ndarray  # (slices, rows, cols) int16
    lung_labels: np.ndarray  # (slices, rows, cols) uint8: 1 right lung, 2 left lung
    nodule_labels: np.ndarray  # (slices, rows, cols) uint8: nodule i has label i
    pixel_spacing_mm: float
    slice_spacing_mm: float
    origin_mm: tuple[float, float, float]
    nodules: list[PlantedNodule] = field(default_factory=list)
    tilt_deg: float = 0.0
    slice_thickness_mm: float | None = None  # hard cases: may differ from the spacing
    dose: str | None = None  # hard cases: "standard" or "low"
    noise_hu: float | None = None  # hard cases

    def ground_truth(self) -> dict:
        truth = {
            "pixel_spacing_mm": self.pixel_spacing_mm,
            "slice_spacing_mm": self.slice_spacing_mm,
            "origin_mm": list(self.origin_mm),
            "nodules": [{k: v for k, v in asdict(n).items() if v is not None} for n in self.nodules],
        }
        extra = {"slice_thickness_mm": self.slice_thickness_mm, "dose": self.dose, "noise_hu": self.noise_hu}
        return {**truth, **{k: v for k, v in extra.items() if v is not None}}


@dataclass
class Lung:
    side: str
    cx: float
    cy: float
    a: float
    b: float
    z_base: float
    z_apex: float

    def half_axes_at(self, z: float) -> tuple[float, float] | None:
        """In-plane semi-axes at height z: widest near the base, a dome to the apex."""
        if not self.z_base <= z <= self.z_apex:
            return None
        t = (z - self.z_base) / (self.z_apex - self.z_base)
        scale = np.sqrt(max(0.0, 1 - ((t - 0.3) / 0.7) ** 2)) if t > 0.3 else 0.75 + 0.25 * t / 0.3
        return self.a * scale, self.b * scale


def vessel_tree(rng: np.random.Generator, lung: Lung, count: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Straight segments (start, end, radius mm) branching from the hilum outward."""
    z_mid = lung.z_base + 0.45 * (lung.z_apex - lung.z_base)
    hilum = np.array([lung.cx - np.sign(lung.cx) * lung.a * 0.55, lung.cy, z_mid])
    segments = []
    tips = [(hilum, 4.0)]
    while len(segments) < count and tips:
        start, radius = tips.pop(0)
        for _ in range(2):
            direction = rng.normal(size=3)
            direction[0] = abs(direction[0]) * np.sign(lung.cx)  # outward, toward the chest wall
            direction /= np.linalg.norm(direction)
            length = rng.uniform(18, 45) * radius / 4 + 10
            end = start + direction * length
            segments.append((start, end, radius))
            if radius * 0.72 > 0.8:
                tips.append((end, radius * 0.72))
    return segments


def segment_box(
    a: np.ndarray, b: np.ndarray, margin_mm: float, origin: tuple[float, float, float], spacing: float,
    size: int, y_shift_mm: float,
) -> tuple[slice, slice] | None:
    """(rows, cols) slices of the image that hold everything within margin_mm of segment a-b."""
    x0, x1 = min(a[0], b[0]) - margin_mm, max(a[0], b[0]) + margin_mm
    y0, y1 = min(a[1], b[1]) - margin_mm - y_shift_mm, max(a[1], b[1]) + margin_mm - y_shift_mm
    c0, c1 = int(max(0, (x0 - origin[0]) / spacing)), int(min(size, (x1 - origin[0]) / spacing + 2))
    r0, r1 = int(max(0, (y0 - origin[1]) / spacing)), int(min(size, (y1 - origin[1]) / spacing + 2))
    if c0 >= c1 or r0 >= r1:
        return None
    return slice(r0, r1), slice(c0, c1)


def segment_distance(px: np.ndarray, py: np.ndarray, z: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = ((px - a[0]) * ab[0] + (py - a[1]) * ab[1] + (z - a[2]) * ab[2]) / float(ab @ ab)
    t = np.clip(t, 0, 1)
    return np.sqrt((px - a[0] - t * ab[0]) ** 2 + (py - a[1] - t * ab[1]) ** 2 + (z - a[2] - t * ab[2]) ** 2)


@dataclass
class Scene:
    """What every slice is drawn from: the grid and the anatomy."""

    x: np.ndarray  # (1, cols) LPS x of each column
    y: np.ndarray  # (rows, 1) LPS y of each row, before the gantry tilt's shift
    origin: tuple[float, float, float]
    spacing: float
    size: int
    body_a: float
    body_b: float
    fat_mm: float
    lungs: list[Lung]
    vessels: list[tuple[np.ndarray, np.ndarray, float]]
    blood_hu: float
    shear: float
    z_top: float


# The heart and the aorta in the slice plane (centre x, y and semi-axes, mm); the heart fills the
# lower HEART_TOP_SHARE of the scanned length. They overlap the lung ellipses.
HEART = (25.0, -35.0, 60.0, 50.0)
AORTA = (20.0, 10.0, 13.0, 13.0)
HEART_TOP_SHARE = 0.55


def heart_at(z: float, origin_z: float, z_top: float) -> bool:
    """Whether slices at height z hold the heart."""
    return z < origin_z + HEART_TOP_SHARE * (z_top - origin_z)


def clear_of_mediastinum(centre: np.ndarray, radius_mm: float, origin_z: float, z_top: float, margin_mm: float = 3.0) -> bool:
    """Whether a ball (a nodule's body) stays out of the heart and the aorta: one drawn over the
    heart would be the heart's own density (invisible) and outside the lung."""
    x, y, z = (float(v) for v in centre)
    reach = radius_mm + margin_mm
    for cx, cy, a, b in (AORTA, *([HEART] if heart_at(z - reach, origin_z, z_top) else [])):
        if ((x - cx) / (a + reach)) ** 2 + ((y - cy) / (b + reach)) ** 2 <= 1.0:
            return False
    return True


def anatomy(scene: Scene, z: float, rng: np.random.Generator,
             vessel_out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(image HU float32, lung fraction, lung labels, row y) at height z: everything but nodules
    and noise. vessel_out, when given, receives each pixel's vessel fraction."""
    x, spacing, size, origin_z = scene.x, scene.spacing, scene.size, scene.origin[2]
    body_a, body_b, fat_mm = scene.body_a, scene.body_b, scene.fat_mm
    yk = scene.y + scene.shear * (z - origin_z)  # gantry tilt shifts each slice along y
    img = np.full((size, size), -1000.0, np.float32)
    body = soft_inside(ellipse_distance(x, yk, 0, 0, body_a, body_b), spacing)
    inner = soft_inside(ellipse_distance(x, yk, 0, 0, body_a - fat_mm, body_b - fat_mm * 0.8), spacing)
    img += body * (1000 - 100) + inner * 140  # fat, then muscle inside it
    # ribs: a bony band under the body wall at regular heights
    if (z % 28) < 9:
        rib = np.abs(ellipse_distance(x, yk, 0, 0, body_a - fat_mm - 12, body_b - fat_mm - 10)) < 4
        rib &= yk > -body_b * 0.55
        img[rib] = 700
    lung_here = np.zeros((size, size), np.float32)
    lung_label = np.zeros((size, size), np.uint8)
    for label, lung in enumerate(scene.lungs, start=1):
        axes = lung.half_axes_at(z)
        if axes is None:
            continue
        inside = soft_inside(ellipse_distance(x, yk, lung.cx, lung.cy, axes[0], axes[1]), spacing)
        lung_here = np.maximum(lung_here, inside)
        lung_label[inside >= 0.5] = label
    texture = rng.standard_normal((size, size), dtype=np.float32) * 25
    img = img * (1 - lung_here) + (-860 + texture) * lung_here
    # mediastinum: heart and aorta between the lungs, drawn over them (no lung label there)
    heart = soft_inside(ellipse_distance(x, yk, *HEART), spacing) * heart_at(z, origin_z, scene.z_top)
    aorta = soft_inside(ellipse_distance(x, yk, *AORTA), spacing)
    img = img * (1 - heart) + scene.blood_hu * heart
    img = img * (1 - aorta) + scene.blood_hu * aorta
    lung_label[(heart >= 0.5) | (aorta >= 0.5)] = 0
    # spine: vertebral body with cortex, canal behind it
    vert = ellipse_distance(x, yk, 0, body_b - 55, 20, 17)
    img[vert < 0] = 250
    img[(vert < 0) & (vert > -2.5)] = 750
    img[ellipse_distance(x, yk, 0, body_b - 25, 8, 9) < 0] = 25
    for start, end, radius in scene.vessels:
        lo, hi = sorted((start[2], end[2]))
        if not lo - radius <= z <= hi + radius:
            continue
        box = segment_box(start, end, radius + 2 * spacing, scene.origin, spacing, size, scene.shear * (z - origin_z))
        if box is None:
            continue
        d = segment_distance(x[:, box[1]], yk[box[0]], z, start, end)
        vessel = soft_inside(d - radius, spacing) * lung_here[box]
        img[box] += vessel * (scene.blood_hu - img[box])
        if vessel_out is not None:
            np.maximum(vessel_out[box], vessel, out=vessel_out[box])
    return img, lung_here, lung_label, yk



def measure_nodules(nodules: list[PlantedNodule], nodule_labels: np.ndarray, spacing: float, slice_spacing: float,
                     origin: tuple[float, float, float]) -> None:
    """Each nodule's label, volume (from its voxels) and centre in voxel indices."""
    voxel_mm3 = spacing * spacing * slice_spacing
    for label, nodule in enumerate(nodules, start=1):
        nodule.label = label
        nodule.volume_mm3 = round(float(np.count_nonzero(nodule_labels == label)) * voxel_mm3, 1)
        cx, cy, cz = nodule.centre_mm
        nodule.centre_voxel = (
            round((cz - origin[2]) / slice_spacing, 2),
            round(float((cy - origin[1]) / spacing), 2),
            round((cx - origin[0]) / spacing, 2),
        )


