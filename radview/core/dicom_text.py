"""DICOM values as a reader sees them, the same on screen, in the report and in the PDF:
dates (DA) as YYYY-MM-DD and person names (PN) as "Family, Given Middle"."""

from __future__ import annotations


def dicom_date(value: str) -> str:
    """DICOM DA (YYYYMMDD) as YYYY-MM-DD; anything else as given."""
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if len(value) == 8 and value.isdigit() else value


def display_name(value: str) -> str:
    """DICOM PN 'Family^Given^Middle^Prefix^Suffix' as 'Family, Given Middle' ("" when empty)."""
    family, _, rest = value.partition("^")
    given = " ".join(p for p in rest.split("^")[:2] if p)
    family = family.strip()
    return f"{family}, {given}" if family and given else family or given
