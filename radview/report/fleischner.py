"""Follow-up of incidental pulmonary nodules: the Fleischner Society 2017 guideline.

Source: MacMahon H. et al., "Guidelines for Management of Incidental Pulmonary Nodules Detected
on CT Images: From the Fleischner Society 2017", Radiology 2017;284(1):228-243 (tables as in
docs/domain.md). Nodule size is the mean of the long and short axes in the same plane,
rounded to the nearest millimetre. Risk (low / high) is the reader's judgement. With several
nodules the largest guides management (the guideline: "the largest or most suspicious").
"""

from __future__ import annotations

from dataclasses import dataclass

APPLICABILITY = ("Fleischner Society 2017 guideline for incidental pulmonary nodules in adults aged 35 and over; "
                 "it does not apply to lung cancer screening, immunocompromised patients or patients with known cancer.")

SOLID = {  # (multiple, risk) -> (< 6 mm, 6-8 mm, > 8 mm)
    (False, "low"): ("No routine follow-up.", "CT at 6-12 months, then consider CT at 18-24 months.",
                     "Consider CT at 3 months, PET/CT or tissue sampling."),
    (False, "high"): ("Optional CT at 12 months.", "CT at 6-12 months, then CT at 18-24 months.",
                      "Consider CT at 3 months, PET/CT or tissue sampling."),
    (True, "low"): ("No routine follow-up.", "CT at 3-6 months, then consider CT at 18-24 months.",
                    "CT at 3-6 months, then consider CT at 18-24 months."),
    (True, "high"): ("Optional CT at 12 months.", "CT at 3-6 months, then at 18-24 months.",
                     "CT at 3-6 months, then at 18-24 months."),
}
SUBSOLID = {  # kind -> (< 6 mm, >= 6 mm)
    "ground-glass": ("No routine follow-up.",
                     "CT at 6-12 months to confirm persistence, then CT every 2 years until 5 years."),
    "part-solid": ("No routine follow-up.",
                   "CT at 3-6 months to confirm persistence; if unchanged and the solid component remains "
                   "< 6 mm, annual CT for 5 years."),
    "multiple": ("CT at 3-6 months; if stable, consider CT at 2 and 4 years.",
                 "CT at 3-6 months; further management based on the most suspicious nodule(s)."),
}


@dataclass(frozen=True)
class GuidelineNodule:
    """One nodule as the guideline sees it: axes in mm and its composition."""

    long_axis_mm: float
    short_axis_mm: float
    composition: str = "solid"  # solid | part-solid | ground-glass

    @property
    def size_mm(self) -> int:
        """Mean of long and short axes rounded to the nearest mm (half up, as a reader rounds)."""
        return int((self.long_axis_mm + self.short_axis_mm) / 2 + 0.5)


def recommendation(nodules: list[GuidelineNodule], risk: str, age_years: int | None = None) -> str:
    """The follow-up sentence for a set of incidental nodules found on one CT, with its source."""
    if risk not in ("low", "high"):
        raise ValueError(f"risk must be 'low' or 'high', not {risk!r}")
    if not nodules:
        return "No pulmonary nodule accepted; no nodule follow-up recommendation."
    if age_years is not None and age_years < 35:
        return f"The patient is {age_years}: the {APPLICABILITY[0].lower() + APPLICABILITY[1:]}"
    guiding = max(nodules, key=lambda n: n.size_mm)
    multiple = len(nodules) > 1
    size = guiding.size_mm
    if guiding.composition == "solid":
        column = 0 if size < 6 else 1 if size <= 8 else 2
        advice = SOLID[(multiple, risk)][column]
        row = f"{'multiple' if multiple else 'single'} solid nodule{'s' if multiple else ''}, {risk} risk"
    else:
        kind = "multiple" if multiple else guiding.composition
        advice = SUBSOLID[kind][0 if size < 6 else 1]
        row = "multiple subsolid nodules" if multiple else f"single {guiding.composition} nodule"
    largest = f"largest {size} mm" if multiple else f"{size} mm"
    return f"{advice} ({row}, {largest}; {APPLICABILITY})"
