"""The user's settings: one JSON file, validated field by field.

A broken or unreadable file never stops the app: the bad fields fall back to their defaults and
the problems are returned so the caller can tell the user.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from radview.core.atomic import write_text_atomic
from radview.core.pacs import PacsNode

MAX_RECENT_FOLDERS = 10
LAYOUTS = ("1x1", "1x3", "2x2")
DEVICES = ("auto", "cpu", "cuda")
PAGE_SIZES = ("A4", "Letter")


@dataclass
class Settings:
    """Everything the user can set, with defaults that work on a fresh machine."""

    reader_name: str = ""
    recent_folders: list[str] = field(default_factory=list)
    last_folder: str = ""
    view_layout: str = "1x3"
    device: str = "auto"
    model_folders: list[str] = field(default_factory=list)
    run_models_on_open: bool = True
    institution: str = ""  # printed at the top of every report
    page_size: str = "A4"  # of the report PDF
    # PACS nodes as radview.core.pacs.PacsNode dicts. Passwords and tokens are stored in this
    # file as typed (readable by the user only): a hospital should prefer tokens it can revoke.
    pacs_nodes: list[dict] = field(default_factory=list)
    worklist_max_wait_minutes: int = 60  # triage never keeps a study waiting longer than this
    ai_check: str = ""  # the first start's model check ("... ran on CPU ..."); empty: not yet run
    # Qt's saveGeometry/saveState/splitter states, base64; the GUI owns their meaning.
    window_state: dict[str, str] = field(default_factory=dict)

    def pacs_node(self, name: str) -> PacsNode:
        """The node called `name` (case-insensitive); KeyError names the known ones."""
        for data in self.pacs_nodes:
            if data.get("name", "").lower() == name.lower():
                return PacsNode.from_dict(data)
        known = ", ".join(d.get("name", "?") for d in self.pacs_nodes) or "none"
        raise KeyError(f"no PACS node called {name!r} in the settings (known: {known})")

    def add_recent_folder(self, folder: str) -> None:
        """Put `folder` first in the recent list, without duplicates, at most MAX_RECENT_FOLDERS."""
        self.recent_folders = [folder] + [f for f in self.recent_folders if f != folder]
        del self.recent_folders[MAX_RECENT_FOLDERS:]
        self.last_folder = folder


_CHOICES = {"view_layout": LAYOUTS, "device": DEVICES, "page_size": PAGE_SIZES}


def _valid(name: str, value: object, default: object) -> bool:
    if name == "pacs_nodes":
        try:
            return isinstance(value, list) and not any(PacsNode.from_dict(v).problems() for v in value)
        except ValueError:
            return False
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool) and value > 0
    if isinstance(default, str):
        return isinstance(value, str) and (name not in _CHOICES or value in _CHOICES[name])
    if isinstance(default, list):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if isinstance(default, dict):
        return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())
    return False


def load_settings(path: Path) -> tuple[Settings, list[str]]:
    """Read settings from `path`: (settings, problems). A missing file is not a problem."""
    settings = Settings()
    path = Path(path)
    if not path.exists():
        return settings, []
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return settings, [f"{path}: cannot be read ({exc}); using the default settings"]
    if not isinstance(raw, dict):
        return settings, [f"{path}: is not a JSON object; using the default settings"]
    problems = []
    for f in fields(Settings):
        if f.name not in raw:
            continue
        default = getattr(settings, f.name)
        if _valid(f.name, raw[f.name], default):
            setattr(settings, f.name, raw[f.name])
        else:
            problems.append(f"{path}: setting '{f.name}' has an invalid value {raw[f.name]!r}; using {default!r}")
    del settings.recent_folders[MAX_RECENT_FOLDERS:]
    return settings, problems


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically, readable by the user only (PACS passwords may be in it)."""
    write_text_atomic(Path(path), json.dumps(asdict(settings), indent=2))
    os.chmod(path, 0o600)
