"""PACS nodes, study queries and the studies a query finds: plain data shared by the settings,
the PACS service, the worklist and the window."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

DIMSE = "dimse"
DICOMWEB = "dicomweb"
RETRIEVE_METHODS = ("C-GET", "C-MOVE")


@dataclass
class PacsNode:
    """One PACS as the settings keep it.

    DIMSE: the PACS's AE title, host and port, our own AE title (and, for C-MOVE, the port our
    storage service listens on, known to the PACS under our AE title). DICOMweb: the base URL
    (…/dicom-web), and basic auth (username/password) or a bearer token.
    """

    name: str
    kind: str = DIMSE
    ae_title: str = ""
    host: str = ""
    port: int = 104
    our_ae_title: str = "RADVIEW"
    retrieve_method: str = "C-GET"
    our_port: int = 11112
    url: str = ""
    username: str = ""
    password: str = ""
    token: str = ""

    def describe(self) -> str:
        """How messages name this node: "Orthanc (ORTHANC@pacs:4242)" or "Web (https://…)"."""
        where = f"{self.ae_title}@{self.host}:{self.port}" if self.kind == DIMSE else self.url
        return f"{self.name} ({where})"

    def problems(self) -> list[str]:
        """What keeps this node from being used (empty when it is complete)."""
        problems = []
        if not self.name.strip():
            problems.append("a PACS node needs a name")
        if self.kind == DIMSE:
            for label, ae in (("AE title", self.ae_title), ("our AE title", self.our_ae_title)):
                if not ae.strip() or len(ae) > 16 or "\\" in ae:
                    problems.append(f"{self.name}: {label} {ae!r} must be 1 to 16 characters")
            if not self.host.strip():
                problems.append(f"{self.name}: no host")
            if not 0 < int(self.port) < 65536 or not 0 < int(self.our_port) < 65536:
                problems.append(f"{self.name}: ports must be between 1 and 65535")
            if self.retrieve_method not in RETRIEVE_METHODS:
                problems.append(f"{self.name}: retrieve method must be one of {', '.join(RETRIEVE_METHODS)}")
        elif self.kind == DICOMWEB:
            if not self.url.startswith(("http://", "https://")):
                problems.append(f"{self.name}: the DICOMweb URL must start with http:// or https://")
        else:
            problems.append(f"{self.name}: kind must be '{DIMSE}' or '{DICOMWEB}'")
        return problems

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PacsNode:
        """From the settings file; unknown keys are ignored, wrong types raise ValueError."""
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise ValueError("a PACS node must be an object with a name")
        known = {f.name: f for f in fields(cls)}
        values = {}
        for key, value in data.items():
            if key not in known:
                continue
            expected = int if key in ("port", "our_port") else str
            if not isinstance(value, expected) or isinstance(value, bool):
                raise ValueError(f"PACS node {data['name']!r}: {key} must be {expected.__name__}")
            values[key] = value
        return cls(**values)


@dataclass
class StudyQuery:
    """What to look for. Empty fields match anything; names may use * wildcards; dates YYYYMMDD."""

    patient_name: str = ""
    patient_id: str = ""
    date_from: str = ""
    date_to: str = ""
    modality: str = ""
    accession_number: str = ""

    @property
    def date_range(self) -> str:
        """DICOM range matching: "20260101-20260131", "20260101-", "-20260131" or ""."""
        if not (self.date_from or self.date_to):
            return ""
        if self.date_from == self.date_to:
            return self.date_from
        return f"{self.date_from}-{self.date_to}"


@dataclass
class StudyRecord:
    """One study as a PACS (or the local cache) describes it."""

    study_instance_uid: str
    patient_name: str = ""
    patient_id: str = ""
    study_date: str = ""
    study_time: str = ""
    modalities: list[str] = field(default_factory=list)
    description: str = ""
    accession_number: str = ""
    instances: int | None = None
    source: str = ""  # the node's name, or "cache"
