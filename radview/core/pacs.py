"""PACS nodes, study queries and the studies a query finds: plain data shared by the settings,
the PACS service, the worklist and the window; and PacsSecrets, where the nodes' passwords and
tokens are kept instead of the settings file."""

from __future__ import annotations

import contextlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path

from radview.core.safe_files import read_private, write_private_atomic

DIMSE = "dimse"
DICOMWEB = "dicomweb"
RETRIEVE_METHODS = ("C-GET", "C-MOVE")
SECRET_FIELDS = ("password", "token")  # never written to settings.json: PacsSecrets keeps them
KEYRING_SERVICE = "RadView PACS"
SECRETS_FILE = "pacs-secrets.json"


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
    password: str = field(default="", repr=False)  # repr=False: a logged or printed node shows no secret
    token: str = field(default="", repr=False)

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
        """Every field, the secrets included: an in-memory copy. The settings file never gets the
        secrets: save_settings moves them into PacsSecrets (settings_dict is what it writes)."""
        return asdict(self)

    def settings_dict(self) -> dict:
        """The node as settings.json keeps it: without its password and token."""
        return {k: v for k, v in asdict(self).items() if k not in SECRET_FIELDS}

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


def _system_keyring():
    """The OS keyring's backend (Keychain, Credential Manager, Secret Service, KWallet), or None
    where there is none: a headless Linux box has no Secret Service, and keyring then offers
    only its "fail" backend (or "null", when the user turned it off)."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - keyring missing, or a broken keyringrc / D-Bus: use the file
        return None
    return None if isinstance(backend, (fail.Keyring, null.Keyring)) else backend


class PacsSecrets:
    """The PACS passwords and tokens of one settings folder, by node name (case-insensitive).

    In the OS keyring where there is one. Where there is none, or it refuses (locked, no D-Bus
    session), in `pacs-secrets.json` beside the settings: clear text, readable by the user only
    (0600, folder 0700), and `where` says so in every message. That is the honest choice for a
    workstation whose command line adds a node in one process and queries it in the next: a
    session-only secret would be gone, and a secret kept must never look better protected than it is.
    """

    def __init__(self, folder: Path, keyring_backend: object = ...) -> None:
        self.folder = Path(folder)
        self.file = self.folder / SECRETS_FILE
        # one settings folder's secrets (a test's or a portable install's RADVIEW_HOME) never mix with another's
        self.service = f"{KEYRING_SERVICE} {self.folder}"
        if keyring_backend is not ...:
            self.backend = keyring_backend  # tests pass a fake, or None for "no keyring here"

    @cached_property
    def backend(self):
        """The keyring backend, looked up on first use (importing keyring costs start-up time)."""
        return _system_keyring()

    @property
    def where(self) -> str:
        """Where a secret stored now goes, in words for messages."""
        if self.backend is not None:
            return f"the system keyring ({getattr(self.backend, 'name', type(self.backend).__name__)})"
        return f"{self.file} (this machine has no system keyring: clear text, readable by your user only)"

    @staticmethod
    def _key(node: str, name: str) -> str:
        if name not in SECRET_FIELDS:
            raise ValueError(f"{name!r} is not a PACS secret ({', '.join(SECRET_FIELDS)})")
        return f"{node.lower()}:{name}"

    def get(self, node: str, name: str) -> str:
        """The stored secret, or "" when there is none."""
        key = self._key(node, name)
        if self.backend is not None:
            try:
                secret = self.backend.get_password(self.service, key)
            except Exception:  # noqa: BLE001 - a locked or absent keyring: the file may still hold it
                secret = None
            if secret:
                return secret
        return self._read_file().get(key, "")

    def put(self, node: str, name: str, secret: str) -> str:
        """Store `secret` (non-empty); returns where it went, for the message."""
        key = self._key(node, name)
        if not secret:
            raise ValueError("an empty secret is deleted, not stored")
        if self.backend is not None:
            try:
                self.backend.set_password(self.service, key, secret)
            except Exception as error:  # noqa: BLE001 - any backend's refusal: keep it in the file, say so
                self._write_file(key, secret)
                return (f"{self.file} (the system keyring refused it: {error}; "
                        f"kept in clear text, readable by your user only)")
            self._write_file(key, None)  # an earlier fallback copy must not outlive the keyring's
            return self.where
        self._write_file(key, secret)
        return self.where

    def delete(self, node: str, name: str) -> None:
        """Forget the secret (no error when there is none)."""
        key = self._key(node, name)
        if self.backend is not None:
            # keyring raises PasswordDeleteError when there is none, others their own errors: either way gone
            with contextlib.suppress(Exception):
                self.backend.delete_password(self.service, key)
        self._write_file(key, None)

    def fill(self, node: PacsNode) -> PacsNode:
        """`node` with the stored secrets in the fields it leaves empty (a DICOMweb node's
        password only where it has a user name); the node itself is not changed."""
        if node.kind != DICOMWEB:
            return node
        found = {name: self.get(node.name, name) for name in SECRET_FIELDS
                 if not getattr(node, name) and (name != "password" or node.username)}
        return replace(node, **{k: v for k, v in found.items() if v})

    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(read_private(self.file, self.folder).decode("utf-8"))
        except FileNotFoundError:
            return {}
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{self.file}: not a JSON object of secrets ({error}); fix or remove it") from error
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, str)}

    def _write_file(self, key: str, secret: str | None) -> None:
        """Set (or, with None, remove) one secret in the fallback file; the file goes when empty."""
        data = self._read_file()
        if secret is None and key not in data:
            return
        if secret is None:
            del data[key]
        else:
            data[key] = secret
        if data:
            write_private_atomic(self.file, json.dumps(data, indent=1, sort_keys=True), self.folder)
        else:
            self.file.unlink(missing_ok=True)
