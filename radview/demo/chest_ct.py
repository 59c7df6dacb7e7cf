"""A synthetic chest CT: body wall, lungs with vessels, mediastinum, spine, ribs and nodules.

Values are Hounsfield units as docs/domain.md lists them: air -1000, lung about -850,
fat -100, soft tissue and blood 40, cancellous bone 250, cortical bone 700+; solid nodules are
soft tissue, ground-glass about -500. Built slice by slice to keep memory small.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from radview.demo.shapes import ellipse_distance, lobulation, lumpy_radius, soft_inside


@dataclass
class PlantedNodule:
    """A nodule the phantom contains, in patient (LPS) mm and voxel indices."""

    centre_mm: tuple[float, float, float]
    centre_voxel: tuple[float, float, float]  # (slice, row, col)
    diameter_mm: float
    kind: str  # "solid" or "part-solid"
    solid_diameter_mm: float
    side: str  # "right" or "left" (patient's side)
    zone: str  # "upper" or "lower" half of that lung
    volume_mm3: float = 0.0
    label: int = 0


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

    def ground_truth(self) -> dict:
        return {
            "pixel_spacing_mm": self.pixel_spacing_mm,
            "slice_spacing_mm": self.slice_spacing_mm,
            "origin_mm": list(self.origin_mm),
            "nodules": [asdict(n) for n in self.nodules],
        }


@dataclass
class _Lung:
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


def _vessel_tree(rng: np.random.Generator, lung: _Lung, count: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
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


def _box(
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


def _segment_distance(px: np.ndarray, py: np.ndarray, z: float, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = ((px - a[0]) * ab[0] + (py - a[1]) * ab[1] + (z - a[2]) * ab[2]) / float(ab @ ab)
    t = np.clip(t, 0, 1)
    return np.sqrt((px - a[0] - t * ab[0]) ** 2 + (py - a[1] - t * ab[1]) ** 2 + (z - a[2] - t * ab[2]) ** 2)


def make_chest_ct(seed: int, slices: int = 200, size: int = 512, tilt_deg: float = 0.0) -> ChestCT:
    """A chest CT phantom, different for each seed (body size, lungs, vessels, nodules, noise)."""
    rng = np.random.default_rng([seed, 1])
    body_a = rng.uniform(135, 185)  # half width, mm
    body_b = body_a * rng.uniform(0.62, 0.75)
    fov = 2 * body_a + rng.uniform(40, 90)
    spacing = round(fov / size, 4)
    slice_spacing = float(rng.choice([1.25, 1.5]))
    noise_hu = rng.uniform(8, 25)
    fat_mm = rng.uniform(6, 28)
    half = size * spacing / 2
    origin_z = -slices * slice_spacing * 0.5
    origin = (-half + spacing / 2, -half + spacing / 2 + rng.uniform(-10, 10), origin_z)
    coords = origin[0] + spacing * np.arange(size, dtype=np.float32)
    x = coords[np.newaxis, :]  # to the patient's left
    y = (origin[1] + spacing * np.arange(size, dtype=np.float32))[:, np.newaxis]  # posterior
    z_top = origin_z + (slices - 1) * slice_spacing
    lung_cy = rng.uniform(0, 15)
    lungs = [
        _Lung(side, sign * body_a * rng.uniform(0.40, 0.47), lung_cy, body_a * rng.uniform(0.30, 0.36),
              body_b * rng.uniform(0.62, 0.72), origin_z + rng.uniform(5, 25), z_top + rng.uniform(-25, 5))
        for side, sign in (("right", -1), ("left", 1))
    ]
    vessels = [seg for lung in lungs for seg in _vessel_tree(rng, lung, int(rng.integers(30, 60)))]
    nodules = _place_nodules(rng, lungs, int(rng.integers(2, 6)))
    lobes = [lobulation(rng, 0.12) for _ in nodules]
    blood_hu = rng.uniform(35, 50) if rng.random() < 0.5 else rng.uniform(150, 280)
    shear = np.tan(np.radians(tilt_deg))
    # solid nodules are soft tissue; ground glass about -500 HU (docs/domain.md)
    nodule_hu = {i: (rng.uniform(-560, -420) if n.kind == "part-solid" else rng.uniform(25, 55))
                 for i, n in enumerate(nodules, start=1)}

    hu = np.empty((slices, size, size), np.int16)
    lung_labels = np.zeros((slices, size, size), np.uint8)
    nodule_labels = np.zeros((slices, size, size), np.uint8)
    for k in range(slices):
        z = origin_z + k * slice_spacing
        yk = y + shear * (z - origin_z)  # gantry tilt shifts each slice along y
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
        for label, lung in enumerate(lungs, start=1):
            axes = lung.half_axes_at(z)
            if axes is None:
                continue
            inside = soft_inside(ellipse_distance(x, yk, lung.cx, lung.cy, axes[0], axes[1]), spacing)
            lung_here = np.maximum(lung_here, inside)
            lung_labels[k][inside >= 0.5] = label
        texture = rng.standard_normal((size, size), dtype=np.float32) * 25
        img = img * (1 - lung_here) + (-860 + texture) * lung_here
        # mediastinum: heart and aorta between the lungs
        heart = soft_inside(ellipse_distance(x, yk, 25, -35, 60, 50), spacing) * (z < origin_z + 0.55 * (z_top - origin_z))
        aorta = soft_inside(ellipse_distance(x, yk, 20, 10, 13, 13), spacing)
        img = img * (1 - heart) + blood_hu * heart
        img = img * (1 - aorta) + blood_hu * aorta
        # spine: vertebral body with cortex, canal behind it
        vert = ellipse_distance(x, yk, 0, body_b - 55, 20, 17)
        img[vert < 0] = 250
        img[(vert < 0) & (vert > -2.5)] = 750
        img[ellipse_distance(x, yk, 0, body_b - 25, 8, 9) < 0] = 25
        for start, end, radius in vessels:
            lo, hi = sorted((start[2], end[2]))
            if not lo - radius <= z <= hi + radius:
                continue
            box = _box(start, end, radius + 2 * spacing, origin, spacing, size, shear * (z - origin_z))
            if box is None:
                continue
            d = _segment_distance(x[:, box[1]], yk[box[0]], z, start, end)
            vessel = soft_inside(d - radius, spacing) * lung_here[box]
            img[box] += vessel * (blood_hu - img[box])
        for label, (nodule, (amp, phase)) in enumerate(zip(nodules, lobes), start=1):
            dz = z - nodule.centre_mm[2]
            r = nodule.diameter_mm / 2
            if abs(dz) > r * 1.3:
                continue
            centre = np.asarray(nodule.centre_mm)
            box = _box(centre, centre, r * 1.5 + 2 * spacing, origin, spacing, size, shear * (z - origin_z))
            if box is None:
                continue
            dx, dy = x[:, box[1]] - centre[0], yk[box[0]] - centre[1]
            rad = lumpy_radius(np.arctan2(dy, dx), r, amp, phase)
            dist = np.sqrt(dx**2 + dy**2 + dz**2)
            outer = soft_inside(dist - rad, spacing)
            target = img[box]
            if nodule.kind == "part-solid":
                target += outer * (nodule_hu[label] - target)
                core = soft_inside(dist - rad * nodule.solid_diameter_mm / nodule.diameter_mm, spacing)
                target += core * (45 - target)
            else:
                target += outer * (nodule_hu[label] - target)
            nodule_labels[k][box][outer >= 0.5] = label
        img += rng.standard_normal((size, size), dtype=np.float32) * noise_hu
        hu[k] = np.clip(img, -1024, 3071)
    voxel_mm3 = spacing * spacing * slice_spacing
    for label, nodule in enumerate(nodules, start=1):
        nodule.label = label
        nodule.volume_mm3 = round(float(np.count_nonzero(nodule_labels == label)) * voxel_mm3, 1)
        cx, cy, cz = nodule.centre_mm
        nodule.centre_voxel = (
            round((cz - origin_z) / slice_spacing, 2),
            round(float((cy - origin[1]) / spacing), 2),
            round((cx - origin[0]) / spacing, 2),
        )
    return ChestCT(hu, lung_labels, nodule_labels, spacing, slice_spacing, origin, nodules, tilt_deg)


def _place_nodules(rng: np.random.Generator, lungs: list[_Lung], count: int) -> list[PlantedNodule]:
    """Nodules of 3-30 mm inside the lungs, solid or part-solid, not touching each other."""
    nodules: list[PlantedNodule] = []
    attempts = 0
    while len(nodules) < count and attempts < 500:
        attempts += 1
        lung = lungs[int(rng.integers(2))]
        diameter = float(np.round(np.exp(rng.uniform(np.log(3), np.log(30))), 1))
        if lung.z_apex - lung.z_base < 40 + diameter:
            continue  # a short scan: too little lung for a nodule here
        z = rng.uniform(lung.z_base + 20, lung.z_apex - 20)
        axes = lung.half_axes_at(z)
        if axes is None:
            continue
        angle, frac = rng.uniform(0, 2 * np.pi), np.sqrt(rng.uniform(0, 0.7))
        x = lung.cx + np.cos(angle) * axes[0] * frac
        y = lung.cy + np.sin(angle) * axes[1] * frac
        edge = np.sqrt(((x - lung.cx) / axes[0]) ** 2 + ((y - lung.cy) / axes[1]) ** 2)
        if (1 - edge) * min(axes) < diameter / 2 + 3:
            continue
        if any(np.linalg.norm(np.subtract(n.centre_mm, (x, y, z))) < (n.diameter_mm + diameter) / 2 + 10 for n in nodules):
            continue
        part_solid = diameter >= 6 and rng.random() < 0.35
        solid = round(diameter * rng.uniform(0.3, 0.6), 1) if part_solid else diameter
        zone = "upper" if z > (lung.z_base + lung.z_apex) / 2 else "lower"
        nodules.append(
            PlantedNodule(
                (round(float(x), 2), round(float(y), 2), round(float(z), 2)), (0, 0, 0), diameter,
                "part-solid" if part_solid else "solid", solid, lung.side, zone,
            )
        )
    return nodules
