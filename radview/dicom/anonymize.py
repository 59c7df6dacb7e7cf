"""De-identification: DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile, with
the Retain Longitudinal Temporal Information with Modified Dates option.

The attribute actions (D, Z, X, U and the combined ones) are the standard's table as the
dicom-anonymizer package ships it (its 2026c edition); this module applies them recursively,
so a UID inside any sequence (SEG source references, SR evidence and content) is remapped with
the same map as the instance it names, and SEG / SR references stay valid. Dates are shifted by
one offset per patient (intervals are kept); times are kept. Private tags are removed.
Instances that carry identity in their pixels or documents are left out and listed: images
with BurnedInAnnotation YES, Secondary Captures and encapsulated documents. The source files
are only read.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from radview.core.progress import CancelToken, ProgressCallback, report

TABLE_EDITION = "dicomfields_2026c"
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
ENCAPSULATED_DOCUMENT_PREFIX = "1.2.840.10008.5.1.4.1.1.104."
# SR TEXT items that RadView knows carry no identity: tracking identifier, algorithm name/version
SAFE_TEXT_CONCEPTS = {("112039", "DCM"), ("111001", "DCM"), ("111003", "DCM")}
DUMMY_TEXT = "ANONYMIZED"


class AnonymizeError(ValueError):
    """An anonymization that cannot be done as asked; the message says why."""


@dataclass
class AnonymizeResult:
    """What was written, and every file left out with its reason."""

    written: list[Path] = field(default_factory=list)
    left_out: list[tuple[Path, str]] = field(default_factory=list)


def _action_table() -> tuple[dict[tuple[int, int], str], list[tuple[int, int, int, int]]]:
    from dicomanonymizer.dicomfields_selector import dicom_anonymization_database_selector

    tables = dicom_anonymization_database_selector(TABLE_EDITION)
    actions, masked = {}, []
    for category, tags in tables.items():
        if category == "ALL_TAGS":
            continue
        for tag in tags:
            if len(tag) == 2:
                actions[tag] = category.removesuffix("_TAGS")
            else:
                masked.append(tag)  # repeating groups (curves, overlays): all X
    return actions, masked


class Anonymizer:
    """One de-identification run: one UID map, one pseudonym and one date shift per patient.

    key: a secret; the same key gives the same pseudonyms, UIDs and date shifts next time
    (longitudinal linking). Without one, a random key is used and nothing links back.
    """

    def __init__(self, key: str | None = None) -> None:
        self.key = (key or secrets.token_hex(32)).encode()
        self.actions, self.masked = _action_table()

    # ---- derived values ------------------------------------------------------------------
    def _digest(self, *parts: str) -> bytes:
        return hmac.new(self.key, "/".join(parts).encode(), hashlib.sha256).digest()

    def uid(self, old: str) -> str:
        """The same new UID for the same old one, in every file of the run."""
        return "2.25." + str(int.from_bytes(self._digest("uid", str(old))[:16], "big"))

    def pseudonym(self, patient_id: str) -> str:
        return "ANON" + self._digest("patient", patient_id).hex()[:10].upper()

    def date_shift_days(self, patient_id: str) -> int:
        """Between 1 and 10 years back, fixed per patient: intervals between studies are kept."""
        return 365 + int.from_bytes(self._digest("shift", patient_id)[:4], "big") % 3286

    # ---- one dataset ---------------------------------------------------------------------
    def _action(self, tag) -> str | None:
        key = (tag.group, tag.element)
        if key in self.actions:
            return self.actions[key]
        for group, element, group_mask, element_mask in self.masked:
            if tag.group & group_mask == group & group_mask and tag.element & element_mask == element & element_mask:
                return "X"
        return None

    def _shift(self, value: str, vr: str, days: int) -> str:
        if not value:
            return value
        text = str(value)
        try:
            day = date(int(text[:4]), int(text[4:6] or 1), int(text[6:8] or 1)) - timedelta(days=days)
        except ValueError:
            return ""  # not a date: nothing of it is kept
        return day.strftime("%Y%m%d") + (text[8:] if vr == "DT" else "")

    def _dummy(self, element) -> object:
        if element.VR in ("DS", "IS"):
            return "0"
        if element.VR in ("FD", "FL", "SS", "US", "SL", "UL", "SV", "UV"):
            return 0
        if element.VR == "AS":
            return "000Y"
        if element.VR in ("OB", "OW", "OD", "OF", "OL", "OV", "UN"):
            return b"\0\0"
        return DUMMY_TEXT

    def clean(self, ds: Dataset, days: int) -> None:
        """Apply the profile to `ds` and every nested item, in place."""
        ds.remove_private_tags()
        for element in list(ds):
            tag, vr = element.tag, element.VR
            action = self._action(tag)
            if vr == "SQ":
                if action in ("X", "X_D", "X_Z_D", "Z", "X_Z") and tag != 0x0040A730:
                    element.value = []  # emptied, not removed: type 2 sequences (SR's procedure step) stay valid
                else:  # D on a sequence (Content Sequence), U* and unlisted: keep the structure, clean inside
                    for item in element.value:
                        self.clean(item, days)
                        self._clean_content_item(item)
                continue
            if vr == "UI" and action in ("X", "X_Z", "Z"):
                del ds[tag]  # X or Z on a UID: removed (an empty UID is invalid where it is type 1)
                continue
            if vr == "UI":
                if action:  # U, and D on a UID (a dummy UID is a new one): remapped, consistently
                    element.value = [self.uid(v) for v in element.value] if element.VM > 1 else self.uid(element.value)
                continue
            if vr in ("DA", "DT"):  # the option: every date is shifted, none removed
                element.value = ([self._shift(v, vr, days) for v in element.value] if element.VM > 1
                                     else self._shift(element.value, vr, days))
                continue
            if vr == "TM" or action is None or action == "K":
                continue
            if action in ("X",):
                del ds[tag]
            elif action in ("Z", "X_Z"):
                element.value = "" if vr not in ("OB", "OW", "UN") else b""
            else:  # D, Z_D, X_D, X_Z_D: a dummy keeps type 1 attributes valid
                element.value = self._dummy(element)

    def _clean_content_item(self, item: Dataset) -> None:
        """SR content: free text and person names are replaced, except the concepts known safe."""
        if "TextValue" in item:
            concept = item.get("ConceptNameCodeSequence")
            name = (str(concept[0].CodeValue), str(concept[0].CodingSchemeDesignator)) if concept else None
            if name not in SAFE_TEXT_CONCEPTS:
                item.TextValue = DUMMY_TEXT

    def anonymize_dataset(self, ds: Dataset) -> None:
        """The whole profile on one instance (file meta included), in place."""
        # the patient is who the ID says (names are spelled differently across systems)
        patient_id = str(ds.get("PatientID", "") or "") or "name:" + str(ds.get("PatientName", ""))
        days = self.date_shift_days(patient_id)
        pseudonym = self.pseudonym(patient_id)
        self.clean(ds, days)
        meta = getattr(ds, "file_meta", None)
        if meta is not None and "MediaStorageSOPInstanceUID" in meta:
            meta.MediaStorageSOPInstanceUID = self.uid(meta.MediaStorageSOPInstanceUID)
        ds.PatientName = pseudonym
        ds.PatientID = pseudonym
        if "PatientBirthDate" in ds:
            ds.PatientBirthDate = ""  # Z: a shifted birth date would still give the age
        ds.PatientIdentityRemoved = "YES"
        ds.LongitudinalTemporalInformationModified = "MODIFIED"
        ds.DeidentificationMethod = "RadView: PS3.15 E Basic Profile, modified dates"
        method = []
        for value, meaning in (("113100", "Basic Application Confidentiality Profile"),
                               ("113107", "Retain Longitudinal Temporal Information Modified Dates Option")):
            code = Dataset()
            code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = value, "DCM", meaning
            method.append(code)
        ds.DeidentificationMethodCodeSequence = method


def identity_in_pixels(ds: Dataset) -> str | None:
    """Why an instance may show who the patient is in its pixels or document, or None."""
    sop_class = str(ds.get("SOPClassUID", ""))
    if sop_class.startswith(ENCAPSULATED_DOCUMENT_PREFIX):
        return "an encapsulated document (its text may name the patient)"
    if sop_class.startswith(SECONDARY_CAPTURE_PREFIX):
        return "a Secondary Capture (a screen picture may show the patient's name)"
    if str(ds.get("BurnedInAnnotation", "")).upper() == "YES":
        return "BurnedInAnnotation is YES (identifying text may be in the pixels)"
    return None


def anonymize_folder(source: Path, out: Path, key: str | None = None, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None) -> AnonymizeResult:
    """De-identify every DICOM file under `source` into `out` as <study>/<series>/<instance>.dcm
    (new UIDs, so no source name or UID reaches a path). Returns what was written and left out."""
    source, out = Path(source).resolve(), Path(out).resolve()
    if out == source or source in out.parents:
        raise AnonymizeError(f"{out}: the output must not be inside the source folder {source} (it is never written to)")
    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    anonymizer = Anonymizer(key)
    result = AnonymizeResult()
    for n, path in enumerate(files):
        if cancel is not None:
            cancel.raise_if_cancelled()
        report(progress, n, len(files), f"de-identifying {path.name}")
        try:
            ds = pydicom.dcmread(path)
            reason = identity_in_pixels(ds)
            if reason:
                result.left_out.append((path, reason))
                continue
            anonymizer.anonymize_dataset(ds)
            target = out / ds.StudyInstanceUID / ds.SeriesInstanceUID / f"{ds.SOPInstanceUID}.dcm"
            target.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(target, enforce_file_format=True)
            result.written.append(target)
        except Exception as error:  # pydicom raises many types on a broken file (docs/facts.md): list it, go on
            result.left_out.append((path, f"not de-identified: {type(error).__name__}: {error}"))
    report(progress, len(files), len(files), f"{len(result.written)} file(s) de-identified")
    return result
