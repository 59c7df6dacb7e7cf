"""A persistent cache of parsed file headers, so that opening a folder again costs a `stat` per
file instead of a parse (about 0.05 ms against 1-2 ms, docs/facts.md).

An entry is used only while the file is provably unchanged: same path, size, modification time,
change time and inode. A file rewritten in place, replaced by another (even one of the same size
with its mtime copied, as `cp -p` does: its change time and inode differ) or touched is read
again. Entries also carry the parser's format version: an upgrade that reads headers differently
starts afresh. Only headers that parsed are kept; files that failed are read again each time
(the cause may have been the moment: a file still being copied).

Storage is one SQLite file in the user's data folder (the headers hold patient names and IDs,
like the study workspaces beside it). The entries are pickles, read back by an unpickler that
builds nothing but the header records and plain values: a file planted in the cache cannot run
code. Any problem with the cache (locked, corrupt, full disk) makes the scan read the files, as
if there were no cache; it never stops a scan.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from radview.core.acquisition import Acquisition
from radview.core.study_index import ImageHeader, MosaicTile
from radview.dicom.header import FileHeader

log = logging.getLogger(__name__)

# Raise when FileHeader/ImageHeader or how they are read from a file changes: old entries are then ignored.
FORMAT_VERSION = 1
MAX_ENTRIES = 500_000  # about 1 KB each; the least recently used tenth goes beyond this
_ALLOWED = {(cls.__module__, cls.__qualname__): cls for cls in (FileHeader, ImageHeader, MosaicTile, Acquisition)}

FileKey = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


def file_key(stat: os.stat_result) -> FileKey:
    """What must be unchanged for a cached header to stand for the file."""
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


class _HeaderUnpickler(pickle.Unpickler):
    """Rebuilds header records and builtin values only; any other global is refused."""

    def find_class(self, module: str, name: str):
        cls = _ALLOWED.get((module, name))
        if cls is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a header record")
        return cls


def _loads(blob: bytes) -> FileHeader:
    header = _HeaderUnpickler(io.BytesIO(blob)).load()
    if not isinstance(header, FileHeader):
        raise pickle.UnpicklingError("not a file header")
    return header


class HeaderCache:
    """Parsed headers of files already seen, by path; `lookup` before parsing, `store` after."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as exc:  # not a database (a crash mid-write, a stray file): start afresh
                if isinstance(exc, sqlite3.OperationalError):  # locked or unwritable: leave it be
                    raise
                log.warning("header cache %s is corrupt (%s): starting a new one", self.path, exc)
                for stale in (self.path, self.path.with_name(self.path.name + "-wal"),
                              self.path.with_name(self.path.name + "-shm")):
                    stale.unlink(missing_ok=True)
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=2.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # the window and a command may scan at once
            db.execute("CREATE TABLE IF NOT EXISTS headers (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, "
                       "ctime_ns INTEGER, inode INTEGER, format INTEGER, used REAL, header BLOB)")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def lookup(self, files: dict[str, FileKey]) -> dict[str, FileHeader]:
        """The cached headers of those `files` (path: file_key) that are unchanged since stored."""
        found: dict[str, FileHeader] = {}
        try:
            db = self._connect()
            paths = list(files)
            for start in range(0, len(paths), 500):  # SQLite's bound-parameter limit
                chunk = paths[start : start + 500]
                rows = db.execute(
                    f"SELECT path, size, mtime_ns, ctime_ns, inode, header FROM headers WHERE format = ? AND path IN "
                    f"({','.join('?' * len(chunk))})", [FORMAT_VERSION, *chunk])
                for path, size, mtime_ns, ctime_ns, inode, blob in rows:
                    if (size, mtime_ns, ctime_ns, inode) == files[path]:
                        found[path] = _loads(blob)
        except (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as exc:
            log.warning("header cache %s unusable, reading the files instead: %s", self.path, exc)
            return {}
        return found

    def store(self, headers: Iterable[tuple[FileHeader, FileKey]], seen: Iterable[str] = ()) -> None:
        """Keep freshly parsed headers; mark the `seen` paths (served from the cache) as recently used."""
        now = time.time()
        rows = [(h.path, *key, FORMAT_VERSION, now, pickle.dumps(h, protocol=pickle.HIGHEST_PROTOCOL))
                for h, key in headers]
        try:
            db = self._connect()
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO headers VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
                db.executemany("UPDATE headers SET used = ? WHERE path = ?", [(now, p) for p in seen])
            if rows:
                self._prune(db)
        except sqlite3.Error as exc:
            log.warning("header cache %s not written: %s", self.path, exc)

    def _prune(self, db: sqlite3.Connection) -> None:
        count = db.execute("SELECT COUNT(*) FROM headers").fetchone()[0]
        if count > MAX_ENTRIES:
            db.execute("DELETE FROM headers WHERE path IN (SELECT path FROM headers ORDER BY used LIMIT ?)",
                       (count - MAX_ENTRIES + MAX_ENTRIES // 10,))

    def close(self) -> None:
        """Close the database (also done when the cache is dropped)."""
        if self._db is not None:
            self._db.close()
            self._db = None
