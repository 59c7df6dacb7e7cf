"""Model packages: the shipped ones are found and checked; broken ones are refused, clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from radview.ai.card import CardError, load_card
from radview.ai.registry import check_package, find_models, shipped_model_folders

SHIPPED = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "mr-brain-tumor"
    shutil.copytree(SHIPPED / "mr-brain-tumor", folder)
    return folder


def test_shipped_models_are_found_with_valid_checksums():
    assert SHIPPED in shipped_model_folders()
    cards, refused = find_models()
    assert refused == []
    ids = {c.id for c in cards}
    assert "mr-brain-tumor" in ids
    for card in cards:
        assert "synthetic" in card.notice.lower() and "synthetic" in card.limitations.lower()
        assert card.metrics.get("test"), f"{card.id}: the card carries no measured test metrics"


def test_checksum_mismatch_is_refused_and_the_others_still_run(package_copy: Path, tmp_path: Path):
    weights = package_copy / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CardError, match="checksum mismatch"):
        check_package(package_copy)
    cards, refused = find_models([str(tmp_path)])
    assert [r.folder for r in refused] == [package_copy] and "checksum" in refused[0].reason
    assert any(c.id == "mr-brain-tumor" and c.folder == SHIPPED / "mr-brain-tumor" for c in cards)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda card: card.pop("task"), "has no 'task'"),
        (lambda card: card.update(task="diagnose"), "unknown task"),
        (lambda card: card["architecture"].update(name="evil.Module"), "unknown architecture"),
        (lambda card: card["input"].update(size=[0, 5]), "input.size"),
        (lambda card: card["weights"].update(file="weights.pt"), "only .safetensors"),
        (lambda card: card["applies_to"].pop("pixel_spacing_mm"), "must name the input ranges pixel_spacing_mm"),
    ],
)
def test_bad_cards_get_a_message_naming_the_file_and_the_field(package_copy: Path, edit, message):
    path = package_copy / "model.json"
    card = json.loads(path.read_text())
    edit(card)
    path.write_text(json.dumps(card))
    if "weights.pt" in json.dumps(card):
        (package_copy / "weights.pt").write_bytes(b"\x80\x04pickle")
    with pytest.raises(CardError, match=message) as error:
        check_package(package_copy)
    assert str(package_copy) in str(error.value)


def test_corrupt_card_json(package_copy: Path):
    (package_copy / "model.json").write_text("{ not json")
    with pytest.raises(CardError, match="cannot read the model card"):
        load_card(package_copy / "model.json")


def test_corrupt_statistics_header_with_a_matching_sha256_is_refused(package_copy: Path, tmp_path: Path):
    """The input check's statistics are read with safetensors at run time too: their header is checked on listing."""
    import hashlib

    statistics = package_copy / "conformance.safetensors"
    data = statistics.read_bytes()
    damaged = data[:8] + b"#" + data[9:]
    statistics.write_bytes(damaged)
    path = package_copy / "model.json"
    card = json.loads(path.read_text())
    card["conformance"]["sha256"] = hashlib.sha256(damaged).hexdigest()
    path.write_text(json.dumps(card))
    cards, refused = find_models([str(tmp_path)])
    assert [r.folder for r in refused] == [package_copy]
    assert refused[0].reason.startswith(f"{statistics}: the input-conformance statistics file has a corrupt safetensors header")
    assert {c.id for c in cards} == {"ct-nodule", "cxr-nodule", "mr-brain-tumor"}
