"""The preliminary report as the reader edits it: a header and sections, draft text that follows
the findings without overwriting what the reader typed, sign-off and amendments.

Section text is HTML (the editor is rich text). The drafting itself is radview.report.draft.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SECTION_TITLES = {"technique": "Technique", "findings": "Findings", "impression": "Impression",
                  "ai": "AI assistance"}
PRELIMINARY_NOTICE = "Preliminary — requires verification by a radiologist"
HEADER_FIELDS = {"patient_name": "Patient", "patient_id": "Patient ID", "birth_date": "Birth date", "sex": "Sex",
                 "study_date": "Study date", "study_description": "Study", "accession_number": "Accession number",
                 "reader": "Reader"}


NODULE_RISKS = ("low", "high")


class ReportLocked(RuntimeError):
    """A signed report cannot change; amend it to make a new version."""


@dataclass
class ReportSection:
    """One section: the text the draft last produced, the text the editor holds, and whether the
    reader has typed in it (then a newer draft waits in `pending_html` instead of replacing it)."""

    name: str
    generated_html: str
    html: str
    edited: bool = False
    pending_html: str | None = None


@dataclass
class Report:
    """One version of a study's report."""

    study_instance_uid: str
    header: dict[str, str] = field(default_factory=dict)
    sections: dict[str, ReportSection] = field(default_factory=dict)
    version: int = 1
    signed_by: str = ""
    signed_at_utc: str = ""
    amends_version: int | None = None
    nodule_risk: str = "low"  # the reader's judgement of lung cancer risk (Fleischner 2017): "low" | "high"

    def __post_init__(self) -> None:
        if self.nodule_risk not in NODULE_RISKS:
            raise ValueError(f"nodule risk must be one of {', '.join(NODULE_RISKS)}, not {self.nodule_risk!r}")

    @property
    def signed(self) -> bool:
        return bool(self.signed_by)

    @property
    def status(self) -> str:
        """What the report is, in the words printed on it."""
        if self.signed:
            return f"Signed by {self.signed_by}, {self.signed_at_utc}" + (f" (amends version {self.amends_version})"
                                                                          if self.amends_version else "")
        return PRELIMINARY_NOTICE

    def update_draft(self, header: dict[str, str], drafted: dict[str, str]) -> list[str]:
        """Take a new draft: sections the reader has not edited follow it; edited ones keep the
        reader's text and hold the new draft as pending. Returns the names now pending."""
        self._check_unlocked()
        self.header = dict(header)
        pending = []
        for name, html in drafted.items():
            section = self.sections.get(name)
            if section is None:
                self.sections[name] = ReportSection(name, html, html)
            elif not section.edited:
                section.generated_html = section.html = html
                section.pending_html = None
            elif html != section.generated_html:
                section.pending_html = html
                pending.append(name)
        return pending

    def reader_edit(self, name: str, html: str) -> None:
        """The reader's text for a section; from now on a new draft does not overwrite it."""
        self._check_unlocked()
        section = self.sections[name]
        section.html, section.edited = html, True

    def take_pending(self, name: str) -> None:
        """Replace the reader's text of a section by the waiting draft (the reader asked for it)."""
        self._check_unlocked()
        section = self.sections[name]
        if section.pending_html is not None:
            section.generated_html = section.html = section.pending_html
            section.pending_html, section.edited = None, False

    def sign(self, reader: str, time_utc: str) -> None:
        """Sign off: the report is locked from now on."""
        self._check_unlocked()
        if not reader.strip():
            raise ValueError("signing needs the reader's name (Settings: reader name)")
        self.signed_by, self.signed_at_utc = reader, time_utc

    def amend(self) -> Report:
        """A new, unsigned version starting from this signed one's text."""
        if not self.signed:
            raise ValueError("only a signed report is amended; edit the draft instead")
        sections = {n: ReportSection(n, s.generated_html, s.html, True) for n, s in self.sections.items()}
        return Report(self.study_instance_uid, dict(self.header), sections, self.version + 1, amends_version=self.version,
                      nodule_risk=self.nodule_risk)

    def _check_unlocked(self) -> None:
        if self.signed:
            raise ReportLocked(f"version {self.version} is signed by {self.signed_by} and locked; amend it to change it")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Report:
        fields = dict(data)
        fields["sections"] = {n: ReportSection(**s) for n, s in data.get("sections", {}).items()}
        header = dict(fields.get("header", {}))
        # drafts saved before the risk was a field kept it among the header keys
        fields.setdefault("nodule_risk", header.pop("nodule_risk", "low"))
        fields["header"] = header
        return cls(**fields)
