"""A broken model package is refused with the file and the field named; the shipped models still run.

Each case copies a shipped package into tmp_path, breaks one thing and lists the models: the copy
is refused by name and the three shipped models are still found. Nothing under models/ is changed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from radview.ai import registry
from radview.ai.card import CardError, load_card
from radview.ai.registry import find_models

SHIPPED = Path(__file__).resolve().parents[2] / "models"
SHIPPED_IDS = {"ct-nodule", "cxr-nodule", "mr-brain-tumor"}


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of a shipped package in its own site folder (tmp_path/site/broken)."""
    folder = tmp_path / "site" / "broken"
    shutil.copytree(SHIPPED / "mr-brain-tumor", folder)
    return folder


def _edit_card(folder: Path, edit: Callable[[dict], object]) -> Path:
    path = folder / "model.json"
    card = json.loads(path.read_text())
    edit(card)
    path.write_text(json.dumps(card))
    return path


def _refused_and_shipped_still_listed(folder: Path) -> str:
    """find_models on the copy's site folder: the copy refused, the shipped three listed; the reason."""
    cards, refused = find_models([str(folder.parent)])
    assert [r.folder for r in refused] == [folder]
    assert {c.id for c in cards} == SHIPPED_IDS
    assert all(c.folder.parent == SHIPPED for c in cards), "a refused copy must not replace a shipped model"
    return refused[0].reason


def _deeply_nested(folder: Path) -> Path:
    """100,000 nested lists: json.loads alone raises RecursionError on this."""
    path = folder / "model.json"
    text = path.read_text().rstrip()
    path.write_text(text[:-1] + ', "notes": ' + "[" * 100_000 + "]" * 100_000 + "}")
    return path


BAD_CARDS = [
    pytest.param(lambda c: c.update(thresholds=[0.5, 0.9]), "thresholds should be an object, not a list", id="thresholds-list"),
    pytest.param(lambda c: c["input"].update(context_slices="2"), "input.context_slices should be an integer, not a string",
                 id="context-slices-string"),
    pytest.param(lambda c: c.update(outputs=[]), "outputs should not be empty", id="empty-outputs"),
    pytest.param(lambda c: c["architecture"]["args"].update(out_channels=100_000),
                 "architecture.args.out_channels should be at most 65, not 100000", id="100000-output-channels"),
    pytest.param(lambda c: c.pop("postprocessing"), "the card has no 'postprocessing'", id="no-postprocessing"),
    pytest.param(lambda c: (c["architecture"]["args"].update(channels=[512, 512, 512, 512]), c["input"].update(size=[4096, 4096])),
                 "architecture.args.channels [512, 512, 512, 512] on input.size [4096, 4096] would need more than 1 GiB",
                 id="activations-too-large"),
    pytest.param(lambda c: c["architecture"]["args"].update(in_channels=3), "architecture.args.in_channels should be 1",
                 id="in-channels-not-context"),
    pytest.param(lambda c: c["outputs"][0].update(value=7), "outputs[0].value 7 has no channel", id="label-without-channel"),
    pytest.param(lambda c: c["outputs"][0].update(code="108369006"), "outputs[0].code should be a list, not a string",
                 id="code-string"),
    pytest.param(lambda c: c["weights"].update(file="../../elsewhere.safetensors"),
                 "weights.file should be a file name inside the model folder", id="weights-outside-folder"),
    pytest.param(lambda c: c["input"]["normalisation"].update(method="log"), "unknown input.normalisation.method 'log'",
                 id="unknown-normalisation"),
    pytest.param(lambda c: c["metrics"].update(headline=[1]), "metrics.headline should be an object, not a list",
                 id="headline-list"),
    pytest.param(lambda c: c["input"].update(size=[256.0, 256]), "input.size[0] should be an integer, not a number",
                 id="size-float"),
]


@pytest.mark.parametrize(("edit", "message"), BAD_CARDS)
def test_a_bad_card_is_refused_by_field_and_the_shipped_models_still_run(package: Path, edit, message: str):
    path = _edit_card(package, edit)
    reason = _refused_and_shipped_still_listed(package)
    assert reason.startswith(f"{path}: ") and message in reason


def test_deep_nesting_is_refused_before_parsing(package: Path):
    path = _deeply_nested(package)
    reason = _refused_and_shipped_still_listed(package)
    assert reason.startswith(f"{path}: ") and "nests objects and lists deeper than 20 levels (line " in reason


def test_a_card_with_100000_output_labels_is_refused(package: Path):
    path = _edit_card(package, lambda c: c.update(outputs=[{**c["outputs"][0], "value": n} for n in range(1, 100_001)]))
    reason = _refused_and_shipped_still_listed(package)
    assert reason.startswith(f"{path}: the model card is larger than")


def _set_weights(folder: Path, data: bytes) -> Path:
    """Write new weights and give the card their sha256, as someone making a package would."""
    weights = folder / "weights.safetensors"
    weights.write_bytes(data)
    _edit_card(folder, lambda c: c["weights"].update(sha256=hashlib.sha256(data).hexdigest()))
    return weights


def _garbled_header(data: bytes) -> bytes:
    return data[:8] + b"#not json" + data[17:]


def _header_longer_than_file(data: bytes) -> bytes:
    return struct.pack("<Q", len(data) * 2) + data[8:]


def _truncated(data: bytes) -> bytes:
    return data[:-4]  # the header's offsets now run past the end of the file


@pytest.mark.parametrize("corrupt", [_garbled_header, _header_longer_than_file, _truncated])
def test_a_corrupt_weights_header_with_a_matching_sha256_is_refused(package: Path, corrupt):
    weights = _set_weights(package, corrupt((package / "weights.safetensors").read_bytes()))
    reason = _refused_and_shipped_still_listed(package)
    assert reason.startswith(f"{weights}: the weights file has a corrupt safetensors header")


def test_an_unreadable_weights_file_is_refused(package: Path):
    weights = _set_weights(package, b"\x01")
    reason = _refused_and_shipped_still_listed(package)
    assert reason.startswith(f"{weights}: the weights file is too short")


def test_an_unexpected_error_refuses_only_its_package(package: Path, monkeypatch):
    """A gap in the checks costs the package it is in, never the listing."""
    real = registry.validate_applies_to

    def failing(card):
        if card.folder == package:
            raise ZeroDivisionError("a bug")
        real(card)

    monkeypatch.setattr(registry, "validate_applies_to", failing)
    reason = _refused_and_shipped_still_listed(package)
    assert reason.startswith(f"{package}: the package could not be checked (ZeroDivisionError: a bug)")


MALFORMED_TEXT = [
    b'{"id": NaN}', b'{"id": 1e400}', b'{"id": ' + b"9" * 5000 + b"}", b"\xff\xfe not utf-8", b"[]", b"null", b"",
    b'"a string"', b"[" * 50 + b"]" * 50, b'{"a": "' + b"[" * 100 + b'"}', b'{"id": "\\', b"{" * 3000,
]


@pytest.mark.parametrize("text", MALFORMED_TEXT)
def test_load_card_raises_only_card_error_naming_the_file(tmp_path: Path, text: bytes):
    path = tmp_path / "model.json"
    path.write_bytes(text)
    with pytest.raises(CardError) as error:
        load_card(path)
    assert str(error.value).startswith(f"{path}: ")


def test_brackets_inside_strings_do_not_count_as_nesting(package: Path):
    path = _edit_card(package, lambda c: c.update(notice="[[[[" * 100 + c["notice"]))
    assert load_card(path).notice.startswith("[[[[")


def test_the_shipped_cards_pass_the_schema():
    for folder in sorted(SHIPPED.iterdir()):
        assert load_card(folder / "model.json").id == folder.name


@pytest.mark.skipif(not hasattr(__import__("os"), "fchmod"), reason="POSIX file modes")
def test_a_retrained_package_is_readable_by_every_user_of_the_workstation(package: Path):
    import os

    import numpy as np

    from radview.ai.card import save_card
    from radview.ai.conformance import Statistics, write_statistics

    card = json.loads((package / "model.json").read_text())
    written = [save_card(card, package),
               write_statistics(package, Statistics(*(np.zeros(2, np.float32) for _ in range(4))))]
    assert [oct(os.stat(p).st_mode & 0o777) for p in written] == ["0o644", "0o644"], "a model holds no patient data"
    assert load_card(package / "model.json").id == "mr-brain-tumor"
