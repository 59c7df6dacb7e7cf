"""One writer per study: an inter-process lock on the study's workspace folder.

The window, `radview analyze`, the worklist's AI triage and a batch worker all write a study's
review.json, report.json and audit.jsonl. Two writers at once lose one's work (the last
review.json wins) and interleave the audit chain, so each holds this lock while it writes. The
lock is an OS file lock (filelock: fcntl.flock on POSIX, LockFileEx on Windows): the kernel drops
it when its holder exits or is killed, so a crash never leaves a study locked. Beside it, a small
JSON note says who holds it, for the message the next writer shows.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from radview.core.safe_files import private_dir, read_private, write_private_atomic

LOCK_NAME = ".study.lock"
HOLDER_NAME = ".study.lock-holder.json"


class StudyInUse(RuntimeError):
    """Another process (or another part of this one) is writing this study; the message says who."""


class StudyLock:
    """Acquire with `acquire(timeout_s)`; release with `release()` (or use as a context manager).

    Not re-entrant across objects: a second StudyLock on the same folder waits for the first even
    in the same process, so the worklist's triage thread never writes a study the window has open.
    """

    def __init__(self, folder: Path, purpose: str) -> None:
        self.folder = Path(folder)
        self.purpose = purpose  # "radview window", "radview analyze", ... shown to the next writer
        self._lock = FileLock(str(self.folder / LOCK_NAME), mode=0o600, thread_local=False, is_singleton=False)

    @property
    def held(self) -> bool:
        return self._lock.is_locked

    def acquire(self, timeout_s: float = 0.0) -> None:
        """Take the lock, waiting at most `timeout_s`; StudyInUse names the holder when it cannot."""
        private_dir(self.folder)
        try:
            self._lock.acquire(timeout=max(0.0, timeout_s), poll_interval=0.1)
        except Timeout:
            waited = f" (waited {timeout_s:g} s)" if timeout_s > 0 else ""
            raise StudyInUse(f"this study is open elsewhere: {self.holder()}{waited}; "
                             f"its review and report are written by that program until it closes the study") from None
        note = {"purpose": self.purpose, "pid": os.getpid(), "host": socket.gethostname(),
                "program": Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python",
                "since_utc": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        write_private_atomic(self.folder / HOLDER_NAME, json.dumps(note))

    def release(self) -> None:
        if self._lock.is_locked:
            (self.folder / HOLDER_NAME).unlink(missing_ok=True)
            self._lock.release(force=True)

    def holder(self) -> str:
        """Who holds the lock, in words (from the note its holder wrote)."""
        try:
            note = json.loads(read_private(self.folder / HOLDER_NAME))
            return f"{note['purpose']} (process {note['pid']} on {note['host']}, since {note['since_utc']})"
        except (OSError, ValueError, KeyError, TypeError):
            return "another RadView program"

    def __enter__(self) -> StudyLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
