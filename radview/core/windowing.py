"""Window/level: which grey values a display shows, and the presets a radiologist expects.

Width and level (centre) are in the volume's values: HU on CT (docs/domain.md). MR and
radiographs have no fixed scale, so their default comes from the DICOM header
(WindowCenter/WindowWidth) or a percentile window of the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_WIDTH = 1.0


@dataclass(frozen=True)
class WindowLevel:
    """A display window: values below level - width/2 show black, above level + width/2 white."""

    width: float
    level: float
    name: str = ""

    @property
    def low(self) -> float:
        return self.level - self.width / 2

    @property
    def high(self) -> float:
        return self.level + self.width / 2

    def dragged(self, d_width: float, d_level: float) -> WindowLevel:
        """A new window after a mouse drag; the width never drops below MIN_WIDTH."""
        return WindowLevel(max(MIN_WIDTH, self.width + d_width), self.level + d_level)


# Number-key presets on CT, in the order of keys 1..5 (docs/domain.md, "Window presets").
CT_PRESETS: tuple[WindowLevel, ...] = (
    WindowLevel(1500, -600, "Lung"),
    WindowLevel(350, 40, "Mediastinum"),
    WindowLevel(2000, 400, "Bone"),
    WindowLevel(80, 40, "Brain"),
    WindowLevel(400, 50, "Abdomen"),
)


def percentile_window(values: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5) -> WindowLevel:
    """A window spanning the low..high percentiles of `values` (any shape), sampled for speed."""
    flat = values.reshape(-1)
    step = max(1, flat.size // 262_144)
    low, high = np.percentile(flat[::step], [low_pct, high_pct])
    return WindowLevel(float(max(high - low, MIN_WIDTH)), float((low + high) / 2), "Auto")


def to_uint8(values: np.ndarray, window: WindowLevel, inverted: bool = False) -> np.ndarray:
    """Map values through a window to 0..255 grey (thumbnails, key images)."""
    scaled = (values.astype(np.float32) - window.low) * (255.0 / window.width)
    grey = np.clip(scaled, 0, 255).astype(np.uint8)
    return 255 - grey if inverted else grey

