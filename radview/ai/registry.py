"""Find the model packages, check them, and load their networks.

Shipped models live in `models/` at the repository root (a checkout), in
`<prefix>/share/radview/models` (an installed wheel) or beside the executable (a PyInstaller
bundle). Extra folders (a site's own models) come from the settings. A package whose card is
broken, whose architecture is unknown, whose weights fail their sha256 or whose safetensors header
does not parse is refused with a reason; the others still run. Weights are read with safetensors
only: nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import logging
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

from radview.ai.card import CARD_FILE, CardError, ModelCard, load_card
from radview.ai.input_spec import validate_applies_to
from radview.ai.networks import ARCHITECTURES

_SHA_CACHE: dict[tuple[str, float, int], str] = {}
_HEADER_LIMIT = 100 << 20  # the safetensors format's own limit on the JSON header (100 MB)
log = logging.getLogger("radview.ai")


@dataclass(frozen=True)
class RefusedModel:
    """A model folder that cannot be used, and why."""

    folder: Path
    reason: str


def shipped_model_folders() -> list[Path]:
    """Where the shipped models may be, for a checkout, a wheel and a frozen bundle."""
    here = Path(__file__).resolve()
    candidates = [
        Path(getattr(sys, "_MEIPASS", "")) / "models" if getattr(sys, "frozen", False) else None,
        here.parents[2] / "models",  # checkout / editable install
        Path(sys.prefix) / "share" / "radview" / "models",  # wheel data files
    ]
    return [c for c in candidates if c is not None and c.is_dir()]


def imported_models_folder() -> Path:
    """Where `radview models import` puts the bundles a site imports (under the user data dir)."""
    from radview.user_dirs import imported_models_dir

    return imported_models_dir()


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file (cached by path, mtime and size)."""
    stat = path.stat()
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _SHA_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _SHA_CACHE[key] = digest.hexdigest()
    return _SHA_CACHE[key]


def safetensors_problem(path: Path) -> str | None:
    """Why the safetensors file at `path` cannot be read, from its header alone; None if it can.

    The sha256 says the file is the one the card names, not that it is a safetensors file: a card
    made for a damaged file would pass it and fail at run time. Only the header is read (the
    8-byte length, then the JSON that safetensors checks: names, dtypes, shapes, offsets that fit
    the file), never the tensors, so listing the models stays fast."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            prefix = f.read(8)
    except OSError as exc:
        return f"cannot be read ({exc})"
    if len(prefix) < 8:
        return "is too short for a safetensors header"
    length = struct.unpack("<Q", prefix)[0]
    if not 2 <= length <= min(size - 8, _HEADER_LIMIT):  # checked here so no parser is asked for an absurd read
        return f"has a corrupt safetensors header (it claims {length} bytes; the file has {size})"
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as weights:
            names = list(weights.keys())
    except Exception as exc:  # SafetensorError, or whatever else the parser says of a damaged file
        return f"has a corrupt safetensors header ({_first_line(exc)})"
    return None if names else "holds no tensors"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _check_file(path: Path, sha256: str, what: str) -> None:
    """CardError unless the file at `path` has `sha256` and a readable safetensors header."""
    try:
        actual = sha256_of(path)
    except OSError as exc:
        raise CardError(f"{path}: the {what} cannot be read ({exc})") from exc
    if actual != sha256:
        raise CardError(
            f"{path}: checksum mismatch for the {what} (card {sha256[:12]}..., file {actual[:12]}...); "
            "the file was changed or damaged, so the model is not run"
        )
    problem = safetensors_problem(path)
    if problem:
        raise CardError(f"{path}: the {what} file {problem}, so the model is not run")


def check_package(folder: Path) -> ModelCard:
    """Load and check one model folder; CardError with a reason if it must not run."""
    card = load_card(folder / CARD_FILE)
    if card.architecture not in ARCHITECTURES:
        raise CardError(f"{card.path}: unknown architecture '{card.architecture}'")
    if not card.weights_path.is_file():
        raise CardError(f"{card.weights_path}: the weights file is missing")
    if card.weights_path.suffix != ".safetensors":
        raise CardError(f"{card.weights_path}: only .safetensors weights are loaded (never pickles)")
    _check_file(card.weights_path, card.weights_sha256, "weights")
    validate_applies_to(card)
    if card.is_bundle:  # an imported bundle: its steps re-checked against the allow-lists; no input check to load
        from radview.ai.bundle_engine import checked_pipeline

        checked_pipeline(card)
        return card
    if not card.conformance:
        # a model that cannot tell an image unlike its training data would show findings on anything
        raise CardError(f"{card.path}: the card has no input-conformance check, so the model is not run "
                        f"(make one: radview train {card.folder} --conformance-only [--data DIR])")
    statistics = card.folder / card.conformance["statistics_file"]
    if not statistics.is_file():
        raise CardError(f"{statistics}: the input-conformance statistics are missing")
    _check_file(statistics, card.conformance["sha256"], "input-conformance statistics")
    if card.postprocessing == "lung_nodules_ct":  # its findings are what the false-positive reduction keeps
        from radview.ai.nodule_fp import fp_reduction_section

        section = fp_reduction_section(card)
        _check_file(card.folder / section["file"], section["sha256"], "false-positive reduction")
    return card


def _package_folders(root: Path) -> list[Path]:
    """The model folders in `root` (or `root` itself when it is one); [] when it cannot be listed."""
    try:
        if (root / CARD_FILE).is_file():
            return [root]
        return sorted(p for p in root.iterdir() if (p / CARD_FILE).is_file()) if root.is_dir() else []
    except OSError as exc:  # an unreadable site folder must not hide the shipped models
        log.warning("cannot list model folder %s: %s", root, exc)
        return []


def _checked(folder: Path) -> ModelCard | RefusedModel:
    """check_package's card, or the folder refused with the reason; never raises."""
    try:
        return check_package(folder)
    except CardError as exc:
        return RefusedModel(folder, str(exc))
    except Exception as exc:  # a gap in the checks: this package is refused, the others still listed
        log.exception("model package %s could not be checked", folder)
        return RefusedModel(folder, f"{folder}: the package could not be checked ({type(exc).__name__}: {_first_line(exc)})")


def find_models(extra_folders: list[str] | None = None) -> tuple[list[ModelCard], list[RefusedModel]]:
    """Every model package found: (usable cards, refused folders with reasons). Ids are unique:
    a site folder listed in the settings wins over a shipped model of the same id."""
    roots = [Path(f) for f in (extra_folders or [])] + shipped_model_folders() + [imported_models_folder()]
    cards: dict[str, ModelCard] = {}
    refused: list[RefusedModel] = []
    for root in roots:
        for folder in _package_folders(root):
            checked = _checked(folder)
            if isinstance(checked, RefusedModel):
                refused.append(checked)
            else:
                cards.setdefault(checked.id, checked)
    return list(cards.values()), refused


def load_network(card: ModelCard, device: str = "cpu"):
    """The card's network with its weights, in eval mode on `device`. Checks the sha256 again
    right before reading, so a file swapped after discovery is still refused."""
    from safetensors.torch import load_file

    from radview.ai.networks import build_network

    actual = sha256_of(card.weights_path)
    if actual != card.weights_sha256:
        raise CardError(f"{card.weights_path}: checksum mismatch; the model is not run")
    network = build_network(card.architecture, card.architecture_args)
    state = load_file(str(card.weights_path), device="cpu")
    missing, unexpected = network.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CardError(f"{card.weights_path}: weights do not fit {card.architecture} "
                        f"(missing {len(missing)}, unexpected {len(unexpected)} tensors)")
    return network.to(device).eval()
