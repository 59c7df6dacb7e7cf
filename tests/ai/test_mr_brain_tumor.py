"""The shipped brain MR model on held-out phantoms, through the real DICOM path; cancel; training."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from radview.ai.engine import run_model
from radview.ai.registry import find_models
from radview.core.progress import Cancelled, CancelToken
from radview.dicom.load import load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series

SHIPPED = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def card():
    cards, _ = find_models()
    return next(c for c in cards if c.id == "mr-brain-tumor")


@pytest.fixture(scope="module")
def demo_mr(demo_study):
    """The demo MR (seed 0: never used in training, validation or the card's test seeds)."""
    stack = split_series(scan_path(demo_study / "dicom" / "brain-mr").all_series()[0])[0]
    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())["brain_mr"]
    return load_stack(stack), truth


def test_finds_the_tumour_on_a_held_out_phantom(card, demo_mr, demo_study):
    import nibabel as nib

    from radview.ai.metrics import dice
    from radview.core.nifti_layout import from_nifti_layout

    volume, truth = demo_mr
    from radview.ai.datasets import recipe_seeds

    recipe = card.training["recipe"]
    assert 0 not in recipe_seeds(recipe, "train") + recipe_seeds(recipe, "validation") + recipe_seeds(recipe, "test")
    result = run_model(card, volume, "cpu")
    assert len(result.findings) >= 1
    tumour = result.findings[0]
    reference = from_nifti_layout(np.asarray(nib.load(demo_study / "ground-truth" / "brain-mr-tumour.nii.gz").dataobj)) > 0
    assert dice(result.labels == tumour.mask_label, reference) >= 0.8
    expected_ml = truth["tumour"]["whole_volume_ml"]
    assert abs(tumour.measurements["volume_ml"] - expected_ml) <= 0.2 * expected_ml
    assert tumour.location["hemisphere"] == truth["tumour"]["hemisphere"]
    # every finding carries what the review and the report need
    assert tumour.model_id == "mr-brain-tumor" and tumour.model_version == card.version
    assert (tumour.finding_type.value, tumour.finding_type.scheme) == ("108369006", "SCT")
    assert 0 < tumour.confidence <= 1 and 0 <= tumour.slice_index < volume.shape[0]
    assert tumour.measurements["longest_diameter_mm"] > 0


def test_same_input_gives_the_same_output_on_the_cpu(card, demo_mr):
    volume, _ = demo_mr
    first, second = run_model(card, volume, "cpu"), run_model(card, volume, "cpu")
    assert np.array_equal(first.labels, second.labels)
    assert [f.to_dict() for f in first.findings] == [f.to_dict() for f in second.findings]


def test_cancel_stops_within_a_second(card, demo_mr):
    volume, _ = demo_mr
    cancel = CancelToken()
    outcome: dict = {}

    def work() -> None:
        try:
            run_model(card, volume, "cpu", cancel=cancel, batch_size=1)
            outcome["result"] = "finished"
        except Cancelled:
            outcome["result"] = "cancelled"
        outcome["at"] = time.perf_counter()

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(0.3)
    cancelled_at = time.perf_counter()
    cancel.cancel()
    thread.join(10)
    assert outcome["result"] == "cancelled"
    assert outcome["at"] - cancelled_at < 1.0


def test_a_short_training_run_goes_through_the_real_code(tmp_path):
    from radview.ai.card import CardError, load_card
    from radview.ai.conformance_training import learn_conformance
    from radview.ai.registry import check_package
    from radview.ai.train import train_model
    from radview.workflow.training_data import recipe_split

    folder = tmp_path / "mr-brain-tumor"
    shutil.copytree(SHIPPED / "mr-brain-tumor", folder)
    card = json.loads((folder / "model.json").read_text())
    recipe = card["training"]["recipe"]
    recipe.update(train_seeds=[1000], validation_seeds=[1016], validate_every=2, batch_size=2)
    (folder / "model.json").write_text(json.dumps(card))
    before = (folder / "weights.safetensors").read_bytes()
    split = recipe_split(load_card(folder / "model.json"))
    run = train_model(folder, split, iterations=3)
    assert run["steps_run"] == 3 and 0 <= run["best_validation_dice"] <= 1
    assert (folder / "weights.safetensors").read_bytes() != before
    assert load_card(folder / "model.json").training["last_run"]["steps_run"] == 3
    # the new weights need a new input check: the old statistics no longer belong to them
    with pytest.raises(CardError, match="no input-conformance check"):
        check_package(folder)
    old_check = (folder / "conformance.safetensors").read_bytes()
    section = learn_conformance(folder, split["train"], split["validation"], [], "one phantom each")
    assert (folder / "conformance.safetensors").read_bytes() != old_check
    assert section["threshold_images"] == {**section["threshold_images"], "images": 1, "passed": 1}
    card = check_package(folder)  # weights and statistics match the card's sha256s
    assert card.conformance["threshold"] == section["threshold"] > 0


def test_fine_tuning_on_a_sites_dicom_and_nifti_masks(tmp_path, demo_study):
    """A site's own cases: <patient>/dicom + mask.nii.gz (dcm2niix layout), split by patient."""
    import nibabel as nib

    from radview.workflow.training_data import site_cases
    from radview.ai.card import load_card
    from radview.ai.conformance_training import learn_conformance
    from radview.ai.registry import check_package
    from radview.ai.train import split_by_patient, train_model

    site = tmp_path / "site"
    truth = nib.load(demo_study / "ground-truth" / "brain-mr-tumour.nii.gz")
    for patient in ("p1", "p2"):
        shutil.copytree(demo_study / "dicom" / "brain-mr", site / patient / "dicom")
        mask = (np.asarray(truth.dataobj) > 0).astype(np.uint8)
        nib.save(nib.Nifti1Image(mask, truth.affine), site / patient / "mask.nii.gz")
    cases = site_cases(site, load_card(SHIPPED / "mr-brain-tumor" / "model.json"))
    assert [c.patient for c in cases] == ["p1", "p2"] and cases[0].labels.sum() > 1000
    split = split_by_patient(cases)
    assert len(split["train"]) == 1 and len(split["validation"]) == 1
    folder = tmp_path / "mr-brain-tumor"
    shutil.copytree(SHIPPED / "mr-brain-tumor", folder)
    card = json.loads((folder / "model.json").read_text())
    card["training"]["recipe"].update(validate_every=2, batch_size=2)
    (folder / "model.json").write_text(json.dumps(card))
    run = train_model(folder, split, iterations=2, init_from_card_weights=True)
    assert run["fine_tuned_from_previous_weights"] and run["best_validation_dice"] > 0.5  # starts from good weights
    learn_conformance(folder, split["train"], split["validation"], [], "the site's patients")  # as radview train does
    check_package(folder)
