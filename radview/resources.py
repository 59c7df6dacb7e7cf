"""Where the files of `resources/` (icon, theme) are: in a PyInstaller bundle, a checkout, or an
installed wheel (the same three places radview.ai.registry looks for the models)."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_folders() -> list[Path]:
    here = Path(__file__).resolve()
    folders = [Path(getattr(sys, "_MEIPASS", "")) / "resources"] if getattr(sys, "frozen", False) else []
    return folders + [here.parents[1] / "resources", Path(sys.prefix) / "share" / "radview" / "resources"]


def resource_path(name: str) -> Path | None:
    """The first existing resources/<name>, or None."""
    return next((folder / name for folder in resource_folders() if (folder / name).is_file()), None)
