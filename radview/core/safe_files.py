"""Files and folders that only their user can read, opened without following symbolic links.

RadView's settings, workspaces and audit logs hold patient data and PACS credentials, and RadView
may run as root. A link planted where one of its files goes would make it read or write the link's
target instead, so the last component of every path is opened with O_NOFOLLOW, and, where a root
folder is given, the folder the file lands in must resolve inside it. Folders are created 0700 and
files 0600 whatever the umask (it is 000 on some shared machines). POSIX first; on Windows, where
there is no O_NOFOLLOW, a link is refused by a check just before the open.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import IO

DIR_MODE = 0o700
FILE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation at the fd level
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a planted FIFO must not hang; cleared after the open
# "w" truncates only after the checks below (O_TRUNC would empty whatever was planted there first)
_FLAGS = {"r": os.O_RDONLY, "w": os.O_WRONLY | os.O_CREAT, "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
          "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL}


class UnsafePathError(OSError):
    """A path RadView refuses to use: a symbolic link, not a regular file, or outside its folder."""


def _refuse_link(path: Path) -> UnsafePathError:
    return UnsafePathError(f"{path}: is a symbolic link; RadView does not follow links in its own folders "
                           f"(someone may have planted it: check where it points, then remove it)")


def check_inside(path: Path, root: Path) -> Path:
    """`path` with its folder resolved; UnsafePathError when that folder is not inside `root`
    (resolved too: links above `root` are the user's choice, links below it are refused)."""
    path, root = Path(path), os.path.realpath(root)
    parent = os.path.realpath(path.parent)
    if os.path.commonpath([root, parent]) != root:
        raise UnsafePathError(f"{path}: its folder resolves to {parent}, outside {root}; "
                              f"a symbolic link inside RadView's folder points out of it")
    return Path(parent) / path.name


def create_dirs(path: Path) -> Path:
    """Create `path` and its missing parents 0700 (whatever the umask); existing folders are left as they are."""
    path = Path(path)
    missing, folder = [], path
    while not folder.is_dir() and folder != folder.parent:
        if folder.is_symlink():
            raise _refuse_link(folder)  # a dangling link where a folder should be created
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not folder.is_dir() or folder.is_symlink():  # another process made it: fine; a link or file: not
                raise
            continue
        os.chmod(folder, DIR_MODE)  # mkdir's mode is masked by the umask
    return path


def private_dir(path: Path, root: Path | None = None) -> Path:
    """RadView's own folder at `path`: created 0700 with its missing parents, made 0700 if it was
    looser, refused if it is a link or (with `root`) resolves outside `root`."""
    path = Path(path)
    if root is not None:
        check_inside(path, root)
    if path.is_symlink():
        raise _refuse_link(path)
    create_dirs(path)
    info = path.lstat()
    if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == _euid():
        os.chmod(path, DIR_MODE)  # folders made by an older RadView under a loose umask
    return path


def _euid() -> int:
    return os.geteuid() if hasattr(os, "geteuid") else -1


def _open_fd(path: Path, flags: int, truncate: bool = False) -> int:
    """os.open without following a link at `path`, a regular file with one name only; the error names the file."""
    if not _NOFOLLOW and path.is_symlink():
        raise _refuse_link(path)
    try:
        fd = os.open(path, flags | _NOFOLLOW | _CLOEXEC | _BINARY | _NONBLOCK, FILE_MODE)
    except OSError as error:
        # Linux and macOS say ELOOP for a link under O_NOFOLLOW, FreeBSD EMLINK
        if error.errno in (errno.ELOOP, errno.EMLINK) and path.is_symlink():
            raise _refuse_link(path) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError(f"{path}: is not a regular file")
        if _NONBLOCK:
            os.set_blocking(fd, True)
        if flags & os.O_WRONLY:
            if info.st_nlink > 1:  # a hard link planted to someone else's file: writing would change that file
                raise UnsafePathError(f"{path}: has {info.st_nlink} names (hard links); "
                                      f"RadView writes only files of its own")
            if stat.S_IMODE(info.st_mode) != FILE_MODE and info.st_uid == _euid():
                _chmod_fd(fd, path)  # O_CREAT's mode is masked by the umask
            if truncate:
                os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _chmod_fd(fd: int, path: Path) -> None:
    if hasattr(os, "fchmod"):
        os.fchmod(fd, FILE_MODE)
    else:
        os.chmod(path, FILE_MODE)


def open_private(path: Path, mode: str = "r", root: Path | None = None, encoding: str = "utf-8") -> IO:
    """open() for RadView's files: no link followed, created 0600; mode is r, w, a or x, plus b for bytes.

    Writing modes create the missing folders 0700; with `root`, the file's folder must resolve inside it."""
    path = Path(path)
    kind = mode.replace("b", "")
    if kind not in _FLAGS:
        raise ValueError(f"open_private: mode {mode!r} must be r, w, a or x, with or without b")
    if root is not None:
        path = check_inside(path, root)
    if kind != "r":
        create_dirs(path.parent)
    fd = _open_fd(path, _FLAGS[kind], truncate=kind == "w")
    if "b" in mode:
        return os.fdopen(fd, kind + "b")
    return os.fdopen(fd, kind, encoding=encoding, newline="")


def read_private(path: Path, root: Path | None = None) -> bytes:
    """The bytes of `path`, not following a link there; FileNotFoundError when it does not exist."""
    with open_private(path, "rb", root) as f:
        return f.read()


def _fsync_dir(folder: Path) -> None:
    """Make a new or renamed directory entry durable (POSIX; Windows cannot open a folder)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY | _CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def append_private(path: Path, text: str, root: Path | None = None) -> None:
    """Append `text` (UTF-8) to `path` and fsync it: O_APPEND|O_CREAT|O_NOFOLLOW, mode 0600.

    Missing folders are created 0700; with `root`, the file's folder must resolve inside it. One
    write call per append, so two appenders never interleave inside a line on a local disk."""
    path = Path(path) if root is None else check_inside(path, root)
    create_dirs(path.parent)
    existed = path.exists()
    fd = _open_fd(path, _FLAGS["a"])
    try:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)
    if not existed:
        _fsync_dir(path.parent)


def write_private_atomic(path: Path, data: bytes | str, root: Path | None = None) -> None:
    """Replace `path` with `data` (str: UTF-8) atomically: a crash leaves the old file or the new one.

    The temp file beside it has a unique name (mkstemp: O_EXCL, so never a planted file or link)
    and mode 0600; it is fsynced, then renamed over `path`. A link at `path` is refused rather
    than replaced. Missing folders are created 0700; with `root`, the folder must resolve inside it."""
    path = Path(path) if root is None else check_inside(path, root)
    if isinstance(data, str):
        data = data.encode("utf-8")
    create_dirs(path.parent)
    if path.is_symlink():
        raise _refuse_link(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            _chmod_fd(f.fileno(), Path(tmp))  # mkstemp's 0600 already; said here so no umask can widen it
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # rename never follows a link at `path`: a link swapped in meanwhile is replaced
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
