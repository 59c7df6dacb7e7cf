"""Where RadView keeps its files: settings, logs and per-study workspaces (platformdirs), and
the PACS passwords and tokens (the OS keyring, or a 0600 file beside the settings: PacsSecrets).

RADVIEW_HOME, when set, puts all of them under one folder (tests, portable installs).
Nothing is ever written into a DICOM folder the user opened.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from radview.core.pacs import PacsSecrets

APP_NAME = "RadView"


def _home() -> Path | None:
    home = os.environ.get("RADVIEW_HOME")
    return Path(home) if home else None


def settings_path() -> Path:
    """The settings JSON file."""
    home = _home()
    base = home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    return base / "settings.json"


def log_dir() -> Path:
    """Folder of the log files (tracebacks go here, not to the user)."""
    home = _home()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def data_dir() -> Path:
    """Root of per-study workspaces and caches."""
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def header_cache_path() -> Path:
    """The cache of parsed DICOM headers (radview.dicom.header_cache): it holds patient names and
    IDs, so it lives with the study workspaces, not in a shared temporary folder."""
    return data_dir() / "header-cache.sqlite"


def imported_models_dir() -> Path:
    """Model packages made by `radview models import` (MONAI bundles a site imported)."""
    return data_dir() / "models"


def pacs_secrets() -> PacsSecrets:
    """The PACS passwords and tokens of the settings file's nodes (never in the file itself)."""
    return PacsSecrets(settings_path().parent)
