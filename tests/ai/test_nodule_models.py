"""The shipped nodule models on held-out phantoms: the CT model finds and measures the planted
nodules; the radiograph model tells images with nodules from those without."""

from __future__ import annotations

import json

import numpy as np
import pytest

from radview.ai.engine import run_model
from radview.ai.nodule_strata import match_nodules
from radview.ai.registry import find_models
from radview.dicom.load import load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series


@pytest.fixture(scope="module")
def cards():
    found, _ = find_models()
    return {c.id: c for c in found}


def _load(folder):
    return load_stack(split_series(scan_path(folder).all_series()[0])[0])


def test_ct_model_finds_the_planted_nodules_on_the_demo_ct(cards, demo_study):
    """Seed 0, read through the real DICOM path; nodules of 4 mm and more must be found."""
    card = cards["ct-nodule"]
    volume = _load(demo_study / "dicom" / "chest-ct")
    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())["chest_ct"]["nodules"]
    result = run_model(card, volume, "cpu")
    candidates, errors = match_nodules(result.findings, truth)
    reference = [n for n in truth if n["diameter_mm"] >= 4]
    hits = sum(hit for _, hit in candidates)
    false_positives = sum(not hit for _, hit in candidates)
    assert hits == len(reference), f"found {hits} of {len(reference)} nodules >= 4 mm"
    assert false_positives <= 1
    assert np.median(np.abs(errors)) <= 1.5
    for f in result.findings:
        assert f.finding_type.value == "27925004" and f.location["side"] in ("left", "right")
        assert f.attributes["composition"] in ("solid", "part-solid") and f.measurements["volume_mm3"] > 0
    # side and zone agree with the phantom for every found nodule
    for f in result.findings:
        nearest = min(truth, key=lambda n: np.linalg.norm(np.array(n["centre_mm"]) - np.array(f.centre_lps_mm)))
        if np.linalg.norm(np.array(nearest["centre_mm"]) - np.array(f.centre_lps_mm)) < nearest["diameter_mm"] / 2:
            assert f.location["side"] == nearest["side"]


def test_cxr_model_tells_radiographs_with_nodules_from_those_without(cards):
    """Seeds from 3000 on were never used for training, validation or the card's test."""
    from radview.ai.datasets import case_volume
    from radview.workflow.training_data import phantom_case
    from radview.ai.metrics import roc_auc

    card = cards["cxr-nodule"]
    scores, truth = [], []
    seed = 3000
    while truth.count(True) < 5 or truth.count(False) < 5:
        case = phantom_case(card.id, seed)
        has_nodule = bool(case.truth["nodules"])
        seed += 1
        if truth.count(has_nodule) >= 5:
            continue
        scores.append(run_model(card, case_volume(case, "DX"), "cpu").scores["nodule_present_probability"])
        truth.append(has_nodule)
    assert roc_auc(np.array(scores), np.array(truth)) >= 0.9
    decided = np.array(scores) >= card.thresholds["presence"]
    assert (decided == np.array(truth)).mean() >= 0.8


def test_cxr_model_on_the_demo_radiograph_read_from_dicom(cards, demo_study):
    card = cards["cxr-nodule"]
    volume = _load(demo_study / "dicom" / "chest-xray")
    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())["chest_xray"]["nodules"]
    result = run_model(card, volume, "cpu")
    present = result.scores["nodule_present_probability"] >= card.thresholds["presence"]
    assert present == bool(truth)
    # the model works on its 0.7 mm grid; the reader's overlay and the findings are on the detector's
    assert result.labels.shape == volume.shape
    for f in result.findings:
        _, row, col = np.round(volume.patient_mm_to_voxel(np.array(f.centre_lps_mm))).astype(int)
        assert result.labels[0, row, col] == f.mask_label, f"{f.id}: its centre is not in its own region"
        area_mm2 = float((result.labels == f.mask_label).sum()) * volume.pixel_spacing_mm[0] * volume.pixel_spacing_mm[1]
        disc_mm = 2 * np.sqrt(area_mm2 / np.pi)
        assert abs(disc_mm - f.measurements["approximate_diameter_mm"]) <= 1.0
    # every planted nodule has a flag within its radius + 5 mm (the hard-case evaluation's rule)
    spacing = volume.pixel_spacing_mm[0]
    for nodule in truth:
        centre = np.array([0.0, nodule["centre_row"], nodule["centre_col"]])
        near = [np.linalg.norm(volume.patient_mm_to_voxel(np.array(f.centre_lps_mm)) - centre) * spacing
                for f in result.findings]
        assert min(near) <= nodule["diameter_mm"] / 2 + 5, f"the {nodule['diameter_mm']} mm nodule has no flag"
