"""A synthetic PA chest radiograph (DX, for presentation) with nodules of 6-30 mm.

Pixel values grow with the X-ray attenuation along each ray (bone white, lungs dark), the way a
MONOCHROME2 for-presentation image shows it. Attenuation is summed from analytic thicknesses.

`make_chest_xray(seed, plan=RadiographCasePlan(...))` draws a hard case instead
(radview.demo.radiograph_cases): the plan's nodules (diameter, lung; none for a negative image)
in the seed's chest, apart from each other, each with its size band in the ground truth.
Without a plan the phantom of a seed is what it always was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from radview.demo.radiograph_cases import SIDES, RadiographCasePlan, size_band


@dataclass
class PlantedOpacity:
    """A nodule on the radiograph: centre (row, col) in pixels and diameter in mm."""

    centre_row: float
    centre_col: float
    diameter_mm: float
    side: str
    zone: str  # upper / middle / lower third of the lung field
    size_band: str | None = None  # a hard case's (radview.demo.radiograph_cases)


@dataclass
class ChestXray:
    pixels: np.ndarray  # (rows, cols) uint16, 12 bits
    nodule_mask: np.ndarray  # (rows, cols) uint8, nodule i has label i
    pixel_spacing_mm: float
    nodules: list[PlantedOpacity] = field(default_factory=list)
    photometric: str = "MONOCHROME2"

    def ground_truth(self) -> dict:
        return {
            "imager_pixel_spacing_mm": self.pixel_spacing_mm,
            "photometric_interpretation": self.photometric,
            "nodules": [{k: v for k, v in asdict(n).items() if k != "size_band" or v is not None} for n in self.nodules],
        }


def _thickness(x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float) -> np.ndarray:
    """Path length (in units of the semi-axis) through an ellipsoid seen face on: 2*sqrt(1-r^2)."""
    r2 = ((x - cx) / a) ** 2 + ((y - cy) / b) ** 2
    return 2 * np.sqrt(np.clip(1 - r2, 0, None))


def make_chest_xray(seed: int, size: int = 2000, plan: RadiographCasePlan | None = None) -> ChestXray:
    """A PA chest radiograph phantom; image x = patient's left on the viewer's right. plan: a
    hard case's nodules (or none) in the seed's chest instead of the seed's own."""
    rng = np.random.default_rng([seed, 2])
    spacing = round(float(rng.uniform(0.17, 0.21)), 4)
    coords = (np.arange(size, dtype=np.float32) - size / 2) * spacing
    x, y = coords[np.newaxis, :], coords[:, np.newaxis]  # mm from centre; y grows downward (feet)
    w = rng.uniform(140, 180)
    att = 1.2 * _thickness(x, y, 0, 40, w, 260) * w / 100  # soft tissue of the trunk
    lungs = []
    for side, sign in (("right", -1), ("left", 1)):
        cx, cy = sign * w * rng.uniform(0.45, 0.55), rng.uniform(-40, -10)
        a, b = w * rng.uniform(0.33, 0.4), rng.uniform(120, 150)
        lungs.append((side, cx, cy, a, b))
        att -= 2.4 * _thickness(x, y, cx, cy, a, b) * a / 100
    att += 0.8 * _thickness(x, y, w * 0.12, 45, w * 0.35, 70) * 0.5  # heart
    att += 1.5 * (np.abs(x) < 14) * (y > -200)  # spine
    for k in range(10):  # posterior ribs: arcs across each lung
        yk = -150 + k * 26 + rng.uniform(-3, 3)
        for sign in (-1, 1):
            curve = yk + 0.0025 * (x - sign * 20) ** 2 * (sign * x > 0)
            att += 0.35 * ((np.abs(y - curve) < 5) & (sign * x > 10) & (np.abs(x) < w * 0.95))
    for sign in (-1, 1):  # clavicles
        att += 0.7 * ((np.abs(y - (-175 + 0.12 * np.abs(x))) < 6) & (sign * x > 10) & (np.abs(x) < w * 0.8))
    mask = np.zeros((size, size), np.uint8)
    nodules = []
    specs = [None] * int(rng.integers(0, 4)) if plan is None else list(plan.nodules)
    placed: list[tuple[float, float, float]] = []  # a planned nodule's (x, y, radius) in mm
    for label, spec in enumerate(specs, start=1):
        side, cx, cy, a, b = lungs[int(rng.integers(2)) if spec is None else SIDES.index(spec.side)]
        for _ in range(50 if spec is None else 200):
            px, py = cx + rng.uniform(-0.6, 0.6) * a, cy + rng.uniform(-0.6, 0.6) * b
            # a planned nodule keeps 5 mm clear of the others: each is its own reference
            apart = spec is None or all(np.hypot(px - qx, py - qy) > spec.diameter_mm / 2 + qr + 5 for qx, qy, qr in placed)
            if ((px - cx) / a) ** 2 + ((py - cy) / b) ** 2 < 0.5 and apart:
                break
        diameter = float(np.round(np.exp(rng.uniform(np.log(6), np.log(30))), 1)) if spec is None else spec.diameter_mm
        r = diameter / 2
        placed.append((px, py, r))
        att += rng.uniform(0.25, 0.45) * _thickness(x, y, px, py, r, r) * r / 10
        mask[((x - px) ** 2 + (y - py) ** 2) <= r * r] = label
        third = (py - (cy - b)) / (2 * b)
        nodules.append(PlantedOpacity(
            round(float(py / spacing + size / 2), 1), round(float(px / spacing + size / 2), 1), diameter, side,
            "upper" if third < 1 / 3 else "middle" if third < 2 / 3 else "lower",
            None if spec is None else size_band(diameter),
        ))
    att = att - att.min()
    signal = 1 - np.exp(-att * rng.uniform(0.9, 1.3))
    signal += rng.standard_normal(signal.shape, dtype=np.float32) * rng.uniform(0.006, 0.015)
    pixels = np.clip(signal * 3600 + 200, 0, 4095).astype(np.uint16)
    photometric = "MONOCHROME2"
    if rng.random() < 0.25:  # some detectors store white-is-low (MONOCHROME1)
        pixels = (4095 - pixels).astype(np.uint16)
        photometric = "MONOCHROME1"
    return ChestXray(pixels, mask, spacing, nodules, photometric)
