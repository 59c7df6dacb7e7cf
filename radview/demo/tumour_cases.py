"""Hard-case plans for the brain MR phantom: tumours of every size and place, and brains with none.

A `TumourCasePlan` names the tumour to plant (core diameter, location, hemisphere, oedema rim)
or none; `make_brain_mr(seed, plan=...)` places and draws it in the seed's brain.
`hard_case_plan(seed)` draws one for the held-out hard-case seeds: cores of 4-45 mm (a small
oedema rim on small tumours), cortical (reaching the cortex under the skull), periventricular
(against a lateral ventricle) and deep white matter (clear of both); every fifth seed has no
tumour. The strata are named in the ground truth (`stratum`: size band of the core, location).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# (low, high, name) of the core diameter in mm, low inclusive. radview.ai.tumour_strata lists the
# same names in the same order (the demo and the AI service may not import each other; a test
# checks that the two agree).
SIZE_BANDS = ((0.0, 10.0, "under 10 mm"), (10.0, 20.0, "10-20 mm"), (20.0, 30.0, "20-30 mm"),
              (30.0, math.inf, "30+ mm"))
LOCATIONS = ("cortical", "periventricular", "deep white matter")
NO_TUMOUR = "no tumour"  # the stratum of a brain without a tumour
HEMISPHERES = ("right", "left")
# the core diameters (mm) each band's tumours are drawn from; deep white matter has room for
# cores up to DEEP_MAX_MM between the cortex and the ventricles
DIAMETER_RANGES = {"under 10 mm": (4.0, 10.0), "10-20 mm": (10.0, 20.0), "20-30 mm": (20.0, 30.0), "30+ mm": (30.0, 45.0)}
DEEP_MAX_MM = 34.0


def size_band(core_diameter_mm: float) -> str:
    """The size band of a tumour core's diameter."""
    return next(name for low, high, name in SIZE_BANDS if low <= core_diameter_mm < high)


@dataclass(frozen=True)
class TumourSpec:
    """One tumour to plant: where exactly is left to the generator (it knows the anatomy)."""

    core_diameter_mm: float
    location: str  # one of LOCATIONS
    hemisphere: str  # "right" or "left"
    oedema_mm: float  # the width of the oedema rim around the core

    def __post_init__(self) -> None:
        if self.location not in LOCATIONS or self.hemisphere not in HEMISPHERES:
            raise ValueError(f"unknown tumour kind: {self}")
        if not 2.0 <= self.core_diameter_mm <= 60.0 or self.oedema_mm < 0:
            raise ValueError(f"tumour out of range: {self}")


@dataclass(frozen=True)
class TumourCasePlan:
    """The tumour of one hard-case brain, or None: a brain without a tumour."""

    tumour: TumourSpec | None = None

    def stratum(self) -> dict[str, str]:
        """{"size_band", "location"} as the ground truth names them."""
        if self.tumour is None:
            return {"size_band": NO_TUMOUR, "location": NO_TUMOUR}
        return {"size_band": size_band(self.tumour.core_diameter_mm), "location": self.tumour.location}


def hard_case_plan(seed: int) -> TumourCasePlan:
    """The hard-case plan of `seed`, drawn from the seed alone. Location and size band cycle with
    the seed (every 12 consecutive seeds hold each pair once, less those without a tumour)."""
    if seed % 5 == 2:  # every fifth seed: a brain with no tumour
        return TumourCasePlan(None)
    rng = np.random.default_rng([seed, 41])
    location = LOCATIONS[seed % 3]
    band = SIZE_BANDS[(seed // 3) % len(SIZE_BANDS)][2]
    low, high = DIAMETER_RANGES[band]
    if location == "deep white matter":
        high = min(high, DEEP_MAX_MM)
    # rounded to 0.1 mm, and kept inside its band
    diameter = min(round(float(np.exp(rng.uniform(np.log(low), np.log(high)))), 1), round(high - 0.1, 1))
    r = diameter / 2
    # oedema grows with the tumour: a thin rim on small ones, up to about a core radius on large ones
    oedema = round(float(rng.uniform(1.5, 3.0) + r * rng.uniform(0.2, 0.8)), 1)
    hemisphere = HEMISPHERES[int(rng.integers(2))]
    return TumourCasePlan(TumourSpec(diameter, location, hemisphere, oedema))
