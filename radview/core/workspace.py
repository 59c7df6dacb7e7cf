"""A study's workspace under the user data folder, keyed by StudyInstanceUID (docs/architecture.md).

It holds the review state, the report draft and its signed versions, the audit log and the
exports. Every write is atomic; nothing is ever written into the DICOM folder that was opened.
The folder is the user's only (0700, files 0600), and no symbolic link is followed in it.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from radview.core.audit import AuditLog
from radview.core.safe_files import UnsafePathError, check_inside, private_dir, read_private, write_private_atomic

# A DICOM UID (PS3.5 9.1): at most 64 characters, digits in dot-separated components.
_UID = re.compile(r"[0-9]+(\.[0-9]+)*")
MAX_UID_LENGTH = 64
# radview.dicom.identity's key for a UID shared by two patients: "<uid>~<12 hex digits>"
_SPLIT_UID = re.compile(r"(?P<uid>[0-9.]+)~(?P<suffix>[0-9a-f]{12})")


class WorkspaceError(ValueError):
    """A workspace file that cannot be read; the message names it."""


def _is_uid(text: str) -> bool:
    return len(text) <= MAX_UID_LENGTH and _UID.fullmatch(text) is not None


def study_folder_name(key: str) -> str:
    """The folder name of a study's workspace: the UID itself when it is a valid DICOM UID,
    "<uid>_<suffix>" for radview.dicom.identity's split keys (the names earlier versions used),
    anything else "uid-" and a hash of it, so a broken or hostile UID ("..", "../x", one with a
    slash, a 300-character one) can never name a path outside the studies folder."""
    if not key:
        raise ValueError("a study workspace needs a StudyInstanceUID")
    if _is_uid(key):
        return key
    split = _SPLIT_UID.fullmatch(key)
    if split and _is_uid(split["uid"]):
        return f"{split['uid']}_{split['suffix']}"
    # 128 bits: unique in practice; a letter first, so it never looks like (or collides with) a UID
    return "uid-" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class StudyWorkspace:
    """Files of one study: review.json, report.json, report-v<N>.json (signed versions),
    audit.jsonl and exports/."""

    def __init__(self, data_root: Path, study_instance_uid: str) -> None:
        self.study_instance_uid = study_instance_uid
        self.data_root = Path(data_root)
        self.folder = self.data_root / "studies" / study_folder_name(study_instance_uid)

    @property
    def review_path(self) -> Path:
        return self.folder / "review.json"

    @property
    def report_path(self) -> Path:
        return self.folder / "report.json"

    @property
    def audit_path(self) -> Path:
        return self.folder / "audit.jsonl"

    @property
    def exports(self) -> Path:
        return self.folder / "exports"

    def audit_log(self) -> AuditLog:
        self.checked(self.audit_path)
        return AuditLog(self.audit_path)

    def signed_version_path(self, version: int) -> Path:
        return self.folder / f"report-v{version}.json"

    def checked(self, path: Path) -> Path:
        """`path` (a file of this workspace) resolved; UnsafePathError when the workspace folder
        is a link or a link takes the file out of it. Its last component is opened without
        following a link by the readers and writers below."""
        check_inside(self.folder, self.data_root)
        if self.folder.is_symlink():
            raise UnsafePathError(f"{self.folder}: the study's workspace is a symbolic link; "
                                  f"RadView does not follow it")
        return check_inside(path, self.folder)

    def ensure_folder(self) -> Path:
        """Create the workspace folder (0700, with its missing parents) and return it."""
        self.checked(self.review_path)
        return private_dir(self.folder, self.data_root)

    def read_json(self, path: Path) -> dict | None:
        """A saved JSON file of this workspace, or None when there is none yet."""
        try:
            return json.loads(read_private(self.checked(path)).decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise WorkspaceError(f"{path}: cannot be read ({error})") from error

    def write_json(self, path: Path, data: dict) -> None:
        """Atomic: after a crash the file is the old one or the new one, never half."""
        self.ensure_folder()
        write_private_atomic(self.checked(path), json.dumps(data, indent=1, ensure_ascii=False), self.folder)
