"""Hard-case plans for the chest CT phantom: the nodules and acquisitions readers meet.

A `NoduleCasePlan` names the acquisition (pixel spacing, slice spacing and thickness, dose) and
the nodules to plant (size, composition, location, margin); `make_chest_ct(seed, plan=...)`
places and draws them. `hard_case_plan(seed)` draws one for the held-out hard-case seeds:
juxtapleural, juxtavascular and isolated nodules; solid, part-solid and ground-glass; 3-35 mm
(masses over 30 mm included); smooth, lobulated and spiculated; 0.625-5 mm slices, 0.5-0.9 mm
pixels, standard and low dose; and scans with no nodule.

The strata follow LUNA16 (Setio et al. 2017): nodules under 4 mm are not reference nodules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# (low, high, name), low inclusive. The same bands as radview.ai.metrics.SIZE_BANDS (the demo
# and the AI service may not import each other; a test checks that the two agree).
SIZE_BANDS = ((4.0, 6.0, "4-6 mm"), (6.0, 10.0, "6-10 mm"), (10.0, 20.0, "10-20 mm"), (20.0, math.inf, "20+ mm"))
UNDER_4_MM = "under 4 mm"
COMPOSITIONS = ("solid", "part-solid", "ground-glass")
LOCATIONS = ("juxtapleural", "juxtavascular", "isolated")
MARGINS = ("smooth", "lobulated", "spiculated")

# slice spacings the hard seeds cycle through: every 6 consecutive seeds hold each once;
# 5 mm lies outside the ct-nodule card's input rules (slices of 0.6-2.5 mm) on purpose
SLICE_SPACINGS_MM = (0.625, 1.25, 2.5, 1.0, 5.0, 2.0)
MAX_SLICES = 320  # thin-slice scans cover less of the chest rather than cost more per scan
# (low, high, probability) of a nodule's diameter in mm
DIAMETER_RANGES = ((3.0, 4.0, 0.06), (4.0, 6.0, 0.18), (6.0, 10.0, 0.22), (10.0, 20.0, 0.26), (20.0, 30.0, 0.14),
                   (30.0, 35.0, 0.14))


def size_band(diameter_mm: float) -> str:
    """The LUNA16-like size band of a diameter; UNDER_4_MM below the reference size."""
    for low, high, name in SIZE_BANDS:
        if low <= diameter_mm < high:
            return name
    return UNDER_4_MM


@dataclass(frozen=True)
class NoduleSpec:
    """One nodule to plant: where it is placed is left to the generator."""

    diameter_mm: float
    composition: str  # one of COMPOSITIONS
    location: str  # one of LOCATIONS
    margin: str = "smooth"  # one of MARGINS


@dataclass(frozen=True)
class NoduleCasePlan:
    """An acquisition and the nodules of one hard-case phantom."""

    pixel_spacing_mm: float
    slice_spacing_mm: float
    slice_thickness_mm: float
    slices: int
    noise_hu: float
    dose: str  # "standard" or "low"
    nodules: tuple[NoduleSpec, ...] = ()

    def __post_init__(self) -> None:
        for spec in self.nodules:
            if spec.composition not in COMPOSITIONS or spec.location not in LOCATIONS or spec.margin not in MARGINS:
                raise ValueError(f"unknown nodule kind: {spec}")


def sub_slice_offsets_mm(thickness_mm: float) -> list[float]:
    """Where a slice of this thickness is sampled (mm from its centre), averaged for partial
    volume along z. Slices up to 1.5 mm are sampled once, as the training phantoms are; thicker
    ones at about 1 mm steps, an odd count so one sample lies at the centre (the labels')."""
    if thickness_mm <= 1.5:
        return [0.0]
    count = math.ceil(thickness_mm) | 1
    step = thickness_mm / count
    return [(i - count // 2) * step for i in range(count)]


def hard_case_plan(seed: int, max_slices: int = MAX_SLICES) -> NoduleCasePlan:
    """The hard-case plan of `seed`: acquisition and nodules drawn from the seed alone."""
    rng = np.random.default_rng([seed, 31])
    spacing = SLICE_SPACINGS_MM[seed % len(SLICE_SPACINGS_MM)]
    # overlapping reconstruction at the thinnest spacing now and then, as scanners offer
    thickness = 1.25 if spacing == 0.625 and rng.random() < 0.5 else spacing
    low_dose = rng.random() < 0.4
    noise = rng.uniform(35, 60) if low_dose else rng.uniform(8, 25)
    slices = int(np.clip(round(rng.uniform(250, 300) / spacing), 48, max_slices))
    negative = seed % 5 == 2  # every fifth seed has no nodule
    nodules = () if negative else _hard_nodules(rng, seed)
    return NoduleCasePlan(round(float(rng.uniform(0.5, 0.9)), 3), spacing, thickness, slices, round(float(noise), 1),
                          "low" if low_dose else "standard", nodules)


def _hard_nodules(rng: np.random.Generator, seed: int) -> tuple[NoduleSpec, ...]:
    """3-5 nodules; locations in turn (balanced over seeds), at most one over 20 mm per scan."""
    specs = []
    count = int(rng.integers(3, 6))
    probabilities = np.array([p for _, _, p in DIAMETER_RANGES])
    for i in range(count):
        choices = probabilities.copy()
        if any(s.diameter_mm >= 20 for s in specs):
            choices[[j for j, (low, _, _) in enumerate(DIAMETER_RANGES) if low >= 20]] = 0  # room in the lungs
        low, high, _ = DIAMETER_RANGES[int(rng.choice(len(choices), p=choices / choices.sum()))]
        diameter = round(float(np.exp(rng.uniform(np.log(low), np.log(high)))), 1)
        specs.append(NoduleSpec(diameter, _composition(rng, diameter), LOCATIONS[(seed + i) % 3], "smooth"))
    return tuple(NoduleSpec(s.diameter_mm, s.composition, s.location, _margin(rng, s)) for s in specs)


def _composition(rng: np.random.Generator, diameter_mm: float) -> str:
    """Solid most often; part-solid needs room for a solid core (6 mm and more); large masses are rarely ground glass."""
    if diameter_mm < 6:
        return "solid" if rng.random() < 0.65 else "ground-glass"
    ground_glass = 0.1 if diameter_mm >= 20 else 0.25
    return str(rng.choice(COMPOSITIONS, p=[0.7 - ground_glass, 0.3, ground_glass]))


def _margin(rng: np.random.Generator, spec: NoduleSpec) -> str:
    """Spiculation on solid and part-solid nodules of 6 mm and more (ground glass rarely spiculates)."""
    if spec.composition == "ground-glass" or spec.diameter_mm < 6:
        return "smooth" if rng.random() < 0.6 else "lobulated"
    return str(rng.choice(MARGINS, p=[0.35, 0.3, 0.35]))
