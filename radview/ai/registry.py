"""Find the model packages, check them, and load their networks.

Shipped models live in `models/` at the repository root (a checkout), in
`<prefix>/share/radview/models` (an installed wheel) or beside the executable (a PyInstaller
bundle). Extra folders (a site's own models) come from the settings. A package whose card is
broken, whose architecture is unknown or whose weights fail their sha256 is refused with a
reason; the others still run. Weights are read with safetensors only: nothing is unpickled.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

from radview.ai.card import CARD_FILE, CardError, ModelCard, load_card
from radview.ai.input_spec import validate_applies_to
from radview.ai.networks import ARCHITECTURES

_SHA_CACHE: dict[tuple[str, float, int], str] = {}


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


def check_package(folder: Path) -> ModelCard:
    """Load and check one model folder; CardError with a reason if it must not run."""
    card = load_card(folder / CARD_FILE)
    if card.architecture not in ARCHITECTURES:
        raise CardError(f"{card.path}: unknown architecture '{card.architecture}'")
    if not card.weights_path.is_file():
        raise CardError(f"{card.weights_path}: the weights file is missing")
    if card.weights_path.suffix != ".safetensors":
        raise CardError(f"{card.weights_path}: only .safetensors weights are loaded (never pickles)")
    actual = sha256_of(card.weights_path)
    if actual != card.weights_sha256:
        raise CardError(
            f"{card.weights_path}: checksum mismatch (card {card.weights_sha256[:12]}..., file {actual[:12]}...); "
            "the file was changed or damaged, so the model is not run"
        )
    validate_applies_to(card)
    if not card.conformance:
        # a model that cannot tell an image unlike its training data would show findings on anything
        raise CardError(f"{card.path}: the card has no input-conformance check, so the model is not run "
                        f"(make one: radview train {card.folder} --conformance-only [--data DIR])")
    statistics = card.folder / card.conformance["statistics_file"]
    if not statistics.is_file() or sha256_of(statistics) != card.conformance["sha256"]:
        raise CardError(f"{statistics}: the input-conformance statistics are missing or do not match the card's sha256")
    return card


def find_models(extra_folders: list[str] | None = None) -> tuple[list[ModelCard], list[RefusedModel]]:
    """Every model package found: (usable cards, refused folders with reasons). Ids are unique:
    a site folder listed in the settings wins over a shipped model of the same id."""
    roots = [Path(f) for f in (extra_folders or [])] + shipped_model_folders()
    cards: dict[str, ModelCard] = {}
    refused: list[RefusedModel] = []
    for root in roots:
        folders = [root] if (root / CARD_FILE).is_file() else sorted(p for p in root.iterdir() if (p / CARD_FILE).is_file()) if root.is_dir() else []
        for folder in folders:
            try:
                card = check_package(folder)
            except CardError as exc:
                refused.append(RefusedModel(folder, str(exc)))
                continue
            cards.setdefault(card.id, card)
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
