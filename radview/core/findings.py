"""Findings: what a model (or a radiologist) reports about one place in a series.

Plain data, no Qt or torch: the AI layer makes them, the viewer draws them, the review edits
them, the report and the SR are written from them. A finding is a suggestion for a radiologist
to verify, never a diagnosis.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum


@dataclass(frozen=True)
class Code:
    """A DICOM coded concept (CodeValue, CodingSchemeDesignator, CodeMeaning)."""

    value: str
    scheme: str
    meaning: str


# The finding types RadView names (SNOMED CT, as pydicom's codedict spells them), defined once.
NODULE = Code("27925004", "SCT", "Nodule")
MASS = Code("4147007", "SCT", "Mass")
NEOPLASM = Code("108369006", "SCT", "Neoplasm")
CLINICAL_FINDING = Code("404684003", "SCT", "Finding")  # pydicom codedict SCT.Finding


class FindingKind(str, Enum):
    """How a finding was found and measured; it decides how the report names and sizes it."""

    NODULE_CT = "nodule_ct"  # segmented in 3D on CT: long and short axis, volume, mean HU (Fleischner applies)
    NODULE_RADIOGRAPH = "nodule_radiograph"  # on a projection image: an approximate diameter only
    LESION_VOLUME = "lesion_volume"  # a segmented volume: longest diameter and volume
    READER = "reader"  # placed by the reader (a marker, a ruler, an ROI)


@dataclass
class Finding:
    """One finding with where it is, how big, how sure, and where it came from.

    centre_lps_mm: patient position (DICOM LPS). slice_index: 0-based slice of the series'
    volume that shows the centre (the report cites it as image slice_index + 1 with the
    instance number where known). measurements use units in their names (mm, mm3, ml, hu).
    mask_label: the label value of this finding in its model's mask layer (0 if none).
    """

    id: str
    finding_type: Code
    series_instance_uid: str
    model_id: str
    model_version: str
    confidence: float
    centre_lps_mm: tuple[float, float, float]
    slice_index: int
    measurements: dict[str, float] = field(default_factory=dict)
    location: dict[str, str] = field(default_factory=dict)  # side, zone, lobe region, hemisphere
    attributes: dict[str, str] = field(default_factory=dict)  # e.g. composition: solid / part-solid
    mask_label: int = 0
    instance_number: int | None = None
    kind: FindingKind = FindingKind.READER

    @property
    def size_mm(self) -> float:
        """The size a reader quotes: mean axial diameter, else longest, else approximate, else 0."""
        m = self.measurements
        return float(m.get("mean_diameter_mm") or m.get("longest_diameter_mm") or m.get("approximate_diameter_mm") or 0.0)

    def to_dict(self) -> dict:
        """JSON-ready dict (findings.json)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Finding:
        """The inverse of to_dict (JSON turns tuples into lists; they are made tuples again)."""
        fields = dict(data)
        fields["finding_type"] = Code(**fields["finding_type"])
        fields["centre_lps_mm"] = tuple(float(c) for c in fields["centre_lps_mm"])
        fields["kind"] = FindingKind(fields["kind"]) if "kind" in fields else _saved_kind(fields)
        finding = cls(**fields)
        finding.check_numbers()
        return finding

    def check_numbers(self) -> None:
        """ValueError naming the field when a number a reader would read is NaN, infinite or out of
        range (a damaged or hand-edited review must not print "approximately nan mm")."""
        numbers = {"confidence": self.confidence, **{f"centre_lps_mm[{n}]": v for n, v in enumerate(self.centre_lps_mm)},
                   **{f"measurements.{k}": v for k, v in self.measurements.items()}}
        for name, value in numbers.items():
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"finding {self.id}: {name} is {value!r}, not a finite number")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"finding {self.id}: confidence {self.confidence} is outside 0-1")
        negative = [k for k, v in self.measurements.items() if k.endswith(("_mm", "_mm3", "_ml")) and v < 0]
        if negative:
            raise ValueError(f"finding {self.id}: {negative[0]} is negative")


def _saved_kind(fields: dict) -> FindingKind:
    """The kind of a finding saved before findings had one, from what was measured."""
    measured = fields.get("measurements", {})
    if fields.get("model_id") == "manual":
        return FindingKind.READER
    if "long_axis_mm" in measured:
        return FindingKind.NODULE_CT
    if "approximate_diameter_mm" in measured:
        return FindingKind.NODULE_RADIOGRAPH
    return FindingKind.LESION_VOLUME


def describe_size(finding: Finding) -> str:
    """The size as a reader quotes it: diameters in mm, volumes in mL or mm3."""
    m = finding.measurements
    parts = []
    if "mean_diameter_mm" in m:
        parts.append(f"{m['mean_diameter_mm']:.0f} mm")
    elif "longest_diameter_mm" in m:
        parts.append(f"{m['longest_diameter_mm']:.0f} mm")
    elif "approximate_diameter_mm" in m:
        parts.append(f"~{m['approximate_diameter_mm']:.0f} mm")
    elif "length_mm" in m:
        parts.append(f"{m['length_mm']:.0f} mm")
    if "volume_ml" in m:
        parts.append(f"{m['volume_ml']:.1f} mL")
    elif "volume_mm3" in m:
        parts.append(f"{m['volume_mm3']:.0f} mm³")
    return ", ".join(parts)
