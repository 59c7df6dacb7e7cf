"""The DICOM codes of RadView's measurements and finding sites, both ways (write and read back).

Measurement keys are the ones findings carry (radview.core.findings); a key without a code here
stays in the PDF and is left out of the SR (the writer says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from radview.core.findings import Code, Finding

# Concept names (SNOMED CT and DICOM, as highdicom's codes spell them)
DIAMETER = Code("81827009", "SCT", "Diameter")
LONG_AXIS = Code("103339001", "SCT", "Long Axis")
SHORT_AXIS = Code("103340004", "SCT", "Short Axis")
VOLUME = Code("118565006", "SCT", "Volume")
ATTENUATION = Code("112031", "DCM", "Attenuation Coefficient")
LENGTH = Code("410668003", "SCT", "Length")
MEAN = Code("373098007", "SCT", "Mean")
MAXIMUM = Code("56851009", "SCT", "Maximum")

MORPHOLOGICALLY_ABNORMAL = Code("49755003", "SCT", "Morphologically abnormal structure")
IMAGING_PROCEDURE = Code("363679005", "SCT", "Imaging procedure")
QUALITATIVE_EVALUATIONS = Code("C0034375", "UMLS", "Qualitative Evaluations")  # TID 1500 row 12
COMMENT = Code("121106", "DCM", "Comment")
LUNG = Code("39607008", "SCT", "Lung")
BRAIN = Code("12738006", "SCT", "Brain")
LEFT = Code("7771000", "SCT", "Left")
RIGHT = Code("24028007", "SCT", "Right")

# UCUM units
MM = Code("mm", "UCUM", "millimeter")
MM3 = Code("mm3", "UCUM", "cubic millimeter")
ML = Code("ml", "UCUM", "milliliter")
HU = Code("[hnsf'U]", "UCUM", "Hounsfield unit")


@dataclass(frozen=True)
class MeasurementCode:
    """How one measurement key is said in an SR: concept name, derivation (or None), unit."""

    key: str
    name: Code
    derivation: Code | None
    unit: Code


MEASUREMENT_CODES = (
    MeasurementCode("mean_diameter_mm", DIAMETER, MEAN, MM),
    MeasurementCode("longest_diameter_mm", DIAMETER, MAXIMUM, MM),
    MeasurementCode("approximate_diameter_mm", DIAMETER, None, MM),
    MeasurementCode("long_axis_mm", LONG_AXIS, None, MM),
    MeasurementCode("short_axis_mm", SHORT_AXIS, None, MM),
    MeasurementCode("length_mm", LENGTH, None, MM),
    MeasurementCode("volume_mm3", VOLUME, None, MM3),
    MeasurementCode("volume_ml", VOLUME, None, ML),
    MeasurementCode("mean_hu", ATTENUATION, MEAN, HU),
)
_BY_KEY = {m.key: m for m in MEASUREMENT_CODES}


def measurement_code(key: str) -> MeasurementCode | None:
    """The SR coding of a finding's measurement key, or None where RadView has none."""
    return _BY_KEY.get(key)


def measurement_key(name: Code, derivation: Code | None, unit: Code) -> str | None:
    """The inverse: a measurement read from an SR back to RadView's key (None if not ours)."""
    for m in MEASUREMENT_CODES:
        same_derivation = (m.derivation is None and derivation is None) or (
            m.derivation is not None and derivation is not None and m.derivation.value == derivation.value)
        if m.name.value == name.value and m.unit.value == unit.value and same_derivation:
            return m.key
    return None


def finding_site(finding: Finding) -> tuple[Code | None, Code | None]:
    """(anatomic location, laterality) from the finding's location: brain findings carry a
    hemisphere, chest findings a side (the patient's)."""
    location = finding.location
    side = (location.get("hemisphere") or location.get("side") or "").lower()
    laterality = LEFT if side.startswith("left") else RIGHT if side.startswith("right") else None
    if "hemisphere" in location:
        return BRAIN, laterality
    if "side" in location or "lobe_region" in location:
        return LUNG, laterality
    return None, laterality
