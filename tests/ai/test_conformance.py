"""The models' input check: real images (and broken ones) get no findings and a measured reason;
the held-out phantoms still pass; a package without the check, or with a changed one, is refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from radview.ai.card import CardError
from radview.ai.conformance import UNLIKE_TRAINING
from radview.ai.conformance_training import slices_sampled
from radview.ai.engine import run_model
from radview.ai.datasets import case_volume
from radview.ai.registry import check_package, find_models
from radview.core.volume import Volume
from radview.dicom.load import load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series
from radview.workflow.training_data import phantom_case
from tests.conftest import real_file

SHIPPED = Path(__file__).resolve().parents[2] / "models"
# Real images of pydicom's test data and pydicom-data (NEMA WG04): chest and extremity CR,
# a T1 spin-echo MR of the head, two CT slices, small MRs. None is a phantom.
REAL = ["RG1_UNCR.dcm", "RG3_UNCR.dcm", "MR2_UNCR.dcm", "693_UNCR.dcm", "CT_small.dcm", "MR_small.dcm",
        "emri_small.dcm", "MR-SIEMENS-DICOM-WithOverlays.dcm"]


@pytest.fixture(scope="module")
def cards():
    found, refused = find_models()
    assert refused == []
    return {c.id: c for c in found}


def _real(name: str) -> Volume:
    return load_stack(split_series(scan_path(real_file(name)).all_series()[0])[0])


@pytest.mark.parametrize("name", REAL)
def test_no_phantom_model_shows_findings_on_a_real_image_and_each_says_why(cards, name):
    """Run by hand, whatever the card's rules say: the input check alone must keep them silent."""
    volume = _real(name)
    for card in cards.values():
        result = run_model(card, volume, "cpu")
        assert result.input_refused, f"{card.id} accepted the real image {name} ({result.conformance})"
        assert result.findings == [] and not result.labels.any()
        assert result.conformance.reason.startswith(UNLIKE_TRAINING)


def test_the_real_chest_radiograph_scaled_as_a_chest_is_still_refused(cards):
    """RG1's ImagerPixelSpacing is 0\\0; given a plausible 0.175 mm, the chest is at the size the
    model expects, and its texture still tells it from the phantoms."""
    import dataclasses

    volume = _real("RG1_UNCR.dcm")
    scaled = dataclasses.replace(volume, pixel_spacing_mm=(0.175, 0.175), pixel_spacing_source="ImagerPixelSpacing")
    result = run_model(cards["cxr-nodule"], scaled, "cpu")
    assert result.input_refused and result.conformance.score > result.conformance.threshold
    assert "feature distance" in result.conformance.reason


@pytest.mark.parametrize("kind", ["constant", "noise", "not finite"])
def test_degenerate_images_are_refused(cards, kind):
    rng = np.random.default_rng(0)
    voxels = {"constant": np.full((30, 256, 256), 100.0, np.float32),
              "noise": rng.normal(0, 300, (30, 256, 256)).astype(np.float32),
              "not finite": np.full((30, 256, 256), np.nan, np.float32)}[kind]
    for card in cards.values():
        modality = card.modalities[0]
        volume = Volume(voxels[:1] if card.dimensions == "2d" else voxels, modality=modality)
        result = run_model(card, volume, "cpu")
        assert result.input_refused and result.findings == [], f"{card.id} on {kind}"
        json.dumps(result.conformance.to_dict(), allow_nan=False)  # strict JSON, never NaN


@pytest.mark.parametrize(("model_id", "seed"), [("mr-brain-tumor", 2000), ("mr-brain-tumor", 2001),
                                                 ("cxr-nodule", 2000), ("cxr-nodule", 2001)])
def test_held_out_phantoms_pass_and_keep_their_findings(cards, model_id, seed):
    card = cards[model_id]
    case = phantom_case(model_id, seed)
    result = run_model(card, case_volume(case, card.modalities[0]), "cpu")
    assert not result.input_refused, result.conformance.reason
    if model_id != "cxr-nodule" or case.truth["nodules"]:
        assert result.findings, f"{model_id} found nothing on held-out phantom {seed}"


def test_a_held_out_ct_phantom_passes_the_check(cards):
    """The check alone (the CT model's findings with the check on: tests/ai/test_nodule_models.py)."""
    from radview.ai.engine import check_input

    card = cards["ct-nodule"]
    check = check_input(card, case_volume(phantom_case("ct-nodule", 2001), "CT"), "cpu")
    assert check.passed and check.score <= check.threshold, check.reason


def test_each_card_records_how_its_limit_was_chosen_and_what_passed(cards):
    for card in cards.values():
        section = card.conformance
        assert section["threshold"] > 0 and section["layers"]
        held_out, checked = section["threshold_images"], section["check_images"]
        assert held_out["passed"] / held_out["images"] >= 0.99
        assert checked["images"] >= 10 and checked["pass_share"] >= 0.99, f"{card.id}: {checked}"
        extent = section["body_extent_mm"]
        assert extent["low"] < extent["training_min"] <= extent["training_max"] < extent["high"]
        assert extent["check_images"]["passed"] == extent["check_images"]["images"] == checked["images"]
        # in use the check reads as many slices as its fit and limits were measured with
        assert section["slices_sampled"] == slices_sampled(card), card.id


def test_a_head_model_refuses_a_body_the_size_of_a_chest(cards):
    """Normalised features do not see size: the brain model's features pass a chest. Its body
    extent does not: a held-out head passes at its own pixel size and is refused at twice it,
    and a chest phantom given MR values is refused."""
    import dataclasses

    from radview.ai.engine import check_input

    card = cards["mr-brain-tumor"]
    head = case_volume(phantom_case("mr-brain-tumor", 2000), "MR")
    own = check_input(card, head, "cpu")
    assert own.passed and 150 <= own.body_extent_mm <= 220, own.reason
    twice = dataclasses.replace(head, pixel_spacing_mm=tuple(2 * s for s in head.pixel_spacing_mm))
    refused = check_input(card, twice, "cpu")
    assert not refused.passed and refused.score is None, "refused before any network pass"
    assert refused.body_extent_mm == pytest.approx(2 * own.body_extent_mm, rel=0.02)
    assert "imaged body is" in refused.reason and "mm across" in refused.reason
    chest = case_volume(phantom_case("ct-nodule", 2000), "CT")
    as_mr = dataclasses.replace(chest, voxels=(chest.voxels.astype(np.int32) + 1024).clip(0).astype(np.uint16),
                                modality="MR", value_unit="")
    assert not check_input(card, as_mr, "cpu").passed


def test_a_package_without_the_check_or_with_changed_statistics_is_refused(tmp_path):
    folder = tmp_path / "mr-brain-tumor"
    shutil.copytree(SHIPPED / "mr-brain-tumor", folder)
    statistics = folder / json.loads((folder / "model.json").read_text())["conformance"]["statistics_file"]
    data = bytearray(statistics.read_bytes())
    data[-1] ^= 0xFF
    statistics.write_bytes(bytes(data))
    with pytest.raises(CardError, match="input-conformance statistics"):
        check_package(folder)
    card = json.loads((folder / "model.json").read_text())
    del card["conformance"]
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(CardError, match="no input-conformance check.*--conformance-only"):
        check_package(folder)
    for threshold in (0, -1, "high", None):
        card["conformance"] = {**json.loads((SHIPPED / "mr-brain-tumor" / "model.json").read_text())["conformance"],
                               "threshold": threshold}
        (folder / "model.json").write_text(json.dumps(card))
        with pytest.raises(CardError, match="conformance.threshold"):
            check_package(folder)


def test_a_colour_image_is_refused_by_rule_and_by_the_engine(cards):
    """An RGB secondary capture labelled as the brain model's input: refused, never a crash."""
    from radview.ai.engine import check_input
    from radview.ai.input_spec import input_mismatches

    card = cards["mr-brain-tumor"]
    rgb = Volume(np.zeros((20, 256, 256, 3), np.uint8), modality="MR", photometric_interpretation="RGB")
    assert "colour" in [m.what for m in input_mismatches(card, rgb)]
    result = run_model(card, rgb, "cpu")
    assert result.input_refused and result.findings == [] and "colour" in result.conformance.reason
    assert not check_input(card, rgb, "cpu").passed
