"""The user's settings: one JSON file, validated field by field.

A broken or unreadable file never stops the app: the bad fields fall back to their defaults and
the problems are returned so the caller can tell the user. Nothing the user saved is lost on the
way: a file that is not JSON is kept beside it (settings.json.broken-<UTC time>) before the
defaults are used, and a PACS node is dropped only with a copy of the file kept the same way.
PACS passwords and tokens never stay in the file: PacsSecrets keeps them (the OS keyring, or a
0600 file where there is none), and a file that still has them is migrated when it is loaded.
The file and its folder are the user's only (0600 / 0700) and a link at the file is refused.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

from radview.core.hanging_protocols import (
    DEFAULT_PROTOCOLS,
    KINDS,
    HangingProtocol,
    default_protocol_dicts,
    load_protocols,
)
from radview.core.pacs import SECRET_FIELDS, PacsNode, PacsSecrets
from radview.core.safe_files import UnsafePathError, open_private, private_dir, read_private, write_private_atomic

log = logging.getLogger("radview.settings")

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
    # PACS nodes as radview.core.pacs.PacsNode dicts. Their passwords and tokens are in
    # PacsSecrets, never in the file (in memory only until the next save_settings moves them).
    pacs_nodes: list[dict] = field(default_factory=list)
    worklist_max_wait_minutes: int = 60  # triage never keeps a study waiting longer than this
    ai_check: str = ""  # the first start's model check ("... ran on CPU ..."); empty: not yet run
    # how each kind of series opens (radview.core.hanging_protocols): kind -> HangingProtocol dict
    hanging_protocols: dict[str, dict] = field(default_factory=default_protocol_dicts)
    # Qt's saveGeometry/saveState/splitter states, base64; the GUI owns their meaning.
    window_state: dict[str, str] = field(default_factory=dict)

    def pacs_node(self, name: str) -> PacsNode:
        """The node called `name` (case-insensitive); KeyError names the known ones."""
        for data in self.pacs_nodes:
            if data.get("name", "").lower() == name.lower():
                return PacsNode.from_dict(data)
        known = ", ".join(d.get("name", "?") for d in self.pacs_nodes) or "none"
        raise KeyError(f"no PACS node called {name!r} in the settings (known: {known})")

    def hanging_protocol(self, kind: str) -> HangingProtocol:
        """The protocol the reader keeps for `kind` (one of radview.core.hanging_protocols.KINDS)."""
        if kind not in KINDS:
            raise KeyError(f"no hanging protocol kind {kind!r} (known: {', '.join(KINDS)})")
        kept = self.hanging_protocols.get(kind)
        return DEFAULT_PROTOCOLS[kind] if kept is None else HangingProtocol.from_dict(kept)

    def add_recent_folder(self, folder: str) -> None:
        """Put `folder` first in the recent list, without duplicates, at most MAX_RECENT_FOLDERS."""
        self.recent_folders = [folder] + [f for f in self.recent_folders if f != folder]
        del self.recent_folders[MAX_RECENT_FOLDERS:]
        self.last_folder = folder


_CHOICES = {"view_layout": LAYOUTS, "device": DEVICES, "page_size": PAGE_SIZES}
BROKEN_SUFFIX = ".broken-"


def _valid(name: str, value: object, default: object) -> bool:
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


def keep_broken_copy(path: Path, data: bytes) -> Path:
    """Keep `data` (what `path` held) as <path>.broken-<UTC date-time>, 0600; an identical copy
    already kept is reused, so loading the same broken file again adds no new copy."""
    for earlier in sorted(path.parent.glob(f"{path.name}{BROKEN_SUFFIX}*")):
        try:
            if read_private(earlier) == data:
                return earlier
        except OSError:
            continue
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    for n in range(1, 1000):
        copy = path.with_name(f"{path.name}{BROKEN_SUFFIX}{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            with open_private(copy, "xb", path.parent) as f:  # x: never over an earlier copy or a planted link
                f.write(data)
            return copy
        except FileExistsError:
            continue
    raise FileExistsError(f"{path}: too many broken copies beside it")


def _load_nodes(value: object, path: Path) -> tuple[list[dict], list[str], bool]:
    """The PACS nodes that can be used, the problems, and whether any node was left out.

    Each node is checked on its own: one that cannot be read (a port as text) or used (no host)
    is left out and named, the others are kept (the caller keeps a copy of the file)."""
    if not isinstance(value, list):
        return [], [f"{path}: setting 'pacs_nodes' is not a list ({type(value).__name__})"], True
    nodes, problems = [], []
    for number, data in enumerate(value, start=1):
        try:
            node_problems = PacsNode.from_dict(data).problems()
        except (ValueError, TypeError) as error:
            node_problems = [str(error)]
        if node_problems:
            name = data.get("name") if isinstance(data, dict) else None
            problems.append(f"{path}: setting 'pacs_nodes': node {name if isinstance(name, str) else number!r} "
                            f"is left out ({'; '.join(node_problems)})")
        else:
            nodes.append(dict(data))
    return nodes, problems, len(nodes) < len(value)


def _apply(settings: Settings, raw: dict, path: Path) -> tuple[list[str], bool]:
    """Copy the valid fields of `raw` into `settings`; (problems, whether a PACS node was dropped)."""
    problems, dropped = [], False
    for f in fields(Settings):
        if f.name not in raw:
            continue
        default = getattr(settings, f.name)
        if f.name == "pacs_nodes":
            settings.pacs_nodes, node_problems, dropped = _load_nodes(raw[f.name], path)
            problems += node_problems
        elif f.name == "hanging_protocols":  # each kind on its own: one bad protocol keeps the others
            settings.hanging_protocols, protocol_problems = load_protocols(raw[f.name])
            problems += [f"{path}: setting 'hanging_protocols': {p}" for p in protocol_problems]
        elif _valid(f.name, raw[f.name], default):
            setattr(settings, f.name, raw[f.name])
        else:
            problems.append(f"{path}: setting '{f.name}' has an invalid value {raw[f.name]!r}; using {default!r}")
    del settings.recent_folders[MAX_RECENT_FOLDERS:]
    return problems, dropped


def _migrate_secrets(raw: dict, settings: Settings, path: Path, secrets: PacsSecrets) -> list[str]:
    """Move the clear-text PACS secrets of an older settings file into `secrets` and rewrite the
    file without them; the problems (none when that worked: the log says where they went).
    Whatever cannot be moved stays where it was, and the problem says so."""
    nodes = raw.get("pacs_nodes")
    found = [(d, name) for d in (nodes if isinstance(nodes, list) else [])
             if isinstance(d, dict) and isinstance(d.get("name"), str) for name in SECRET_FIELDS if name in d]
    if not found:
        return []
    moved = []
    try:
        for data, name in found:
            if isinstance(data[name], str) and data[name]:
                moved.append(f"the {name} of {data['name']!r} into {secrets.put(data['name'], name, data[name])}")
    except (OSError, ValueError) as error:
        return [(f"{path}: cannot move the PACS passwords and tokens out of this file into {secrets.where} "
                 f"({error}); they stay in it until that works")]
    for data, name in found:
        del data[name]
    for node in settings.pacs_nodes:
        for name in SECRET_FIELDS:
            node.pop(name, None)
    try:
        write_private_atomic(path, json.dumps(raw, indent=2), path.parent)
    except OSError as error:
        return [(f"{path}: the PACS secrets are now also in {secrets.where}, but the file could not be rewritten "
                 f"without them ({error}): remove them from it by hand")]
    # done as it should be: not a problem to show at start-up, but the log says where they went
    for line in moved:
        log.info("%s: moved %s", path, line)
    return []


def load_settings(path: Path, secrets: PacsSecrets | None = None) -> tuple[Settings, list[str]]:
    """Read settings from `path`: (settings, problems). A missing file is not a problem.

    `secrets`: where PACS secrets found in the file are moved (default: PacsSecrets of its folder)."""
    settings = Settings()
    path = Path(path)
    try:
        data = read_private(path, path.parent)
    except FileNotFoundError:
        return settings, []
    except UnsafePathError as exc:
        return settings, [f"{exc}; using the default settings"]
    except OSError as exc:
        return settings, [f"{path}: cannot be read ({exc}); using the default settings"]
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict):
            raise ValueError(f"a JSON {type(raw).__name__}, not an object")
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        return settings, [_broken(path, data, str(exc))]
    problems, dropped = _apply(settings, raw, path)
    problems += _migrate_secrets(raw, settings, path, secrets or PacsSecrets(path.parent))
    if dropped:  # the file, less its secrets (now in `secrets`), so the next save loses no node
        problems.append(_kept_copy(path, json.dumps(raw, indent=2).encode("utf-8"),
                                   "the PACS nodes above are left out; add them again in Settings > PACS nodes"))
    return settings, problems


def _broken(path: Path, data: bytes, reason: str) -> str:
    return _kept_copy(path, data, f"not a settings file ({reason}); using the default settings")


def _kept_copy(path: Path, data: bytes, what: str) -> str:
    """The problem line for a file kept aside: it names both files."""
    try:
        copy = keep_broken_copy(path, data)
    except OSError as error:
        return f"{path}: {what}; a copy could not be kept ({error}): copy the file yourself before saving settings"
    return f"{path}: {what}; the file as it was is kept in {copy} (saving settings replaces {path.name})"


def save_settings(settings: Settings, path: Path, secrets: PacsSecrets | None = None) -> list[str]:
    """Write settings atomically, readable by the user only; returns a line for each PACS secret
    moved out of `settings` into `secrets` (default: PacsSecrets of the file's folder), saying where."""
    path = Path(path)
    private_dir(path.parent)
    secrets = secrets or PacsSecrets(path.parent)
    notes = []
    for node in settings.pacs_nodes:
        for name in SECRET_FIELDS:
            secret = node.pop(name, "")
            if isinstance(secret, str) and secret:
                try:
                    where = secrets.put(node.get("name", ""), name, secret)
                except BaseException:
                    node[name] = secret  # not stored: keep it for this session, and the file as it was
                    raise
                notes.append(f"PACS node {node.get('name', '?')!r}: {name} kept in {where}")
    data = asdict(settings)
    data["pacs_nodes"] = [{k: v for k, v in n.items() if k not in SECRET_FIELDS} for n in data["pacs_nodes"]]
    write_private_atomic(path, json.dumps(data, indent=2), path.parent)
    return notes
