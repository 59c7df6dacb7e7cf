"""A synthetic brain MRI with FLAIR-like contrast: scalp, skull, CSF, grey and white matter,
ventricles, and a tumour with surrounding oedema.

FLAIR: CSF is dark (nulled), white matter darker than grey matter, oedema and tumour bright,
cortical bone dark, scalp fat bright. Values are arbitrary MR units with a bias field and
Rician noise, as MR has no fixed scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class BrainMR:
    pixels: np.ndarray  # (slices, rows, cols) uint16
    labels: np.ndarray  # (slices, rows, cols) uint8: 1 tumour core, 2 oedema
    pixel_spacing_mm: float
    slice_spacing_mm: float
    origin_mm: tuple[float, float, float]
    tumour_centre_mm: tuple[float, float, float]
    tumour_diameter_mm: float
    hemisphere: str

    def ground_truth(self) -> dict:
        voxel_ml = self.pixel_spacing_mm**2 * self.slice_spacing_mm / 1000
        return {
            "pixel_spacing_mm": self.pixel_spacing_mm,
            "slice_spacing_mm": self.slice_spacing_mm,
            "origin_mm": list(self.origin_mm),
            "tumour": {
                "centre_mm": list(self.tumour_centre_mm),
                "core_diameter_mm": self.tumour_diameter_mm,
                "hemisphere": self.hemisphere,
                "core_volume_ml": round(float(np.count_nonzero(self.labels == 1)) * voxel_ml, 2),
                "whole_volume_ml": round(float(np.count_nonzero(self.labels > 0)) * voxel_ml, 2),
            },
        }


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], scale: int) -> np.ndarray:
    """Low-frequency noise in -1..1: coarse random grid upsampled by repetition and box blur."""
    coarse = rng.uniform(-1, 1, tuple(max(2, s // scale + 2) for s in shape)).astype(np.float32)
    fine = coarse
    for axis, s in enumerate(shape):
        fine = np.repeat(fine, scale, axis=axis).take(np.arange(s), axis=axis)
    for axis in range(len(shape)):
        fine = (fine + np.roll(fine, scale // 2, axis) + np.roll(fine, -(scale // 2), axis)) / 3
    return fine


def make_brain_mr(seed: int, slices: int = 36, size: int = 256) -> BrainMR:
    """An axial FLAIR-like brain phantom, different for each seed."""
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
    for sign in (-1, 1):  # lateral ventricles: two curved ellipsoids either side of the midline
        v = np.sqrt(((x - sign * 9) / 7) ** 2 + ((y + 5 + 0.002 * (y**2)) / 28) ** 2 + ((z - 12) / 14) ** 2)
        img[(v < 1) & brain] = 45
    img[(deep < 1) & brain & (img > 100)] = 400  # deep grey nuclei
    hemisphere = "right" if rng.random() < 0.5 else "left"
    sign = -1 if hemisphere == "right" else 1  # LPS: +x is the patient's left
    centre = (sign * rng.uniform(22, 42), rng.uniform(-45, 40), rng.uniform(-5, 30))
    core_r = rng.uniform(5, 20)
    d = np.sqrt((x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2)
    irregular = _smooth_noise(rng, (slices, size, size), 12)
    core = (d < core_r * (1 + 0.25 * irregular)) & brain
    oedema = (d < core_r + rng.uniform(6, 20) * (1 + 0.6 * irregular)) & brain & ~core & (img > 100)
    img[oedema] = rng.uniform(620, 760)
    img[core] = rng.uniform(700, 880) + 120 * irregular[core]
    labels = np.zeros((slices, size, size), np.uint8)
    labels[core] = 1
    labels[oedema] = 2
    bias = 1 + 0.15 * _smooth_noise(rng, (slices, size, size), 64)
    sigma = rng.uniform(8, 20)
    real = img * bias + rng.standard_normal(img.shape, dtype=np.float32) * sigma
    imag = rng.standard_normal(img.shape, dtype=np.float32) * sigma
    pixels = np.clip(np.sqrt(real**2 + imag**2), 0, 4095).astype(np.uint16)  # Rician magnitude
    return BrainMR(
        pixels, labels, spacing, slice_spacing, origin,
        tuple(round(float(v), 2) for v in centre), round(2 * core_r, 1), hemisphere,  # type: ignore[arg-type]
    )
