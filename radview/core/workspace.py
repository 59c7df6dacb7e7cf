"""A study's workspace under the user data folder, keyed by StudyInstanceUID (docs/architecture.md).

It holds the review state, the report draft and its signed versions, the audit log and the
exports. Every write is atomic; nothing is ever written into the DICOM folder that was opened.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from radview.core.atomic import write_text_atomic
from radview.core.audit import AuditLog


class WorkspaceError(ValueError):
    """A workspace file that cannot be read; the message names it."""


class StudyWorkspace:
    """Files of one study: review.json, report.json, report-v<N>.json (signed versions),
    audit.jsonl and exports/."""

    def __init__(self, data_root: Path, study_instance_uid: str) -> None:
        if not study_instance_uid:
            raise ValueError("a study workspace needs a StudyInstanceUID")
        self.study_instance_uid = study_instance_uid
        # UIDs are digits and dots; anything else (a broken file) is made safe for a folder name
        self.folder = Path(data_root) / "studies" / re.sub(r"[^0-9A-Za-z.-]", "_", study_instance_uid)

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
        return AuditLog(self.audit_path)

    def signed_version_path(self, version: int) -> Path:
        return self.folder / f"report-v{version}.json"

    def read_json(self, path: Path) -> dict | None:
        """A saved JSON file of this workspace, or None when there is none yet."""
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise WorkspaceError(f"{path}: cannot be read ({error})") from error

    def write_json(self, path: Path, data: dict) -> None:
        """Atomic: after a crash the file is the old one or the new one, never half."""
        write_text_atomic(path, json.dumps(data, indent=1, ensure_ascii=False))

