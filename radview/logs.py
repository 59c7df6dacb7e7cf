"""The log file: where tracebacks go, so that the user sees a readable message instead."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from radview.core.safe_files import UnsafePathError, private_dir
from radview.user_dirs import log_dir

LOG_NAME = "radview.log"


def setup_logging(level: int = logging.INFO) -> Path:
    """Send the `radview` logger to a rotating file in the log folder; returns the file's path."""
    folder = private_dir(log_dir())  # 0700: tracebacks may name patients' files
    path = folder / LOG_NAME
    if path.is_symlink():  # the handler would follow it and write where someone else pointed
        raise UnsafePathError(f"{path}: the log file is a symbolic link; remove it")
    logger = logging.getLogger("radview")
    if not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in logger.handlers):
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)
    return path


def log_file() -> Path:
    """Path of the current log file (it may not exist yet)."""
    return log_dir() / LOG_NAME
