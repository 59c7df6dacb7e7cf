"""Values of a pydicom data set as plain Python, None (or "") where absent or not what the VR promises.

The header reader, the multi-frame reader and the mosaic reader share these. pydicom parses lazily
and raises on first access of a malformed element; the callers guard that (radview.dicom.header).
"""

from __future__ import annotations

import pydicom
from pydicom.dataset import Dataset


def ds_text(ds: Dataset, keyword: str) -> str:
    """A value as stripped text ("" when absent)."""
    value = ds.get(keyword, "")
    return "" if value is None else str(value).strip()


def ds_int(ds: Dataset, keyword: str) -> int | None:
    """An integer value (the first of several), else None."""
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        return int(value[0] if isinstance(value, (list, pydicom.multival.MultiValue)) else value)
    except (TypeError, ValueError):
        return None


def ds_float(ds: Dataset, keyword: str) -> float | None:
    """A number (the first of several), else None."""
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        if not value:
            return None
        value = value[0]  # multi-valued WindowCenter: the first is the default
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def ds_floats(ds: Dataset, keyword: str, count: int) -> tuple[float, ...] | None:
    """Exactly `count` numbers, else None."""
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    return numbers if len(numbers) == count else None


def ds_item(ds: Dataset | None, sequence: str) -> Dataset | None:
    """The first item of a sequence, else None."""
    if ds is None:
        return None
    seq = ds.get(sequence)
    return seq[0] if seq else None


def ds_joined(ds: Dataset, keyword: str) -> str:
    """A multi-valued CS/SH as DICOM writes it ("SE\\IR"); a single value as it is."""
    value = ds.get(keyword)
    if value is None or value == "":
        return ""
    if isinstance(value, (list, pydicom.multival.MultiValue)):
        return "\\".join(str(v).strip() for v in value)
    return str(value).strip()


def present(*values: float | None) -> float | None:
    """The first value that is not None (0 counts: a b-value of 0 is a value, unlike with `or`)."""
    return next((v for v in values if v is not None), None)
