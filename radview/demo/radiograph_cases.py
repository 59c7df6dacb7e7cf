"""Hard-case plans for the chest radiograph phantom: nodules of every size band, and negatives.

A `RadiographCasePlan` names the nodules to plant (diameter and lung); `make_chest_xray(seed,
plan=...)` places them in the seed's chest, apart from each other. `hard_case_plan(seed)`
draws one for the held-out hard-case seeds: 5-30 mm nodules, 1-3 per image, the first one's
size band cycling with the seed so every band is met, small ones (5-10 mm, fainter than the
training phantoms' smallest of 6 mm) as often as large; and two seeds in five are negative
(no nodule), to count the false flags per image. Each nodule's size band is in its ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (low, high, name) of the nodule diameter in mm, low inclusive. radview.ai.radiograph_strata
# lists the same names in the same order (a test checks that the two agree).
SIZE_BANDS = ((5.0, 10.0, "5-10 mm"), (10.0, 15.0, "10-15 mm"), (15.0, 20.0, "15-20 mm"), (20.0, 30.0, "20-30 mm"))
SIDES = ("right", "left")
NEGATIVE_SEEDS_MOD_5 = (1, 3)  # seed % 5 in these: a radiograph without a nodule


def size_band(diameter_mm: float) -> str:
    """The size band of a nodule's diameter (the bands cover 5-30 mm; outside, the nearest one)."""
    for low, high, name in SIZE_BANDS:
        if low <= diameter_mm < high:
            return name
    return SIZE_BANDS[0][2] if diameter_mm < SIZE_BANDS[0][0] else SIZE_BANDS[-1][2]


@dataclass(frozen=True)
class RadiographNoduleSpec:
    """One nodule to plant: where in its lung is left to the generator."""

    diameter_mm: float
    side: str  # "right" or "left": the patient's side

    def __post_init__(self) -> None:
        if self.side not in SIDES or not 2.0 <= self.diameter_mm <= 40.0:
            raise ValueError(f"unknown or out-of-range nodule: {self}")


@dataclass(frozen=True)
class RadiographCasePlan:
    """The nodules of one hard-case radiograph; none: a negative image."""

    nodules: tuple[RadiographNoduleSpec, ...] = ()


def hard_case_plan(seed: int) -> RadiographCasePlan:
    """The hard-case plan of `seed`, drawn from the seed alone."""
    if seed % 5 in NEGATIVE_SEEDS_MOD_5:
        return RadiographCasePlan(())
    rng = np.random.default_rng([seed, 43])
    count = int(rng.integers(1, 4))
    first = seed % len(SIZE_BANDS)  # the first nodule's band cycles with the seed: every band is met
    nodules = []
    for i in range(count):
        low, high, _ = SIZE_BANDS[first if i == 0 else int(rng.integers(len(SIZE_BANDS)))]
        # log-uniform within the band, rounded to 0.1 mm and kept inside it
        diameter = min(round(float(np.exp(rng.uniform(np.log(low), np.log(high)))), 1), round(high - 0.1, 1))
        nodules.append(RadiographNoduleSpec(diameter, SIDES[int(rng.integers(2))]))
    return RadiographCasePlan(tuple(nodules))
