"""Augmentation for 2D training batches (numpy, seeded): flips, small rotations and scaling,
intensity and contrast changes, noise. Geometric changes are applied to image and labels alike."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def augment(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator, recipe: dict) -> tuple[np.ndarray, np.ndarray]:
    """image (C, H, W) float32, labels (H, W) -> augmented copies of both."""
    if rng.random() < recipe.get("flip_probability", 0.5):
        image, labels = image[:, :, ::-1], labels[:, ::-1]  # left-right: tumours and nodules on either side
    degrees = recipe.get("rotate_degrees", 10.0)
    scale_range = recipe.get("scale_range", 0.1)
    if degrees or scale_range:
        angle = np.radians(rng.uniform(-degrees, degrees))
        scale = 1.0 + rng.uniform(-scale_range, scale_range)
        matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]]) / scale
        centre = (np.array(labels.shape) - 1) / 2
        offset = centre - matrix @ centre
        image = np.stack([ndimage.affine_transform(c, matrix, offset, order=1, mode="nearest") for c in image])
        labels = ndimage.affine_transform(labels, matrix, offset, order=0, mode="constant")
    gain = 1.0 + rng.uniform(-recipe.get("intensity_range", 0.1), recipe.get("intensity_range", 0.1))
    gamma = np.exp(rng.uniform(-recipe.get("log_gamma_range", 0.2), recipe.get("log_gamma_range", 0.2)))
    low = image.min()
    image = (np.sign(image - low) * np.abs(image - low) ** gamma + low) * gain
    image = image + rng.normal(0, recipe.get("noise_sd", 0.03), image.shape).astype(np.float32)
    return np.ascontiguousarray(image, dtype=np.float32), np.ascontiguousarray(labels)
