"""The audit log of one study: append-only JSON lines, each chained to the one before by an HMAC.

Every review action (accept, reject, edit, add, undo, redo, sign, amend, exports) is one line with
the reader, the time (UTC), the finding before and after, and the model version. Each entry's
`hash` is HMAC-SHA256, under a key the reader's account holds outside the workspace
(AuditKey), over the previous entry's hash and this entry's canonical JSON. So someone who can
write the workspace but not the account's key cannot forge, change or re-chain a line: a
recomputed plain hash no longer verifies. The chain's head (how many entries, the last hash) is
also kept beside the key after every append, so a log cut short at the end is detected.

What it does not protect against: whoever holds the reader's account (and so the key) can
rewrite both. Entries written by another account's key are reported as not verifiable here.
Logs written before the key existed (plain SHA-256 entries) still verify as a chain, which only
detects accidental damage; the check says so.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from radview.core.safe_files import append_private, private_dir, read_private, write_private_atomic

GENESIS_HASH = "0" * 64
KEY_FILE = "audit.key"
HEADS_FOLDER = "audit-heads"


def _canonical(entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain_hash(previous_hash: str, entry: dict) -> str:
    """The unkeyed SHA-256 of entries written before the audit key (legacy logs)."""
    return hashlib.sha256((previous_hash + _canonical(entry)).encode("utf-8")).hexdigest()


def default_key_folder() -> Path:
    """Beside the reader's settings, outside every study workspace."""
    from radview.user_dirs import settings_path

    return settings_path().parent


class AuditKey:
    """The account's secret for the audit chains (32 random bytes, a 0600 file created once), and
    the chain heads it keeps for each log it wrote."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_key_folder()
        self.secret = self._load_or_create()
        self.key_id = hashlib.sha256(self.secret).hexdigest()[:16]

    def _load_or_create(self) -> bytes:
        path = self.folder / KEY_FILE
        private_dir(self.folder)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as f:
                secret = f.read()
            if len(secret) < 32:
                raise ValueError(f"{path}: the audit key is damaged ({len(secret)} bytes); it is not replaced, "
                                 "as that would make every log it signed unverifiable") from None
            return secret
        secret = secrets.token_bytes(32)
        with os.fdopen(fd, "wb") as f:
            f.write(secret)
            f.flush()
            os.fsync(f.fileno())
        return secret

    def mac(self, previous_hash: str, entry: dict) -> str:
        return hmac.new(self.secret, (previous_hash + _canonical(entry)).encode("utf-8"), hashlib.sha256).hexdigest()

    def head_path(self, log_path: Path) -> Path:
        name = hashlib.sha256(os.fspath(Path(log_path).resolve()).encode("utf-8")).hexdigest()[:32]
        return self.folder / HEADS_FOLDER / f"{name}.json"

    def record_head(self, log_path: Path, entries: int, last_hash: str) -> None:
        head = {"log": os.fspath(Path(log_path).resolve()), "entries": entries, "last_hash": last_hash}
        head["mac"] = hmac.new(self.secret, json.dumps(head, sort_keys=True).encode(), hashlib.sha256).hexdigest()
        write_private_atomic(self.head_path(log_path), json.dumps(head))

    def read_head(self, log_path: Path) -> dict | None:
        """The recorded head of a log, None if this account never wrote it; ValueError if forged."""
        path = self.head_path(log_path)
        if not path.exists():
            return None
        head = json.loads(read_private(path).decode("utf-8"))
        mac = head.pop("mac", "")
        expected = hmac.new(self.secret, json.dumps(head, sort_keys=True).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, expected):
            raise ValueError(f"{path}: the recorded head of the audit log was altered")
        return head


@dataclass
class AuditCheck:
    """The result of verifying a log: how many entries, each problem with its line number, and
    notes on what the check could not establish."""

    entries: int
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unverifiable: list[str] = field(default_factory=list)  # key ids of other accounts' entries

    @property
    def intact(self) -> bool:
        """No problem found (entries of other accounts' keys are listed in `unverifiable`)."""
        return not self.problems

    @property
    def verified(self) -> bool:
        """Intact, and every entry checked with this account's key (or a legacy hash)."""
        return self.intact and not self.unverifiable


class AuditLog:
    """Appends entries to `path` (created on first use); never rewrites a line."""

    def __init__(self, path: Path, key: AuditKey | None = None) -> None:
        self.path = Path(path)
        self.key = key or AuditKey()
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
        for line in read_private(self.path).decode("utf-8").splitlines():
            if line.strip():
                last, count = json.loads(line).get("hash", last), count + 1
        return last, count

    def record(self, reader: str, action: str, finding_id: str | None = None, before: dict | None = None,
               after: dict | None = None, model_version: str | None = None, detail: str = "") -> dict:
        """Append one entry, fsync it and record the new head; returns the entry with its hash."""
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
            "key_id": self.key.key_id,
        }
        entry["hash"] = self.key.mac(self._last_hash, entry)
        append_private(self.path, json.dumps(entry, ensure_ascii=False, allow_nan=False) + "\n")
        self._last_hash, self._count = entry["hash"], self._count + 1
        self._size = self._file_size()
        self.key.record_head(self.path, self._count, self._last_hash)
        return entry


def verify_audit_log(path: Path, key: AuditKey | None = None) -> AuditCheck:
    """Walk the chain from the genesis hash with the account's key; every broken link, bad MAC,
    unreadable line, or a log shorter or longer than its recorded head is a problem."""
    path = Path(path)
    if not path.exists():
        return AuditCheck(0, [f"{path}: no audit log"])
    key = key or AuditKey()
    check = AuditCheck(0)
    hashes: list[str | None] = []
    previous: str | None = GENESIS_HASH
    foreign, legacy = set(), 0
    for number, line in enumerate(read_private(path).decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        check.entries += 1
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            check.problems.append(f"line {number}: not JSON ({error.msg})")
            previous = None
            hashes.append(None)
            continue
        if entry.get("seq") != check.entries:
            check.problems.append(f"line {number}: sequence number {entry.get('seq')} where {check.entries} was "
                                  "expected (a line removed or inserted)")
        if previous is not None and entry.get("previous_hash") != previous:
            check.problems.append(f"line {number}: does not follow the line before (chain broken)")
        key_id = entry.get("key_id")
        if key_id is None:
            legacy += 1
            ok = entry.get("hash") == _plain_hash(entry.get("previous_hash", ""), entry)
        elif key_id == key.key_id:
            ok = hmac.compare_digest(str(entry.get("hash", "")), key.mac(entry.get("previous_hash", ""), entry))
        else:
            foreign.add(key_id)
            ok = True  # cannot be checked here: said in the notes
        if not ok:
            check.problems.append(f"line {number}: its content does not match its signature (edited or forged)")
        previous = entry.get("hash")
        hashes.append(previous)
    _check_head(path, key, check, hashes)
    if legacy:
        check.notes.append(f"{legacy} entries predate the audit key: their plain SHA-256 chain only shows accidental damage")
    if foreign:
        check.unverifiable = sorted(foreign)
        check.notes.append(f"entries signed by another account's key ({', '.join(sorted(foreign))}) cannot be verified here")
    return check


def _check_head(path: Path, key: AuditKey, check: AuditCheck, hashes: list[str | None]) -> None:
    """Compare the log with the head this account recorded after its last append: a log cut short
    at the end, or whose entry this account wrote last was replaced, is a problem."""
    try:
        head = key.read_head(path)
    except (ValueError, OSError) as error:
        check.problems.append(str(error))
        return
    if head is None:
        check.notes.append("this account has no recorded head for this log: lines cut off at its end cannot be ruled out")
    elif check.entries < head["entries"]:
        check.problems.append(f"the log ends after {check.entries} entries, but {head['entries']} were written "
                              "(lines removed at the end)")
    elif hashes[head["entries"] - 1] != head["last_hash"]:
        check.problems.append(f"entry {head['entries']}, the last this account wrote, was replaced")
