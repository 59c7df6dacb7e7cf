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

import numpy as np

from radview.demo.chest_ct_scene import (
    ChestCT,
    Lung,
    PlantedNodule,
    Scene,
    anatomy,
    clear_of_mediastinum,
    measure_nodules,
    segment_box,
    vessel_tree,
)
from radview.demo.hard_nodules import draw_planned, place_planned
from radview.demo.nodule_cases import NoduleCasePlan
from radview.demo.shapes import lobulation, lumpy_radius, soft_inside

__all__ = ["ChestCT", "PlantedNodule", "make_chest_ct"]


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
        Lung(side, sign * body_a * rng.uniform(0.40, 0.47), lung_cy, body_a * rng.uniform(0.30, 0.36),
              body_b * rng.uniform(0.62, 0.72), origin_z + rng.uniform(5, 25), z_top + rng.uniform(-25, 5))
        for side, sign in (("right", -1), ("left", 1))
    ]
    vessels = [seg for lung in lungs for seg in vessel_tree(rng, lung, int(rng.integers(30, 60)))]
    shear = np.tan(np.radians(tilt_deg))
    if plan is not None:
        nodules, looks, vessels = place_planned(np.random.default_rng([seed, 32]), plan, lungs, vessels,
                                                  (origin_z, z_top), spacing)
        blood_hu = rng.uniform(35, 50) if rng.random() < 0.5 else rng.uniform(150, 280)
        scene = Scene(x, y, origin, spacing, size, body_a, body_b, fat_mm, lungs, vessels, blood_hu, shear, z_top)
        return draw_planned(scene, rng, plan, slices, slice_spacing, noise_hu, nodules, looks, tilt_deg)
    nodules = _place_nodules(rng, lungs, int(rng.integers(2, 6)), (origin_z, z_top))
    lobes = [lobulation(rng, 0.12) for _ in nodules]
    blood_hu = rng.uniform(35, 50) if rng.random() < 0.5 else rng.uniform(150, 280)
    scene = Scene(x, y, origin, spacing, size, body_a, body_b, fat_mm, lungs, vessels, blood_hu, shear, z_top)
    # solid nodules are soft tissue; ground glass about -500 HU (docs/domain.md)
    nodule_hu = {i: (rng.uniform(-560, -420) if n.kind == "part-solid" else rng.uniform(25, 55))
                 for i, n in enumerate(nodules, start=1)}

    hu = np.empty((slices, size, size), np.int16)
    lung_labels = np.zeros((slices, size, size), np.uint8)
    nodule_labels = np.zeros((slices, size, size), np.uint8)
    for k in range(slices):
        z = origin_z + k * slice_spacing
        img, _, lung_labels[k], yk = anatomy(scene, z, rng)
        for label, (nodule, (amp, phase)) in enumerate(zip(nodules, lobes), start=1):
            dz = z - nodule.centre_mm[2]
            r = nodule.diameter_mm / 2
            if abs(dz) > r * 1.3:
                continue
            centre = np.asarray(nodule.centre_mm)
            box = segment_box(centre, centre, r * 1.5 + 2 * spacing, origin, spacing, size, shear * (z - origin_z))
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
    measure_nodules(nodules, nodule_labels, spacing, slice_spacing, origin)
    return ChestCT(hu, lung_labels, nodule_labels, spacing, slice_spacing, origin, nodules, tilt_deg)




def _place_nodules(rng: np.random.Generator, lungs: list[Lung], count: int,
                   z_range: tuple[float, float]) -> list[PlantedNodule]:
    """Nodules of 3-30 mm inside the lungs (clear of the heart and aorta), solid or part-solid, not
    touching each other."""
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
        if (1 - edge) * min(axes) < diameter / 2 + 3 or not clear_of_mediastinum((x, y, z), diameter / 2, *z_range):
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
