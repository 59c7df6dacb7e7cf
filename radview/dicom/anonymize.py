"""De-identification: DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile, with
the Retain Longitudinal Temporal Information with Modified Dates option.

The attribute actions (D, Z, X, U and the combined ones) are the standard's table as the
dicom-anonymizer package ships it (its 2026c edition); this module applies them recursively,
so a UID inside any sequence (SEG source references, SR evidence and content) is remapped with
the same map as the instance it names, and SEG / SR references stay valid. Dates are shifted by
one offset per patient (intervals are kept); times are kept. Private tags are removed.
Beyond the table, nothing that could carry identity is left as it was: free text the table does
not list is replaced unless it is a coded or structural value RadView keeps, every text value
kept (codes, defined terms) is checked for the patient's name, IDs, birth date and institution,
overlay descriptions and labels are removed, and the file preamble and file meta information
are written anew (a source's preamble, AE title or private meta information never survive).
Instances that carry identity in their pixels or documents are left out and listed: images
with BurnedInAnnotation YES, Secondary Captures and encapsulated documents. The source files
are only read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

from radview import __version__
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.dicom.header import unsafe_to_read

TABLE_EDITION = "dicomfields_2026c"
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
ENCAPSULATED_DOCUMENT_PREFIX = "1.2.840.10008.5.1.4.1.1.104."
# SR TEXT items that RadView knows carry no identity: tracking identifier, algorithm name/version
SAFE_TEXT_CONCEPTS = {("112039", "DCM"), ("111001", "DCM"), ("111003", "DCM")}
DUMMY_TEXT = "ANONYMIZED"
# text VRs a person can type anything into; CS (defined terms, 16 upper-case characters) is kept, but checked
FREE_TEXT_VRS = {"PN", "LO", "SH", "ST", "LT", "UT", "UC", "AE", "UR"}
# unlisted free text that is coded or structural, not typed about the patient: kept, but still
# checked for the patient's identity (SEG/SR readers need codes, labels and algorithm names)
KEPT_TEXT = frozenset({
    "CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "CodeMeaning", "LongCodeValue", "URNCodeValue",
    "Manufacturer", "ManufacturerModelName", "SoftwareVersions", "RescaleType", "WindowCenterWidthExplanation",
    "SegmentLabel", "SegmentAlgorithmName", "AlgorithmName", "AlgorithmVersion", "TrackingID",
    "DimensionDescriptionLabel", "MIMETypeOfEncapsulatedDocument",
    "TextValue",  # judged per SR content item by its concept (_clean_content_item)
})
# values that say who the patient is or where they were seen; every PN value is added to these
IDENTITY_KEYWORDS = frozenset({
    "PatientID", "OtherPatientIDs", "IssuerOfPatientID", "AccessionNumber", "PatientBirthDate", "PatientAddress",
    "PatientTelephoneNumbers", "MedicalRecordLocator", "AdmissionID", "InstitutionName", "InstitutionAddress",
    "InstitutionalDepartmentName",
})
MIN_IDENTITY_LENGTH = 3  # shorter values ("1", "M") would match most defined terms
# Annex E removes overlay data and comments (60xx,3000/4000); a plane left without its data is
# invalid and its description, subtype and label are free text, so every overlay group (even
# groups 6000-601E, all elements) goes
OVERLAY_MASKS = [(0x6000, 0x0000, 0xFF01, 0x0000)]


class AnonymizeError(ValueError):
    """An anonymization that cannot be done as asked; the message says why."""


@dataclass
class AnonymizeResult:
    """What was written, and every file left out with its reason."""

    written: list[Path] = field(default_factory=list)
    left_out: list[tuple[Path, str]] = field(default_factory=list)


def _action_table() -> tuple[dict[tuple[int, int], str], list[tuple[int, int, int, int]]]:
    from dicomanonymizer.dicomfields_selector import (
        dicom_anonymization_database_selector,
    )

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
    return actions, masked + OVERLAY_MASKS


def _values(element: DataElement) -> list:
    """An attribute's values as a list (none when it is empty)."""
    if not element.VM:
        return []
    return list(element.value) if element.VM > 1 else [element.value]


def _name_variants(name: object) -> set[str]:
    """A person name as stored (^ separators), with spaces, and its family, given and middle names:
    the same person may be written any of these ways in free text."""
    variants = {str(name)}
    for group in str(name).split("="):  # alphabetic, ideographic, phonetic
        parts = [part.strip() for part in group.split("^")[:3] if part.strip()]  # not prefix ("Dr") or suffix
        variants |= {group, " ".join(parts), " ".join(reversed(parts)), *parts}
    return variants


def _identity_tokens(ds: Dataset) -> set[str]:
    """Every identifying value of `ds` at any depth: its person names and IDENTITY_KEYWORDS."""
    tokens: set[str] = set()
    for element in ds.iterall():
        if element.VR == "PN":
            tokens |= {variant for value in _values(element) for variant in _name_variants(value)}
        elif element.keyword in IDENTITY_KEYWORDS and element.VR != "SQ":
            tokens |= {str(value) for value in _values(element)}
    return {token.strip() for token in tokens if len(token.strip()) >= MIN_IDENTITY_LENGTH}


def identity_pattern(ds: Dataset) -> re.Pattern | None:
    """A case-insensitive pattern for the identifying values of `ds` (read before it is cleaned),
    or None when it has none."""
    tokens = sorted(_identity_tokens(ds), key=len, reverse=True)  # the longest variant first
    if not tokens:
        return None
    # whole words only (letters and digits bound a word, "_" and "^" do not): a name inside a defined
    # term ("ANN" in "PLANNED") is no leak, and replacing that term would make the file invalid
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, tokens)) + r")(?![^\W_])", re.IGNORECASE)


def _scrub(element: DataElement, identity: re.Pattern | None) -> None:
    """Replace each value of a kept text attribute that contains an identifying value."""
    values = _values(element)
    if identity is None or not any(identity.search(str(value)) for value in values):
        return
    values = [DUMMY_TEXT if identity.search(str(value)) else value for value in values]
    element.value = values if len(values) > 1 else values[0]


def new_file_meta(ds: Dataset, old: FileMetaDataset | None) -> FileMetaDataset:
    """File meta information made from scratch for a cleaned `ds`: only what a reader needs, so
    nothing of the source's (its AE title, private information, implementation) survives."""
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\0\1"
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID  # already the new UID
    meta.TransferSyntaxUID = (old.get("TransferSyntaxUID") if old is not None else None) or ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID  # as RadView's own writer (radview.demo)
    meta.ImplementationVersionName = f"RADVIEW_{__version__}"[:16]
    return meta


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

    def clean(self, ds: Dataset, days: int, identity: re.Pattern | None = None) -> None:
        """Apply the profile to `ds` and every nested item, in place. `identity` matches the
        patient's identifying values (identity_pattern); no text that is kept may contain one."""
        ds.remove_private_tags()
        for element in list(ds):
            if element.VR == "SQ":
                self._clean_sequence(element, days, identity)
            else:
                self._clean_element(ds, element, days, identity)
        self._clean_content_item(ds)

    def _clean_sequence(self, element: DataElement, days: int, identity: re.Pattern | None) -> None:
        """A sequence the table removes is emptied; any other is kept and cleaned inside, at any depth."""
        if self._action(element.tag) in ("X", "X_D", "X_Z_D", "Z", "X_Z") and element.tag != 0x0040A730:
            element.value = []  # emptied, not removed: type 2 sequences (SR's procedure step) stay valid
        else:  # D on a sequence (Content Sequence), U* and unlisted: keep the structure, clean inside
            for item in element.value:
                self.clean(item, days, identity)

    def _clean_element(self, ds: Dataset, element: DataElement, days: int, identity: re.Pattern | None) -> None:
        """One attribute that is not a sequence, by its action in the table (or by _clean_unlisted)."""
        tag, vr = element.tag, element.VR
        action = self._action(tag)
        if vr == "UI" and action in ("X", "X_Z", "Z"):
            del ds[tag]  # X or Z on a UID: removed (an empty UID is invalid where it is type 1)
        elif vr == "UI":
            if action:  # U, and D on a UID (a dummy UID is a new one): remapped, consistently
                element.value = [self.uid(v) for v in element.value] if element.VM > 1 else self.uid(element.value)
        elif vr in ("DA", "DT"):  # the option: every date is shifted, none removed
            element.value = ([self._shift(v, vr, days) for v in element.value] if element.VM > 1
                             else self._shift(element.value, vr, days))
        elif vr == "TM" or action == "K":
            return
        elif action is None:
            self._clean_unlisted(ds, element, identity)
        elif action == "X":
            del ds[tag]
        elif action in ("Z", "X_Z"):
            element.value = "" if vr not in ("OB", "OW", "UN") else b""
        else:  # D, Z_D, X_D, X_Z_D: a dummy keeps type 1 attributes valid
            element.value = self._dummy(element)

    def _clean_unlisted(self, ds: Dataset, element: DataElement, identity: re.Pattern | None) -> None:
        """An attribute the table does not list: the Basic Profile would keep it, but free text may
        hold anything a person typed, and bytes of an unknown attribute cannot be judged."""
        if element.VR == "UN":
            del ds[element.tag]  # no dictionary knows it (pydicom resolves the known ones)
        elif element.VR in FREE_TEXT_VRS and element.keyword not in KEPT_TEXT:
            if element.VM:  # replaced, not removed: it may be type 1 (SEG's Content Description is type 2)
                element.value = DUMMY_TEXT
        elif element.VR in FREE_TEXT_VRS or element.VR == "CS":
            _scrub(element, identity)

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
        self.clean(ds, days, identity_pattern(ds))
        ds.file_meta = new_file_meta(ds, getattr(ds, "file_meta", None))
        ds.preamble = bytes(128)  # a preamble may hold anything (TIFF headers, a name): zeros, as Part 10 allows
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
            unsafe = unsafe_to_read(os.fspath(path))  # before pydicom inflates or holds a bomb
            if unsafe:
                result.left_out.append((path, f"not de-identified: {unsafe}"))
                continue
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
