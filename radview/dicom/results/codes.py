"""The DICOM codes of RadView's measurements and finding sites, both ways (write and read back).

Measurement keys are the ones findings carry (radview.core.findings); a key without a code here
stays in the PDF and is left out of the SR (the writer says so).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code as DictionaryCode

from radview.core.findings import Code, Finding


def from_dictionary(code: DictionaryCode) -> Code:
    """An entry of pydicom's code dictionary as RadView's Code."""
    return Code(str(code.value), str(code.scheme_designator), str(code.meaning))


# Concept names, from pydicom's code dictionary (never typed: a typed meaning drifts from its value)
DIAMETER = from_dictionary(codes.SCT.Diameter)
LONG_AXIS = from_dictionary(codes.SCT.LongAxis)
SHORT_AXIS = from_dictionary(codes.SCT.ShortAxis)
VOLUME = from_dictionary(codes.SCT.Volume)
ATTENUATION = from_dictionary(codes.DCM.AttenuationCoefficient)
LENGTH = from_dictionary(codes.SCT.Length)
MEAN = from_dictionary(codes.SCT.Mean)
MAXIMUM = from_dictionary(codes.SCT.Maximum)

MORPHOLOGICALLY_ABNORMAL = from_dictionary(codes.SCT.MorphologicallyAbnormalStructure)
IMAGING_PROCEDURE = from_dictionary(codes.SCT.ImagingProcedure)
COMMENT = from_dictionary(codes.DCM.Comment)
LUNG = from_dictionary(codes.SCT.Lung)
BRAIN = from_dictionary(codes.SCT.Brain)
LEFT = from_dictionary(codes.SCT.Left)
RIGHT = from_dictionary(codes.SCT.Right)

# UCUM units
MM = from_dictionary(codes.UCUM.Millimeter)
MM3 = from_dictionary(codes.UCUM.CubicMillimeter)
HU = from_dictionary(codes.UCUM.HounsfieldUnit)

# Typed because neither pydicom's dictionary nor highdicom has them (tests/workflow/test_dicom_results.py
# lists them as the only codes allowed outside the dictionary).
QUALITATIVE_EVALUATIONS = Code("C0034375", "UMLS", "Qualitative Evaluations")  # TID 1500 row 12
ML = Code("ml", "UCUM", "milliliter")


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
