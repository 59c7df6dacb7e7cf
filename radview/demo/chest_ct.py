"""A synthetic chest CT: body wall, lungs with vessels, mediastinum, spine, ribs and nodules.

Values are Hounsfield units as docs/domain.md lists them: air -1000, lung about -850,
fat -100, soft tissue and blood 40, cancellous bone 250, cortical bone 700+; solid nodules are
soft tissue, ground-glass about -500. Built slice by slice to keep memory small.

`make_chest_ct(seed)` is the training and demo phantom (its voxels never change for a seed);
`make_chest_ct(seed, plan=NoduleCasePlan(...))` draws a hard case instead: the plan's
acquisition (pixel and slice spacing, slice thickness, dose) and its nodules, placed where
readers meet them (radview.demo.nodule_cases).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from scipy import ndimage

from radview.demo.nodule_cases import NoduleCasePlan, NoduleSpec, size_band, sub_slice_offsets_mm
from radview.demo.shapes import ellipse_distance, lobulation, lumpy_radius, soft_inside

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


@dataclass
class _Scene:
    """What every slice is drawn from: the grid and the anatomy."""

    x: np.ndarray  # (1, cols) LPS x of each column
    y: np.ndarray  # (rows, 1) LPS y of each row, before the gantry tilt's shift
    origin: tuple[float, float, float]
    spacing: float
    size: int
    body_a: float
    body_b: float
    fat_mm: float
    lungs: list[_Lung]
    vessels: list[tuple[np.ndarray, np.ndarray, float]]
    blood_hu: float
    shear: float
    z_top: float


def _anatomy(scene: _Scene, z: float, rng: np.random.Generator,
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
    # mediastinum: heart and aorta between the lungs
    heart = soft_inside(ellipse_distance(x, yk, 25, -35, 60, 50), spacing) * (z < origin_z + 0.55 * (scene.z_top - origin_z))
    aorta = soft_inside(ellipse_distance(x, yk, 20, 10, 13, 13), spacing)
    img = img * (1 - heart) + scene.blood_hu * heart
    img = img * (1 - aorta) + scene.blood_hu * aorta
    # spine: vertebral body with cortex, canal behind it
    vert = ellipse_distance(x, yk, 0, body_b - 55, 20, 17)
    img[vert < 0] = 250
    img[(vert < 0) & (vert > -2.5)] = 750
    img[ellipse_distance(x, yk, 0, body_b - 25, 8, 9) < 0] = 25
    for start, end, radius in scene.vessels:
        lo, hi = sorted((start[2], end[2]))
        if not lo - radius <= z <= hi + radius:
            continue
        box = _box(start, end, radius + 2 * spacing, scene.origin, spacing, size, scene.shear * (z - origin_z))
        if box is None:
            continue
        d = _segment_distance(x[:, box[1]], yk[box[0]], z, start, end)
        vessel = soft_inside(d - radius, spacing) * lung_here[box]
        img[box] += vessel * (scene.blood_hu - img[box])
        if vessel_out is not None:
            np.maximum(vessel_out[box], vessel, out=vessel_out[box])
    return img, lung_here, lung_label, yk


def make_chest_ct(seed: int, slices: int | None = None, size: int = 512, tilt_deg: float = 0.0,
                  plan: NoduleCasePlan | None = None) -> ChestCT:
    """A chest CT phantom, different for each seed (body size, lungs, vessels, nodules, noise).

    slices: 200 by default, the plan's count with a plan. plan: a hard case (its acquisition and
    nodules); without one the phantom is the training and demo one, unchanged for every seed.
    """
    slices = slices if slices is not None else (plan.slices if plan is not None else 200)
    rng = np.random.default_rng([seed, 1])
    body_a = rng.uniform(135, 185)  # half width, mm
    body_b = body_a * rng.uniform(0.62, 0.75)
    fov = 2 * body_a + rng.uniform(40, 90)
    spacing = round(fov / size, 4)
    slice_spacing = float(rng.choice([1.25, 1.5]))
    noise_hu = rng.uniform(8, 25)
    if plan is not None:
        # the plan's acquisition; the body shrinks to fit a small field of view (0.5 mm pixels)
        spacing, slice_spacing, noise_hu = plan.pixel_spacing_mm, plan.slice_spacing_mm, plan.noise_hu
        fitted = min(body_a, (size * spacing - 30) / 2)
        body_a, body_b = fitted, body_b * fitted / body_a
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
    shear = np.tan(np.radians(tilt_deg))
    if plan is not None:
        nodules, looks, vessels = _place_planned(np.random.default_rng([seed, 32]), plan, lungs, vessels,
                                                  (origin_z, z_top), spacing)
        blood_hu = rng.uniform(35, 50) if rng.random() < 0.5 else rng.uniform(150, 280)
        scene = _Scene(x, y, origin, spacing, size, body_a, body_b, fat_mm, lungs, vessels, blood_hu, shear, z_top)
        return _draw_planned(scene, rng, plan, slices, slice_spacing, noise_hu, nodules, looks, tilt_deg)
    nodules = _place_nodules(rng, lungs, int(rng.integers(2, 6)))
    lobes = [lobulation(rng, 0.12) for _ in nodules]
    blood_hu = rng.uniform(35, 50) if rng.random() < 0.5 else rng.uniform(150, 280)
    scene = _Scene(x, y, origin, spacing, size, body_a, body_b, fat_mm, lungs, vessels, blood_hu, shear, z_top)
    # solid nodules are soft tissue; ground glass about -500 HU (docs/domain.md)
    nodule_hu = {i: (rng.uniform(-560, -420) if n.kind == "part-solid" else rng.uniform(25, 55))
                 for i, n in enumerate(nodules, start=1)}

    hu = np.empty((slices, size, size), np.int16)
    lung_labels = np.zeros((slices, size, size), np.uint8)
    nodule_labels = np.zeros((slices, size, size), np.uint8)
    for k in range(slices):
        z = origin_z + k * slice_spacing
        img, _, lung_labels[k], yk = _anatomy(scene, z, rng)
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
    _measure_nodules(nodules, nodule_labels, spacing, slice_spacing, origin)
    return ChestCT(hu, lung_labels, nodule_labels, spacing, slice_spacing, origin, nodules, tilt_deg)


def _measure_nodules(nodules: list[PlantedNodule], nodule_labels: np.ndarray, spacing: float, slice_spacing: float,
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


@dataclass
class _Look:
    """How a planned nodule is drawn."""

    hu: float  # the nodule's (a part-solid one's ground glass)
    solid_hu: float  # its solid core's and spicules'
    core_fraction: float  # solid core radius over the nodule's (part-solid), 0 otherwise
    amplitudes: np.ndarray  # lobulation (radius modulation per harmonic)
    phases: np.ndarray
    spicules: list[tuple[np.ndarray, np.ndarray, float]]  # (start, end, radius) mm, set once placed
    body_mm: float  # farthest the nodule's surface extends from its centre (lobulation included)
    reach_mm: float  # the same with its spicules


def _look(rng: np.random.Generator, spec: NoduleSpec) -> _Look:
    """Densities and margin of one planned nodule (spicules are aimed once it is placed)."""
    r = spec.diameter_mm / 2
    amplitude = {"smooth": (0.0, 0.04), "lobulated": (0.08, 0.15), "spiculated": (0.0, 0.06)}[spec.margin]
    amplitudes, phases = rng.uniform(*amplitude, 3), rng.uniform(0, 2 * np.pi, 3)
    ground_glass = rng.uniform(*GROUND_GLASS_HU)
    solid = rng.uniform(*SOLID_HU)
    hu = solid if spec.composition == "solid" else ground_glass
    core = rng.uniform(0.3, 0.6) if spec.composition == "part-solid" else 0.0
    body = r * (1 + float(amplitudes.sum()))
    reach = r * 2.2 if spec.margin == "spiculated" else body  # spicules end 0.5-1.2 radii beyond the surface
    return _Look(hu, solid if spec.composition == "solid" else SOLID_CORE_HU, core, amplitudes, phases, [], body,
                 max(body, reach))


def _spicules(rng: np.random.Generator, centre: np.ndarray, r: float) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Thin strands from inside the surface outward, 0.5-1.2 radii beyond it, in random 3D directions."""
    strands = []
    for _ in range(int(rng.integers(8, 17))):
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        strands.append((centre + direction * r * 0.7, centre + direction * r * (1 + rng.uniform(0.5, 1.2)),
                        float(rng.uniform(0.35, 0.6))))
    return strands


def _lung_at(lungs: list[_Lung], centre: np.ndarray) -> tuple[_Lung, float] | None:
    """(lung, normalised ellipse radius) of the lung holding the point, or None."""
    for lung in lungs:
        axes = lung.half_axes_at(float(centre[2]))
        if axes is None:
            continue
        rho = float(np.hypot((centre[0] - lung.cx) / axes[0], (centre[1] - lung.cy) / axes[1]))
        if rho < 1:
            return lung, rho
    return None


def _clear_of_pleura(lung: _Lung, centre: np.ndarray, reach: float, margin_mm: float) -> bool:
    """The sphere of `reach` around centre stays margin_mm inside the lung, checked at its
    centre and near its top and bottom ((1 - rho) * min axis underestimates the distance to an
    ellipse's edge, so the test errs on the safe side)."""
    for f in (-0.7, 0.0, 0.7):
        z = float(centre[2]) + f * reach
        axes = lung.half_axes_at(z)
        if axes is None:
            return False
        rho = np.hypot((centre[0] - lung.cx) / axes[0], (centre[1] - lung.cy) / axes[1])
        if (1 - rho) * min(axes) < reach * np.sqrt(1 - f * f) + margin_mm:
            return False
    return True


def _vessels_near(vessels: list, centre: np.ndarray, reach: float) -> list[int]:
    """Indices of vessel segments that come within 1.5 mm of the sphere of `reach` around centre."""
    near = []
    for i, (start, end, radius) in enumerate(vessels):
        ab = end - start
        t = float(np.clip((centre - start) @ ab / float(ab @ ab), 0, 1))
        if np.linalg.norm(centre - start - t * ab) < reach + radius + 1.5:
            near.append(i)
    return near


def _isolated_centre(rng: np.random.Generator, lung: _Lung, z: float, reach: float, vessels: list) -> np.ndarray | None:
    """Of a few points well inside a lung, the one with the least vessel in the way (those
    vessels are then removed: the nodule has pushed them aside)."""
    best, best_cost = None, np.inf
    for _ in range(12):
        axes = lung.half_axes_at(z)
        if axes is None:
            continue
        angle, frac = rng.uniform(0, 2 * np.pi), np.sqrt(rng.uniform(0, 0.8))
        centre = np.array([lung.cx + np.cos(angle) * axes[0] * frac, lung.cy + np.sin(angle) * axes[1] * frac, z])
        if not _clear_of_pleura(lung, centre, reach, 3.0):
            continue
        cost = sum(vessels[i][2] ** 2 for i in _vessels_near(vessels, centre, reach))
        if cost < best_cost:
            best, best_cost = centre, cost
    return best


def _juxtavascular_centre(rng: np.random.Generator, lungs: list[_Lung], r: float, reach: float,
                          vessels: list) -> np.ndarray | None:
    """Beside or across a 1-3 mm vessel: the centre within (radius + vessel radius) of its axis."""
    usable = [v for v in vessels if 0.9 <= v[2] <= 3.0]
    if not usable:
        return None
    start, end, radius = usable[int(rng.integers(len(usable)))]
    axis = end - start
    point = start + rng.uniform(0.2, 0.8) * axis
    across = rng.normal(size=3)
    across -= (across @ axis) / float(axis @ axis) * axis
    across /= np.linalg.norm(across)
    centre = point + across * rng.uniform(0.0, 0.8) * (r + radius)  # 0.8: overlaps by a fifth at least
    held = _lung_at(lungs, centre)
    return centre if held is not None and _clear_of_pleura(held[0], centre, reach, 3.0) else None


def _juxtapleural_centre(rng: np.random.Generator, lung: _Lung, z: float, r: float, spacing: float) -> np.ndarray | None:
    """Against the costal pleura (anterior, lateral or posterior): the nodule crosses the lung's
    edge by a fifth of its radius (at least 1.5 pixels, so it touches in the voxels); the chest
    wall cuts it there."""
    axes = lung.half_axes_at(z)
    if axes is None or min(axes) < 1.2 * r or any(lung.half_axes_at(z + f * r) is None for f in (-0.7, 0.7)):
        return None
    theta = (0.0 if lung.cx > 0 else np.pi) + rng.uniform(-1.9, 1.9)  # away from the mediastinum
    a, b = axes
    normal = np.array([np.cos(theta) / a, np.sin(theta) / b])
    normal /= np.linalg.norm(normal)
    depth = r - min(0.5 * r, max(0.2 * r, 1.5 * spacing))
    return np.array([lung.cx + a * np.cos(theta) - normal[0] * depth, lung.cy + b * np.sin(theta) - normal[1] * depth, z])


def _place_planned(rng: np.random.Generator, plan: NoduleCasePlan, lungs: list[_Lung], vessels: list,
                   z_range: tuple[float, float], spacing: float) -> tuple[list[PlantedNodule], list[_Look], list]:
    """Place the plan's nodules (isolated first: they clear vessels away; then juxtavascular,
    then juxtapleural; larger first), apart from each other. A nodule with no room is left out.
    Spicules may reach the pleura or a vessel (pleural tags): only the body is kept clear.
    Returns the nodules, how each is drawn, and the vessels that remain."""
    order = sorted(plan.nodules, key=lambda s: (("isolated", "juxtavascular", "juxtapleural").index(s.location), -s.diameter_mm))
    vessels = list(vessels)
    placed: list[tuple[PlantedNodule, _Look]] = []
    for spec in order:
        look, r = _look(rng, spec), spec.diameter_mm / 2
        body = look.body_mm
        for _ in range(300):
            lung = lungs[int(rng.integers(2))]
            z_low = max(z_range[0], lung.z_base) + body + 8
            z_high = min(z_range[1], lung.z_apex) - body - 15  # the apex is a narrow dome
            if z_low >= z_high:
                continue
            z = rng.uniform(z_low, z_high)
            if spec.location == "isolated":
                centre = _isolated_centre(rng, lung, z, body, vessels)
            elif spec.location == "juxtavascular":
                centre = _juxtavascular_centre(rng, lungs, r, body, vessels)
            else:
                centre = _juxtapleural_centre(rng, lung, z, r, spacing)
            if centre is None or not z_range[0] + body + 3 <= centre[2] <= z_range[1] - body - 3:
                continue
            if any(np.linalg.norm(centre - np.array(n.centre_mm)) < body + other.body_mm + 5 for n, other in placed):
                continue
            if spec.location == "isolated":
                near = set(_vessels_near(vessels, centre, body))
                vessels = [v for i, v in enumerate(vessels) if i not in near]
            placed.append((_planted(spec, centre, lungs, look), look))
            if spec.margin == "spiculated":
                look.spicules = _spicules(rng, centre, r)
            break
    return [n for n, _ in placed], [look for _, look in placed], vessels


def _planted(spec: NoduleSpec, centre: np.ndarray, lungs: list[_Lung], look: _Look) -> PlantedNodule:
    """The ground truth of a placed nodule (its location is measured once drawn)."""
    held = _lung_at(lungs, centre)
    lung = held[0] if held is not None else min(lungs, key=lambda g: abs(g.cx - centre[0]))
    zone = "upper" if centre[2] > (lung.z_base + lung.z_apex) / 2 else "lower"
    solid = {"solid": spec.diameter_mm, "part-solid": round(spec.diameter_mm * look.core_fraction, 1)}
    return PlantedNodule(
        (round(float(centre[0]), 2), round(float(centre[1]), 2), round(float(centre[2]), 2)), (0, 0, 0),
        spec.diameter_mm, spec.composition, solid.get(spec.composition, 0.0), lung.side, zone,
        composition=spec.composition, margin=spec.margin, size_band=size_band(spec.diameter_mm))


def _draw_planned(scene: _Scene, rng: np.random.Generator, plan: NoduleCasePlan, slices: int, slice_spacing: float,
                  noise_hu: float, nodules: list[PlantedNodule], looks: list[_Look], tilt_deg: float) -> ChestCT:
    """Draw a hard case slice by slice: each slice the mean of samples across its thickness
    (partial volume along z), the labels from its centre; then measure where each nodule lies."""
    size, origin_z = scene.size, scene.origin[2]
    offsets = sub_slice_offsets_mm(plan.slice_thickness_mm)
    hu = np.empty((slices, size, size), np.int16)
    lung_labels = np.zeros((slices, size, size), np.uint8)
    nodule_labels = np.zeros((slices, size, size), np.uint8)
    touching_vessel: set[int] = set()
    for k in range(slices):
        total = np.zeros((size, size), np.float32)
        for i, offset in enumerate(offsets):
            z = origin_z + k * slice_spacing + offset
            vessel = np.zeros((size, size), np.float32)
            img, lung_here, lung_label, yk = _anatomy(scene, z, rng, vessel)
            labels = _paint_planned(scene, img, z, yk, lung_here, nodules, looks)
            if i == len(offsets) // 2:
                lung_labels[k], nodule_labels[k] = lung_label, labels
                touching_vessel |= _vessel_contacts(labels, vessel)
            total += img
        img = total / len(offsets) + rng.standard_normal((size, size), dtype=np.float32) * np.float32(noise_hu)
        hu[k] = np.clip(img, -1024, 3071)
    _measure_nodules(nodules, nodule_labels, scene.spacing, slice_spacing, scene.origin)
    pleura = _pleura_contacts(nodule_labels, lung_labels)
    for nodule in nodules:
        nodule.touches_pleura, nodule.touches_vessel = nodule.label in pleura, nodule.label in touching_vessel
        # one location per nodule, pleura first (a nodule on the wall is read as juxtapleural)
        nodule.location = "juxtapleural" if nodule.touches_pleura else "juxtavascular" if nodule.touches_vessel else "isolated"
    return ChestCT(hu, lung_labels, nodule_labels, scene.spacing, slice_spacing, scene.origin, nodules, tilt_deg,
                   slice_thickness_mm=plan.slice_thickness_mm, dose=plan.dose, noise_hu=plan.noise_hu)


def _paint_planned(scene: _Scene, img: np.ndarray, z: float, yk: np.ndarray, lung_here: np.ndarray,
                   nodules: list[PlantedNodule], looks: list[_Look]) -> np.ndarray:
    """Draw the planned nodules into one slice's image; returns the slice's nodule labels.
    Densities only rise (max): vessels brighter than a nodule stay visible through it, as they
    do through ground glass; the lung fraction bounds each nodule, so the chest wall cuts a
    juxtapleural one."""
    spacing, origin, size = scene.spacing, scene.origin, scene.size
    labels = np.zeros(img.shape, np.uint8)
    for label, (nodule, look) in enumerate(zip(nodules, looks), start=1):
        centre = np.asarray(nodule.centre_mm)
        dz = z - centre[2]
        if abs(dz) > look.reach_mm + 1:
            continue
        box = _box(centre, centre, look.reach_mm + 2 * spacing, origin, spacing, size, scene.shear * (z - origin[2]))
        if box is None:
            continue
        target, lung = img[box], lung_here[box]
        for start, end, radius in look.spicules:  # strands first: the body then covers their roots
            if min(start[2], end[2]) - radius <= z <= max(start[2], end[2]) + radius:
                strand = soft_inside(_segment_distance(scene.x[:, box[1]], yk[box[0]], z, start, end) - radius, spacing)
                target += strand * lung * np.maximum(look.solid_hu - target, 0)
        r = nodule.diameter_mm / 2
        if abs(dz) > r * (1 + float(look.amplitudes.sum())) + spacing:
            continue
        dx, dy = scene.x[:, box[1]] - centre[0], yk[box[0]] - centre[1]
        rad = lumpy_radius(np.arctan2(dy, dx), r, look.amplitudes, look.phases)
        dist = np.sqrt(dx**2 + dy**2 + dz**2)
        outer = soft_inside(dist - rad, spacing) * lung
        target += outer * np.maximum(look.hu - target, 0)
        if look.core_fraction:
            core = soft_inside(dist - rad * look.core_fraction, spacing) * lung
            target += core * np.maximum(look.solid_hu - target, 0)
        labels[box][outer >= 0.5] = label
    return labels


def _vessel_contacts(labels: np.ndarray, vessel: np.ndarray) -> set[int]:
    """Nodule labels of one slice with a vessel pixel (fraction >= 0.5) in or next to them."""
    found = set()
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        grown = tuple(slice(max(0, s.start - 1), s.stop + 1) for s in box)
        near = ndimage.binary_dilation(labels[grown] == index, np.ones((3, 3), bool))
        if (vessel[grown][near] >= 0.5).any():
            found.add(index)
    return found


def _pleura_contacts(nodule_labels: np.ndarray, lung_labels: np.ndarray) -> set[int]:
    """Nodule labels with a voxel next to one outside the lungs (the pleura, in 6-connectivity)."""
    found = set()
    for index, box in enumerate(ndimage.find_objects(nodule_labels), start=1):
        if box is None:
            continue
        grown = tuple(slice(max(0, s.start - 1), s.stop + 1) for s in box)
        mask = nodule_labels[grown] == index
        rim = ndimage.binary_dilation(mask) & ~mask
        if (lung_labels[grown][rim] == 0).any():
            found.add(index)
    return found


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
