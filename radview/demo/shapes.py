"""Soft-edged shapes for phantoms: values blend over one voxel at the border (partial volume)."""

from __future__ import annotations

import numpy as np


def soft_inside(signed_distance_mm: np.ndarray, edge_mm: float) -> np.ndarray:
    """Fraction inside a shape (0..1) from a signed distance (negative inside)."""
    return np.clip(0.5 - signed_distance_mm / max(edge_mm, 1e-6), 0.0, 1.0).astype(np.float32)


def ellipse_distance(x: np.ndarray, y: np.ndarray, cx: float, cy: float, a: float, b: float) -> np.ndarray:
    """Approximate signed distance (mm) to an axis-aligned ellipse with semi-axes a, b."""
    r = np.sqrt(((x - cx) / a) ** 2 + ((y - cy) / b) ** 2)
    return (r - 1.0) * min(a, b)


def lobulation(rng: np.random.Generator, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """Random low-order harmonics that make a sphere lumpy: (amplitudes, phases) for 3 orders."""
    return rng.uniform(0, strength, 3), rng.uniform(0, 2 * np.pi, 3)


def lumpy_radius(angle: np.ndarray, radius: float, amplitudes: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """Radius of a lobulated outline as a function of in-plane angle."""
    modulation = sum(a * np.cos((k + 2) * angle + p) for k, (a, p) in enumerate(zip(amplitudes, phases)))
    return radius * (1.0 + modulation)
