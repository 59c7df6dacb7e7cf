"""The audit log of one study: append-only JSON lines, each chained to the one before by SHA-256.

Every review action (accept, reject, edit, add, undo, redo, sign, amend) is one line with the
reader, the time (UTC), the finding before and after, and the model version. Each entry's
`hash` is SHA-256 over the previous entry's hash and this entry's canonical JSON (without its
own hash), so editing, deleting or reordering any line breaks the chain at that line.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

GENESIS_HASH = "0" * 64


def _entry_hash(previous_hash: str, entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((previous_hash + canonical).encode("utf-8")).hexdigest()


@dataclass
class AuditCheck:
    """The result of verifying a log: how many entries, and each problem with its line number."""

    entries: int
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


class AuditLog:
    """Appends entries to `path` (created on first use); never rewrites a line."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._guard = threading.Lock()  # a worker thread's export and the reader's action may record at once
        self._last_hash, self._count = self._tail()
        self._size = self._file_size()

    def _file_size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def _tail(self) -> tuple[str, int]:
        if not self.path.exists():
            return GENESIS_HASH, 0
        last, count = GENESIS_HASH, 0
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                last, count = json.loads(line).get("hash", last), count + 1
        return last, count

    def record(self, reader: str, action: str, finding_id: str | None = None, before: dict | None = None,
               after: dict | None = None, model_version: str | None = None, detail: str = "") -> dict:
        """Append one entry and fsync it; returns the entry with its hash."""
        with self._guard:
            # another AuditLog of this file (in this process, under the study lock) appended since
            if self._file_size() != self._size:
                self._last_hash, self._count = self._tail()
            return self._append(reader, action, finding_id, before, after, model_version, detail)

    def _append(self, reader: str, action: str, finding_id: str | None, before: dict | None, after: dict | None,
                model_version: str | None, detail: str) -> dict:
        entry = {
            "seq": self._count + 1,
            "time_utc": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            "reader": reader,
            "action": action,
            "finding_id": finding_id,
            "before": before,
            "after": after,
            "model_version": model_version,
            "detail": detail,
            "previous_hash": self._last_hash,
        }
        entry["hash"] = _entry_hash(self._last_hash, entry)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        self._last_hash, self._count = entry["hash"], self._count + 1
        self._size = self._file_size()
        return entry


def verify_audit_log(path: Path) -> AuditCheck:
    """Walk the chain from the genesis hash; every broken link, bad hash or unreadable line is a problem."""
    path = Path(path)
    if not path.exists():
        return AuditCheck(0, [f"{path}: no audit log"])
    previous, problems, entries = GENESIS_HASH, [], 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        entries += 1
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(f"line {number}: not JSON ({error.msg})")
            previous = None
            continue
        if entry.get("seq") != entries:
            problems.append(f"line {number}: sequence number {entry.get('seq')} where {entries} was expected (a line removed or inserted)")
        if previous is not None and entry.get("previous_hash") != previous:
            problems.append(f"line {number}: does not follow the line before (chain broken)")
        if entry.get("hash") != _entry_hash(entry.get("previous_hash", ""), entry):
            problems.append(f"line {number}: its content does not match its hash (edited)")
        previous = entry.get("hash")
    return AuditCheck(entries, problems)
