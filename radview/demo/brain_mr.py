"""A synthetic brain MRI with FLAIR-like contrast: scalp, skull, CSF, grey and white matter,
ventricles, and a tumour with surrounding oedema.

FLAIR: CSF is dark (nulled), white matter darker than grey matter, oedema and tumour bright,
cortical bone dark, scalp fat bright. Values are arbitrary MR units with a bias field and
Rician noise, as MR has no fixed scale.

`make_brain_mr(seed, plan=TumourCasePlan(...))` draws a hard case instead
(radview.demo.tumour_cases): the plan's tumour (size, cortical, periventricular or deep white
matter, hemisphere, oedema rim), or none, in the seed's brain; the ground truth names its
stratum and the measured distances of the core to the brain surface and to the ventricles.
Without a plan the phantom of a seed is what it always was.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radview.demo.tumour_cases import TumourCasePlan, TumourSpec


@dataclass
class BrainMR:
    pixels: np.ndarray  # (slices, rows, cols) uint16
    labels: np.ndarray  # (slices, rows, cols) uint8: 1 tumour core, 2 oedema
    pixel_spacing_mm: float
    slice_spacing_mm: float
    origin_mm: tuple[float, float, float]
    tumour_centre_mm: tuple[float, float, float] | None  # None: a hard case with no tumour
    tumour_diameter_mm: float
    hemisphere: str
    stratum: dict | None = None  # a hard case's size band and location, and the measured distances

    def ground_truth(self) -> dict:
        voxel_ml = self.pixel_spacing_mm**2 * self.slice_spacing_mm / 1000
        truth: dict = {
            "pixel_spacing_mm": self.pixel_spacing_mm,
            "slice_spacing_mm": self.slice_spacing_mm,
            "origin_mm": list(self.origin_mm),
            "tumour": None if self.tumour_centre_mm is None else {
                "centre_mm": list(self.tumour_centre_mm),
                "core_diameter_mm": self.tumour_diameter_mm,
                "hemisphere": self.hemisphere,
                "core_volume_ml": round(float(np.count_nonzero(self.labels == 1)) * voxel_ml, 2),
                "whole_volume_ml": round(float(np.count_nonzero(self.labels > 0)) * voxel_ml, 2),
            },
        }
        if self.stratum is not None:
            truth["stratum"] = dict(self.stratum)
        return truth


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], scale: int) -> np.ndarray:
    """Low-frequency noise in -1..1: coarse random grid upsampled by repetition and box blur."""
    coarse = rng.uniform(-1, 1, tuple(max(2, s // scale + 2) for s in shape)).astype(np.float32)
    fine = coarse
    for axis, s in enumerate(shape):
        fine = np.repeat(fine, scale, axis=axis).take(np.arange(s), axis=axis)
    for axis in range(len(shape)):
        fine = (fine + np.roll(fine, scale // 2, axis) + np.roll(fine, -(scale // 2), axis)) / 3
    return fine


def make_brain_mr(seed: int, slices: int = 36, size: int = 256, plan: TumourCasePlan | None = None) -> BrainMR:
    """An axial FLAIR-like brain phantom, different for each seed. plan: a hard case's tumour
    (or none) placed in the seed's brain instead of the seed's own tumour."""
    rng = np.random.default_rng([seed, 3])
    spacing = round(float(rng.uniform(0.86, 0.98)), 4)
    slice_spacing = 4.0
    half = size * spacing / 2
    origin = (-half + spacing / 2, -half + spacing / 2, -slices * slice_spacing / 2 + 10)
    x = (origin[0] + spacing * np.arange(size, dtype=np.float32))[None, None, :]
    y = (origin[1] + spacing * np.arange(size, dtype=np.float32))[None, :, None]
    z = (origin[2] + slice_spacing * np.arange(slices, dtype=np.float32))[:, None, None]
    a, b, c = rng.uniform(64, 74), rng.uniform(82, 94), rng.uniform(62, 70)  # brain half-axes (mm)
    shape_noise = _smooth_noise(rng, (slices, size, size), 24) * 3

    def radius(ax: float, bx: float, cx: float) -> np.ndarray:
        return np.sqrt((x / ax) ** 2 + (y / bx) ** 2 + ((z + 5) / cx) ** 2)

    brain_r = radius(a, b, c)
    depth = (1 - brain_r) * min(a, b, c) + shape_noise  # mm inside the brain surface
    head = radius(a + 14, b + 14, c + 14) < 1
    skull_inner = radius(a + 4, b + 4, c + 4) < 1
    skull_outer = radius(a + 10, b + 10, c + 10) < 1
    img = np.zeros((slices, size, size), np.float32)
    img[head] = 620  # scalp fat, bright in FLAIR
    img[skull_outer] = 60  # cortical bone
    img[skull_inner] = 40  # CSF (nulled)
    brain = depth > 0
    img[brain] = 330  # white matter
    img[brain & (depth < rng.uniform(2.5, 4))] = 430  # cortical grey matter
    deep = radius(a * 0.28, b * 0.22, c * 0.3)
    ventricles = np.zeros((slices, size, size), bool)
    for sign in (-1, 1):  # lateral ventricles: two curved ellipsoids either side of the midline
        v = np.sqrt(((x - sign * 9) / 7) ** 2 + ((y + 5 + 0.002 * (y**2)) / 28) ** 2 + ((z - 12) / 14) ** 2)
        img[(v < 1) & brain] = 45
        ventricles |= (v < 1) & brain
    img[(deep < 1) & brain & (img > 100)] = 400  # deep grey nuclei
    labels = np.zeros((slices, size, size), np.uint8)
    if plan is None:
        hemisphere = "right" if rng.random() < 0.5 else "left"
        sign = -1 if hemisphere == "right" else 1  # LPS: +x is the patient's left
        centre = (sign * rng.uniform(22, 42), rng.uniform(-45, 40), rng.uniform(-5, 30))
        core_r = rng.uniform(5, 20)
    elif plan.tumour is not None:
        hemisphere, core_r = plan.tumour.hemisphere, plan.tumour.core_diameter_mm / 2
        z_range = (origin[2] + 0.2 * slices * slice_spacing, origin[2] + 0.75 * slices * slice_spacing)
        centre = _planned_centre(rng, plan.tumour, (a, b, c), z_range)
    if plan is None or plan.tumour is not None:
        d = np.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2)
        irregular = _smooth_noise(rng, (slices, size, size), 12)
        rim = rng.uniform(6, 20) if plan is None else plan.tumour.oedema_mm
        core = (d < core_r * (1 + 0.25 * irregular)) & brain
        oedema = (d < core_r + rim * (1 + 0.6 * irregular)) & brain & ~core & (img > 100)
        img[oedema] = rng.uniform(620, 760)
        img[core] = rng.uniform(700, 880) + 120 * irregular[core]
        labels[core] = 1
        labels[oedema] = 2
    bias = 1 + 0.15 * _smooth_noise(rng, (slices, size, size), 64)
    sigma = rng.uniform(8, 20)
    real = img * bias + rng.standard_normal(img.shape, dtype=np.float32) * sigma
    imag = rng.standard_normal(img.shape, dtype=np.float32) * sigma
    pixels = np.clip(np.sqrt(real**2 + imag**2), 0, 4095).astype(np.uint16)  # Rician magnitude
    if plan is not None and plan.tumour is None:
        return BrainMR(pixels, labels, spacing, slice_spacing, origin, None, 0.0, "none", plan.stratum())
    stratum = None if plan is None else {**plan.stratum(), **_distances(labels == 1, brain, ventricles, spacing, slice_spacing)}
    return BrainMR(
        pixels, labels, spacing, slice_spacing, origin,
        tuple(round(float(v), 2) for v in centre), round(2 * core_r, 1), hemisphere, stratum,  # type: ignore[arg-type]
    )


def _ventricle_points(sign: int, count: int = 600) -> np.ndarray:
    """Points (x, y, z mm) on the surface of one lateral ventricle, as make_brain_mr draws it."""
    u = np.random.default_rng(0).standard_normal((count, 3))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    bent = 28 * u[:, 1] - 5  # y + 5 + 0.002 y^2 = 28 Y, solved for y
    y = (-1 + np.sqrt(1 + 0.008 * bent)) / 0.004
    return np.stack([sign * 9 + 7 * u[:, 0], y, 12 + 14 * u[:, 2]], axis=1)


def _surface_clearance(point: np.ndarray, axes: tuple[float, float, float]) -> float:
    """About how far (mm) a point lies inside the brain's ellipsoid (a lower bound)."""
    a, b, c = axes
    rho = float(np.sqrt((point[0] / a) ** 2 + (point[1] / b) ** 2 + ((point[2] + 5) / c) ** 2))
    return (1 - rho) * min(axes)


def _planned_centre(rng: np.random.Generator, spec: TumourSpec, axes: tuple[float, float, float],
                    z_range: tuple[float, float]) -> tuple[float, float, float]:
    """The centre of a planned tumour core of radius r: cortical, its core reaching the brain's
    surface (under the skull); periventricular, against the lateral wall of the ventricle on its
    side; deep white matter, clear of both by more than its irregular outline reaches."""
    sign = -1 if spec.hemisphere == "right" else 1
    a, b, c = axes
    r = spec.core_diameter_mm / 2
    ventricle = _ventricle_points(sign)
    best, best_margin = None, -np.inf
    for _ in range(400):
        if spec.location == "cortical":
            # a point on the lateral or upper convexity, moved in along the surface normal
            theta, phi = rng.uniform(-1.1, 1.1), rng.uniform(-0.35, 0.9)
            u = np.array([sign * np.cos(phi) * np.cos(theta), np.cos(phi) * np.sin(theta), np.sin(phi)])
            surface = np.array([a * u[0], b * u[1], c * u[2] - 5])
            normal = u / np.array(axes)
            centre = surface - normal / np.linalg.norm(normal) * (r * rng.uniform(0.7, 0.9) + rng.uniform(0, 1))
            margin = float(np.min(np.linalg.norm(ventricle - centre, axis=1))) - 1.3 * r - 4
        elif spec.location == "periventricular":
            yc, zc = rng.uniform(-22, 10), 12 + rng.uniform(-5, 5)
            half = 7 * np.sqrt(max(0.05, 1 - ((yc + 5 + 0.002 * yc**2) / 28) ** 2 - ((zc - 12) / 14) ** 2))
            centre = np.array([sign * (9 + half + r * rng.uniform(0.85, 1.0) + rng.uniform(0, 1.5)), yc, zc])
            margin = _surface_clearance(centre, axes) - 1.3 * r - 3
        else:
            centre = np.array([sign * rng.uniform(14, 55), rng.uniform(-75, 55), rng.uniform(*z_range)])
            to_ventricle = float(np.min(np.linalg.norm(ventricle - centre, axis=1)))
            margin = min(_surface_clearance(centre, axes) - 1.3 * r - 6, to_ventricle - 1.3 * r - 5)
        if not z_range[0] <= centre[2] <= z_range[1]:
            continue
        if margin >= 0:
            return tuple(float(v) for v in centre)  # type: ignore[return-value]
        if margin > best_margin:
            best, best_margin = centre, margin
    return tuple(float(v) for v in best)  # type: ignore[return-value,union-attr]


def _distances(core: np.ndarray, brain: np.ndarray, ventricles: np.ndarray, spacing: float,
               slice_spacing: float) -> dict[str, float]:
    """The core's nearest distance (mm) to the outside of the brain and to a ventricle."""
    from scipy import ndimage

    sampling = (slice_spacing, spacing, spacing)
    if not core.any():
        return {"core_to_brain_surface_mm": None, "core_to_ventricle_mm": None}  # type: ignore[dict-item]
    box = tuple(slice(s.start, s.stop) for s in ndimage.find_objects(core.astype(np.uint8))[0])
    out = {}
    for key, target in (("core_to_brain_surface_mm", ~brain), ("core_to_ventricle_mm", ventricles)):
        # edt gives each voxel's distance to the nearest zero: zeros at the target
        distance = ndimage.distance_transform_edt(~target, sampling=sampling)
        out[key] = round(max(0.0, float(distance[box][core[box]].min()) - spacing / 2), 1)
    return out
