"""What every RadView result object shares: who made it, new UIDs, the source headers, writing."""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

import radview
from radview.core.atomic import write_bytes_atomic
from radview.core.volume import Volume

MANUFACTURER = "RadView"
MODEL_NAME = "RadView review workstation"
SOFTWARE_VERSION = radview.__version__
DEVICE_SERIAL_NUMBER = "1"  # SEG's Enhanced General Equipment needs one; RadView is software

# Series numbers of RadView's derived series: high, so they sort after the acquired ones.
SEG_SERIES_NUMBER = 9001
SR_SERIES_NUMBER = 9002
PDF_SERIES_NUMBER = 9003
KEY_IMAGE_SERIES_NUMBER = 9004


class ResultWriteError(ValueError):
    """A result object that cannot be written; the message says which and why."""


def hashed_uid(*parts: object) -> str:
    """A UID fixed by `parts` (2.25 + 128 bits of SHA-256, PS3.5 B.2): the same finding keeps its
    tracking UID across exports."""
    text = "/".join(["radview", *map(str, parts)])
    return "2.25." + str(int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big"))


def new_uid() -> str:
    """A fresh random UID for a new series or instance."""
    return generate_uid(prefix=None)


# Patient and General Study attributes of type 2 (present, maybe empty): files from the field
# sometimes leave them out, and highdicom reads them from the source image unguarded
TYPE2_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                  "ReferringPhysicianName", "StudyID", "AccessionNumber")


def source_headers(volume: Volume) -> list[Dataset]:
    """The headers (no pixel data) of the files behind `volume`, one per file, in slice order,
    with absent type 2 patient and study attributes added empty (in memory: the file is untouched).

    A multi-frame source gives one dataset for all its frames."""
    seen: dict[str, Dataset] = {}
    for ref in volume.slices:
        if ref.path not in seen:
            try:
                header = pydicom.dcmread(ref.path, stop_before_pixels=True)
            except Exception as error:  # pydicom raises many types on a changed or broken file
                raise ResultWriteError(f"{ref.path}: the source image cannot be read again ({error})") from error
            for keyword in TYPE2_KEYWORDS:
                if keyword not in header:
                    setattr(header, keyword, "")
            seen[ref.path] = header
    return list(seen.values())


NAME_PREFIXES = {"dr", "dr.", "prof", "prof.", "mr", "mr.", "ms", "ms.", "mrs", "mrs."}


def person_name(text: str) -> str:
    """A reader's name as typed ("Dr Jane Roe") in DICOM PN form ("Roe^Jane^^Dr"); a name
    already holding carets is kept."""
    text = " ".join(text.split())
    if "^" in text or not text:
        return text
    words = text.split(" ")
    prefix = words.pop(0) if len(words) > 1 and words[0].lower() in NAME_PREFIXES else ""
    family = words.pop() if words else ""
    return "^".join([family, " ".join(words), "", prefix]).rstrip("^") + ("^" if not words and not prefix else "")


def content_date_time(when: datetime | None = None) -> tuple[str, str]:
    """(ContentDate DA, ContentTime TM) of now, local time."""
    when = when or datetime.now()
    return when.strftime("%Y%m%d"), when.strftime("%H%M%S")


def save_dataset(ds: Dataset, path: Path) -> Path:
    """Write `ds` as a DICOM file (Part 10, with preamble) atomically."""
    from io import BytesIO

    buffer = BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    write_bytes_atomic(Path(path), buffer.getvalue())
    return Path(path)


def coded(code):
    """A radview.core.findings.Code as highdicom's CodedConcept."""
    import highdicom as hd

    return hd.sr.CodedConcept(code.value, code.scheme, code.meaning)
