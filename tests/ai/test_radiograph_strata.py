"""Hard-case chest radiographs and the cxr-nodule evaluation per size band: the default phantoms
are unchanged, the hard phantoms hold what their ground truth says, the plans cover every band
and negatives, and the per-band and false-flag summary gives hand-computed answers."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from radview.ai import radiograph_strata
from radview.ai.card import load_card
from radview.ai.datasets import Case
from radview.ai.radiograph_strata import ImageFlags, match_flags, radiograph_summary
from radview.demo import radiograph_cases
from radview.demo.chest_xray import make_chest_xray
from radview.demo.radiograph_cases import RadiographCasePlan, RadiographNoduleSpec, hard_case_plan
from radview.workflow.training_data import HARD_SEED_RANGES, hard_seeds

SHIPPED = Path(__file__).resolve().parents[2] / "models"


def _digest(xr) -> tuple[str, str]:
    pixels = hashlib.sha256(xr.pixels.tobytes() + xr.nodule_mask.tobytes()).hexdigest()
    return pixels, hashlib.sha256(json.dumps(xr.ground_truth(), sort_keys=True).encode()).hexdigest()


def test_the_default_radiographs_are_unchanged():
    """The demo study (seed 0) and the card's recipe depend on these pixels; the digests were
    taken before the hard cases were added (numpy 2.4 on x86-64)."""
    assert _digest(make_chest_xray(0)) == ("a62891a2b0ae02da8c1bfb4cd080f7b7191f4fdaac7bcd6e28c87d87567c2e4c",
                                           "6bbef2f4c9ebb8e84bf3faa4733b8319a0e66b0f7b055096290b1fdcbfed1285")
    assert _digest(make_chest_xray(7, size=400)) == ("e43b569bc3d2e99012f9dcb534eecbca9bccaa1223801bbdf960a90398c656bb",
                                                     "25fbbc43ef34950b9e919150c6686d88bee768bf8cf8eda7aac12bcd7b8e9c26")


def test_the_hard_seeds_cover_every_size_band_and_negatives():
    seeds = list(range(*HARD_SEED_RANGES["cxr-nodule"]))
    plans = [hard_case_plan(seed) for seed in seeds]
    specs = [s for p in plans for s in p.nodules]
    assert {radiograph_cases.size_band(s.diameter_mm) for s in specs} == {name for *_, name in radiograph_cases.SIZE_BANDS}
    bands = [radiograph_cases.size_band(s.diameter_mm) for s in specs]
    counts = {name: bands.count(name) for *_, name in radiograph_cases.SIZE_BANDS}
    assert min(counts.values()) >= 10, counts
    assert {s.side for s in specs} == {"right", "left"} and all(5 <= s.diameter_mm < 30 for s in specs)
    negatives = sum(not p.nodules for p in plans)
    assert negatives == 0.4 * len(seeds) and all(1 <= len(p.nodules) <= 3 for p in plans if p.nodules)
    assert hard_seeds(load_card(SHIPPED / "cxr-nodule" / "model.json")) == seeds  # none is in the recipe
    assert radiograph_strata.SIZE_BANDS == radiograph_cases.SIZE_BANDS  # the demo and the AI side agree


def test_hard_case_radiographs_reach_the_model_as_the_detector_wrote_them():
    """2000 x 2000 12-bit pixels of about 0.18 mm, which the engine resamples as a real radiograph's;
    the truth in mm is the same as on the training grid."""
    from radview.workflow.training_data import _chest_xray_case, hard_phantom_case

    case = hard_phantom_case("cxr-nodule", 3104)
    assert case.voxels.shape == (1, 2000, 2000) and case.voxels.dtype == np.uint16
    assert 0.1 <= case.spacing_mm[1] <= 0.25 and case.labels.shape == case.voxels.shape
    on_grid = _chest_xray_case(make_chest_xray(3104, plan=hard_case_plan(3104)), "grid")
    assert on_grid.voxels.shape == (1, 512, 512) and len(case.truth["nodules"]) == 3
    for detector, grid in zip(case.truth["nodules"], on_grid.truth["nodules"]):
        assert detector["centre_mm"] == pytest.approx(grid["centre_mm"], abs=1e-3)


def test_a_hard_radiograph_holds_what_its_ground_truth_says():
    plan = RadiographCasePlan((RadiographNoduleSpec(6.0, "right"), RadiographNoduleSpec(12.5, "right"),
                               RadiographNoduleSpec(24.0, "left")))
    xr = make_chest_xray(11, plan=plan)
    truth = xr.ground_truth()["nodules"]
    assert [n["diameter_mm"] for n in truth] == [6.0, 12.5, 24.0]
    assert [n["size_band"] for n in truth] == ["5-10 mm", "10-15 mm", "20-30 mm"]
    assert [n["side"] for n in truth] == ["right", "right", "left"]
    pixel_mm2 = xr.pixel_spacing_mm**2
    for label, nodule in enumerate(xr.nodules, start=1):
        area = (xr.nodule_mask == label).sum() * pixel_mm2
        assert area == pytest.approx(np.pi * nodule.diameter_mm**2 / 4, rel=0.1)
        # the patient's right is on the image's left (PA)
        assert (nodule.centre_col < xr.pixels.shape[1] / 2) == (nodule.side == "right")
    first, second = xr.nodules[:2]
    gap_mm = np.hypot(first.centre_row - second.centre_row, first.centre_col - second.centre_col) * xr.pixel_spacing_mm
    assert gap_mm > (6.0 + 12.5) / 2 + 5, "planned nodules keep apart"
    negative = make_chest_xray(11, plan=RadiographCasePlan(()))
    assert not negative.nodule_mask.any() and negative.ground_truth()["nodules"] == []


def _nodule(x: float, diameter: float, band: str, zone: str = "middle") -> dict:
    return {"centre_mm": [x, 100.0, 0.0], "diameter_mm": diameter, "size_band": band, "zone": zone}


def test_flags_are_matched_to_nodules_within_their_radius_and_5_mm():
    nodules = [_nodule(50.0, 8.0, "5-10 mm"), _nodule(150.0, 20.0, "20-30 mm")]
    # 58.9 mm is 8.9 from the first (within 4 + 5); 170 is 20 from the second (beyond 10 + 5)
    found, false_flags = match_flags([(58.9, 100.0, 0.0), (170.0, 100.0, 0.0), (300.0, 40.0, 0.0)], nodules)
    assert found == [True, False] and false_flags == 2
    assert match_flags([(10.0, 10.0, 0.0)] * 3, []) == ([], 3)


def _known_images() -> list[ImageFlags]:
    """Two negatives (3 false flags, none), two with nodules: one found 7 mm, one missed 12 mm
    and a false flag; one found 25 mm."""
    return [ImageFlags("neg-a", 0.995, [], [], 3), ImageFlags("neg-b", 0.2, [], [], 0),
            ImageFlags("pos-c", 0.999, [{"diameter_mm": 7.0, "size_band": "5-10 mm", "zone": "upper"},
                                        {"diameter_mm": 12.0, "size_band": "10-15 mm", "zone": "lower"}], [True, False], 1),
            ImageFlags("pos-d", 0.99, [{"diameter_mm": 25.0, "size_band": "20-30 mm", "zone": "upper"}], [True], 0)]


def test_the_summary_per_size_band_and_on_negatives_known_answer():
    summary = radiograph_summary(_known_images(), threshold=0.988, data="known", rounds=200)
    assert (summary["images"], summary["with_nodules"], summary["negatives"]) == (4, 2, 2)
    negatives = summary["negative_images"]
    assert negatives["false_flags_per_image_mean"] == 1.5 and negatives["false_flags_per_image_max"] == 3
    assert negatives["share_with_any_false_flag"] == 0.5
    assert negatives["images_with_false_flags"] == [{"patient": "neg-a", "false_flags": 3, "score": 0.995}]
    with_nodules = summary["images_with_nodules"]
    assert with_nodules["false_flags_per_image_mean"] == 0.5 and with_nodules["false_flags_per_image_max"] == 1
    assert with_nodules["images_with_false_flags"] == [{"patient": "pos-c", "false_flags": 1, "score": 0.999}]
    assert summary["false_flags_per_image_all"] == 1.0
    assert summary["overall"]["nodules"] == 3 and summary["overall"]["sensitivity"] == pytest.approx(0.6667)
    bands = summary["strata"]["size_band"]
    assert list(bands) == ["5-10 mm", "10-15 mm", "20-30 mm"]  # in band order, absent bands left out
    assert [bands[b]["sensitivity"] for b in bands] == [1.0, 0.0, 1.0]
    assert summary["strata"]["zone"]["upper"]["found"] == 2 and summary["strata"]["zone"]["lower"]["found"] == 0
    assert summary["missed"] == [{"patient": "pos-c", "diameter_mm": 12.0, "size_band": "10-15 mm", "zone": "lower",
                                  "score": 0.999}]
    # image level at 0.988: neg-a is called positive (a false positive), the rest right
    assert summary["sensitivity"] == 1.0 and summary["specificity"] == 0.5 and summary["auc"] == 0.75
    low, high = negatives["false_flags_per_image_95ci"]
    assert 0 <= low <= 1.5 <= high <= 3


def _tiny_case(patient: str, nodules: list[dict]) -> Case:
    voxels = np.full((1, 64, 64), 1000.0, np.float32)
    return Case(patient, voxels, np.zeros(voxels.shape, np.uint8), (1.0, 4.0, 4.0), truth={"nodules": nodules})


def test_the_command_writes_the_hard_test_and_refuses_seeds_a_recipe_uses(monkeypatch, tmp_path, capsys):
    from radview import cli

    model = tmp_path / "cxr-nodule"
    shutil.copytree(SHIPPED / "cxr-nodule", model)
    cases = {3100: _tiny_case("hard-3100", [_nodule(50.0, 8.0, "5-10 mm")]), 3101: _tiny_case("hard-3101", [])}
    flags = {"hard-3100": [(52.0, 100.0, 0.0)], "hard-3101": [(10.0, 10.0, 0.0), (200.0, 200.0, 0.0)]}

    def fake_run(card, volume, device, cancel=None):
        centres = flags[volume.series_instance_uid]
        return SimpleNamespace(findings=[SimpleNamespace(centre_lps_mm=c) for c in centres], input_refused=False,
                               scores={"nodule_present_probability": 0.999}, seconds={"inference_s": 0.1})

    monkeypatch.setattr("radview.ai.engine.run_model", fake_run)
    monkeypatch.setattr("radview.workflow.training_data.hard_phantom_case", lambda model_id, seed: cases[seed])
    assert cli.main(["evaluate", str(model), "phantoms-hard", "--scans", "2", "--json", str(tmp_path / "h.json")]) == 0
    out = capsys.readouterr().out
    assert "false flags per negative radiograph: mean 2.00" in out and "hard-3101: 2 false flag(s)" in out
    assert "seeds 3100-3101" in out
    written = json.loads((tmp_path / "h.json").read_text())
    card = load_card(model / "model.json")
    assert card.metrics["hard_test"] == written and written["strata"]["size_band"]["5-10 mm"]["sensitivity"] == 1.0
    assert card.metrics["headline"] == load_card(SHIPPED / "cxr-nodule" / "model.json").metrics["headline"]

    # a recipe that trains on a held-out hard-case seed: the evaluation is refused
    raw = json.loads((model / "model.json").read_text())
    raw["training"]["recipe"]["train_hard_seed_range"] = [3150, 3152]
    (model / "model.json").write_text(json.dumps(raw))
    with pytest.raises(ValueError, match=r"hard-case seeds \[3150, 3151\]"):
        hard_seeds(load_card(model / "model.json"))
    assert cli.main(["evaluate", str(model), "phantoms-hard"]) == 2
    assert "kept for evaluation only" in capsys.readouterr().err
