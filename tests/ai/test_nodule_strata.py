"""Hard-case chest CT phantoms and the LUNA16 evaluation per stratum (size band, composition,
location): the default phantom is unchanged, the hard phantoms hold what their ground truth
says (checked in the voxels), and the stratified FROC gives known answers."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import ndimage

from radview.ai import metrics
from radview.ai.card import load_card
from radview.ai.conformance import ConformanceResult
from radview.ai.datasets import Case
from radview.ai.nodule_strata import RawRun, evaluate_nodule_strata
from radview.ai.metrics import ScanDetections, stratum_froc, stratum_summary
from radview.demo import nodule_cases
from radview.demo.chest_ct import make_chest_ct
from radview.demo.chest_ct_scene import clear_of_mediastinum
from radview.demo.nodule_cases import NoduleCasePlan, NoduleSpec, hard_case_plan
from radview.workflow.training_data import HARD_SEED_RANGE, hard_seeds

SHIPPED = Path(__file__).resolve().parents[2] / "models"
SOFT_TISSUE_HU = -250  # above any lung, ground glass or noise in these phantoms; vessels and solid tissue are ~40+


def _digest(ct, *arrays: str) -> str:
    h = hashlib.sha256()
    for name in arrays:
        h.update(getattr(ct, name).tobytes())
    return h.hexdigest()


def test_the_default_phantom_is_unchanged():
    """The demo study (seed 0, 200 slices) and the training recipe depend on these voxels (numpy
    2.4 on x86-64). The image and nodules of seed 0 are those from before the hard cases were
    added; its lung labels since they leave out the heart and aorta drawn over the lungs, and
    seed 2000's nodules since no nodule is placed in them (it was there: invisible, outside the lung)."""
    ct = make_chest_ct(0)
    assert _digest(ct, "hu", "nodule_labels") == "001e8c7835731bbf9ffdf5901371490606b4caf5ecda4b5bc59708c94d36f305"
    assert _digest(ct, "lung_labels") == "589f6a89b4d35697fee41247b452ac2bf4de60f8c0fdf6519ea2bc9496ac7180"
    truth = hashlib.sha256(json.dumps(ct.ground_truth(), sort_keys=True).encode()).hexdigest()
    assert truth == "bac795791f295e504129ee685b523872495e211d9ef326ebd446cac228ce314f"
    short = make_chest_ct(2000, slices=60)
    assert _digest(short, "hu", "nodule_labels") == "5532773c616589076fda87836621870b502a5cf0aee2deb9cee9ece7b1a91270"
    assert _digest(short, "lung_labels") == "43b4c229bca6a2ad1bb832436ccbdbe94efd6fe4784f2398729d6c0e2452a185"


@pytest.mark.parametrize("plan", [None, "hard"])
def test_no_nodule_is_planted_in_the_heart_or_the_aorta(plan):
    """The lung ellipses run under the heart and aorta; a nodule placed there would be drawn at
    blood density and lie outside the lung: a reference nodule no reader or model could see."""
    seed = 3003 if plan else 1003  # seed 1003 planted a 4.6 mm nodule in the heart before
    ct = make_chest_ct(seed, plan=hard_case_plan(seed) if plan else None)
    z_top = ct.origin_mm[2] + (ct.hu.shape[0] - 1) * ct.slice_spacing_mm
    assert ct.nodules
    for nodule in ct.nodules:
        assert clear_of_mediastinum(np.array(nodule.centre_mm), nodule.diameter_mm / 2, ct.origin_mm[2], z_top, 0.0)
        k, j, i = np.round(nodule.centre_voxel).astype(int)
        assert ct.lung_labels[k, j, i] > 0
    assert not clear_of_mediastinum(np.array([25.0, -35.0, ct.origin_mm[2] + 5]), 2.0, ct.origin_mm[2], z_top)
    heart_row = int(round((-35.0 - ct.origin_mm[1]) / ct.pixel_spacing_mm))
    heart_col = int(round((25.0 - ct.origin_mm[0]) / ct.pixel_spacing_mm))
    assert ct.lung_labels[2, heart_row, heart_col] == 0, "the heart is not lung"


PLAN = NoduleCasePlan(
    pixel_spacing_mm=0.7, slice_spacing_mm=2.0, slice_thickness_mm=1.5, slices=80, noise_hu=12.0, dose="standard",
    nodules=(NoduleSpec(12.0, "solid", "juxtapleural", "spiculated"), NoduleSpec(9.0, "ground-glass", "juxtavascular"),
             NoduleSpec(32.0, "part-solid", "isolated", "lobulated"), NoduleSpec(5.0, "solid", "juxtavascular", "lobulated"),
             NoduleSpec(3.5, "solid", "isolated")))
PLAN_SEED = 3


@pytest.fixture(scope="module")
def hard_ct():
    return make_chest_ct(PLAN_SEED, plan=PLAN)


def _shell(mask: np.ndarray, inner: int, outer: int) -> np.ndarray:
    """Pixels between `inner` and `outer` pixels from a mask, in each slice (in-plane)."""
    structure = np.zeros((3, 3, 3), bool)
    structure[1] = True
    grow = ndimage.binary_dilation(mask, structure, iterations=outer)
    return grow & ~(ndimage.binary_dilation(mask, structure, iterations=inner) if inner else mask)


def test_hard_phantom_ground_truth_holds_in_the_voxels(hard_ct):
    ct = hard_ct
    assert len(ct.nodules) == len(PLAN.nodules), "every planned nodule has room"
    assert ct.slice_thickness_mm == 1.5 and ct.pixel_spacing_mm == 0.7 and ct.ground_truth()["dose"] == "standard"
    for nodule in ct.nodules:
        spec = next(s for s in PLAN.nodules if s.diameter_mm == nodule.diameter_mm)
        assert (nodule.composition, nodule.margin, nodule.location) == (spec.composition, spec.margin, spec.location)
        assert nodule.size_band == nodule_cases.size_band(nodule.diameter_mm)
        assert nodule.size_band == (metrics.size_band(nodule.diameter_mm) or nodule_cases.UNDER_4_MM)
        mask = ct.nodule_labels == nodule.label
        k, j, i = np.round(nodule.centre_voxel).astype(int)
        assert mask.any() and ct.lung_labels[k, j, i] > 0
        hu = ct.hu[mask]
        if nodule.composition == "solid":
            assert np.median(hu) > -100
        elif nodule.composition == "ground-glass":  # a vessel may cross it (and stays visible)
            assert -800 < np.median(hu) < -350 and np.percentile(hu, 25) > -780
        else:  # part-solid: a solid core in ground glass
            assert np.median(hu) < -300 and 0.01 < (hu > -300).mean() < 0.5
        # the pleura: the nodule's own voxels border voxels outside the lungs
        rim = ndimage.binary_dilation(mask) & ~mask
        touches_pleura = bool((ct.lung_labels[rim] == 0).any())
        assert touches_pleura == (nodule.location == "juxtapleural") == nodule.touches_pleura
        # a vessel: soft tissue in the lung right next to the nodule, outside it
        near = _shell(mask, 0, 2) & (ct.lung_labels > 0) & (ct.nodule_labels == 0)
        vessel_pixels = int((ct.hu[near] > SOFT_TISSUE_HU).sum())
        if nodule.location == "juxtavascular":
            assert vessel_pixels >= 3 and nodule.touches_vessel
        if nodule.location == "isolated":
            assert vessel_pixels == 0 and not nodule.touches_vessel


def test_a_negative_hard_phantom_has_no_nodule():
    ct = make_chest_ct(5, slices=24, plan=NoduleCasePlan(0.6, 5.0, 5.0, 24, 45.0, "low"))
    assert ct.nodules == [] and not ct.nodule_labels.any()
    assert ct.slice_spacing_mm == 5.0 and ct.ground_truth()["slice_thickness_mm"] == 5.0


def test_the_hard_seeds_cover_every_stratum_and_acquisition():
    """The plans alone (no voxels): over the hard seeds, every stratum and acquisition is met."""
    seeds = list(range(*HARD_SEED_RANGE))
    plans = [hard_case_plan(seed) for seed in seeds]
    specs = [s for p in plans for s in p.nodules]
    assert {s.composition for s in specs} == set(nodule_cases.COMPOSITIONS)
    assert {s.location for s in specs} == set(nodule_cases.LOCATIONS)
    assert {s.margin for s in specs} == set(nodule_cases.MARGINS)
    assert {nodule_cases.size_band(s.diameter_mm) for s in specs} == {name for *_, name in metrics.SIZE_BANDS} | {nodule_cases.UNDER_4_MM}
    assert min(s.diameter_mm for s in specs) >= 3 and max(s.diameter_mm for s in specs) <= 35
    assert any(s.diameter_mm > 30 for s in specs)
    assert {p.slice_spacing_mm for p in plans} == set(nodule_cases.SLICE_SPACINGS_MM)
    assert all(0.5 <= p.pixel_spacing_mm <= 0.9 and p.slice_thickness_mm >= p.slice_spacing_mm for p in plans)
    assert {p.dose for p in plans} == {"standard", "low"} and sum(not p.nodules for p in plans) >= 2
    assert all(40 <= p.slices <= nodule_cases.MAX_SLICES for p in plans)
    assert hard_seeds(load_card(SHIPPED / "ct-nodule" / "model.json")) == seeds  # none is in the recipe


def test_thick_slices_are_sampled_across_their_thickness():
    assert nodule_cases.sub_slice_offsets_mm(1.25) == [0.0]
    assert nodule_cases.sub_slice_offsets_mm(5.0) == pytest.approx([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert nodule_cases.sub_slice_offsets_mm(2.5) == pytest.approx([-2.5 / 3, 0.0, 2.5 / 3])


def _known_scans() -> list[ScanDetections]:
    a = [{"diameter_mm": 5.0, "size_band": "4-6 mm", "composition": "solid", "location": "isolated"},
         {"diameter_mm": 12.0, "size_band": "10-20 mm", "composition": "ground-glass", "location": "juxtapleural"}]
    b = [{"diameter_mm": 25.0, "size_band": "20+ mm", "composition": "solid", "location": "juxtavascular"}]
    return [ScanDetections(a, [(0.9, 0), (0.8, None), (0.4, 1)], {0: 0.5, 1: -2.0}),
            ScanDetections(b, [(0.7, None), (0.6, None), (0.3, None)]),
            ScanDetections([], [(0.95, None)])]


def _curve(result: dict) -> list[float]:
    return [result[f"sensitivity_at_{r:g}_fp"] for r in metrics.FROC_RATES]


def test_stratified_froc_known_answer():
    """3 scans. By confidence: FP .95, hit A0 .9, FP .8, FP .7, FP .6, hit A1 .4, FP .3. A stratum
    keeps its own hits and every false positive; hits on other nodules are left out."""
    scans = _known_scans()
    overall = stratum_froc(scans, lambda n: True)
    assert _curve(overall) == pytest.approx([0, 0, 1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3])
    assert overall["cpm"] == pytest.approx(8 / 21)
    solid = stratum_froc(scans, lambda n: n["composition"] == "solid")  # A0 found, B0 never
    assert _curve(solid) == pytest.approx([0, 0, 0.5, 0.5, 0.5, 0.5, 0.5])
    ground_glass = stratum_froc(scans, lambda n: n["composition"] == "ground-glass")  # found after 4 FPs
    assert _curve(ground_glass) == pytest.approx([0, 0, 0, 0, 1, 1, 1]) and ground_glass["cpm"] == pytest.approx(3 / 7)
    assert stratum_froc(scans, lambda n: n["location"] == "juxtavascular")["cpm"] == 0
    assert _curve(stratum_froc(scans, lambda n: n["size_band"] == "4-6 mm")) == pytest.approx([0, 0, 1, 1, 1, 1, 1])
    summary = stratum_summary(scans, lambda n: True, rounds=200)
    assert summary["nodules"] == 3 and summary["found_at_any_rate"] == pytest.approx(2 / 3)
    assert summary["diameter_error_mm_median_abs"] == pytest.approx(1.25)
    assert summary["diameter_error_mm_p90_abs"] == pytest.approx(1.85)
    low, high = summary["cpm_95ci"]
    assert 0 <= low <= high <= 1
    assert stratum_summary(scans, lambda n: n["composition"] == "part-solid") == {"nodules": 0}


def _case(patient: str, slice_mm: float, nodules: list[dict], slices: int = 40) -> Case:
    """A blank 512x512 CT case (0.7 mm pixels) with reference nodules; the model's output is faked."""
    voxels = np.full((slices, 512, 512), -850, np.int16)
    truth = {"nodules": nodules, "origin_mm": [0.0, 0.0, 0.0], "slice_thickness_mm": slice_mm, "dose": "standard"}
    return Case(patient, voxels, np.zeros(voxels.shape, np.uint8), (slice_mm, 0.7, 0.7), truth=truth)


def _fake_run(case: Case) -> RawRun:
    """The network labels nodule 1 (12 mm) as one component with a long vessel (sphere fill far
    under 0.3: it is cut from it), leaves nodule 2 (15 mm) as lung, and finds nodule 3 (6 mm) plus one false positive."""
    shape = case.voxels.shape
    labels = np.ones(shape, np.uint8)
    k, j, i = np.ogrid[: shape[0], : shape[1], : shape[2]]
    dk, dj, di = (k - 20) * 1.25, (j - 100) * 0.7, (i - 100) * 0.7  # mm from nodule 1's centre
    near_first = dk**2 + dj**2 + di**2 <= 6**2
    tube = (dj**2 + dk**2 <= 1.5**2) & (i >= 100) & (i < 400)  # a vessel along the columns
    labels[near_first | tube] = 2
    findings = [SimpleNamespace(confidence=0.9, centre_lps_mm=(300 * 0.7, 300 * 0.7, 20 * 1.25), size_mm=6.5),
                SimpleNamespace(confidence=0.7, centre_lps_mm=(50.0, 300.0, 10.0), size_mm=4.0)]
    passed = ConformanceResult(True, 10.0, 21.0, 24, "within limits")
    return RawRun(findings, labels, np.full(shape, 0.9, np.float16), passed, 1.0)


def _nodule(label: int, centre_voxel: tuple[float, float, float], diameter: float, location: str) -> dict:
    k, j, i = centre_voxel
    return {"label": label, "centre_mm": [i * 0.7, j * 0.7, k * 1.25], "diameter_mm": diameter, "kind": "solid",
            "composition": "solid", "location": location, "margin": "smooth"}


def test_evaluation_lists_misses_with_their_cause_and_leaves_out_scans_outside_the_rules(monkeypatch, tmp_path, capsys):
    from radview import cli

    cases = [_case("in-rules", 1.25, [_nodule(1, (20, 100, 100), 12.0, "juxtavascular"),
                                      _nodule(2, (20, 300, 100), 15.0, "isolated"),
                                      _nodule(3, (20, 300, 300), 6.0, "juxtapleural")]),
             _case("thick", 5.0, [_nodule(1, (20, 100, 100), 20.0, "isolated")])]
    ran = []
    # the false-positive reduction scores every candidate 0: nodule 1, cut free of its vessel, is below the threshold
    monkeypatch.setattr("radview.ai.nodule_fp.CandidateScorer.score", lambda self, features: np.zeros(len(features), np.float32))
    monkeypatch.setattr("radview.ai.nodule_strata.run_keeping_raw_output", lambda card, volume, **_: ran.append(volume) or _fake_run(cases[0]))
    summary = evaluate_nodule_strata(SHIPPED / "ct-nodule", cases, "test cases", rounds=50)
    assert len(ran) == 1, "the 5 mm scan is outside the card's rules: not run"
    assert summary["scans"] == 1 and summary["reference_nodules_4mm_or_more"] == 3
    assert summary["outside_input_rules"][0]["patient"] == "thick" and "slice spacing 5" in summary["outside_input_rules"][0]["rules"]
    assert summary["overall"]["found_at_any_rate"] == pytest.approx(1 / 3, abs=1e-3) and summary["false_positives_per_scan"] == 1
    assert summary["strata"]["location"]["juxtapleural"]["sensitivity_at_1_fp"] == 1.0
    assert summary["strata"]["size_band"]["10-20 mm"]["found_at_any_rate"] == 0
    assert [m["diameter_mm"] for m in summary["missed"]] == [15.0, 12.0], "every miss, largest first"
    misses = {m["label"]: m for m in summary["missed"]}
    assert misses[1]["slice_thickness"] == "thin (<= 1.5 mm)" and misses[1]["dose"] == "standard"
    assert summary["strata"]["slice_thickness"]["thin (<= 1.5 mm)"]["nodules"] == 3
    assert misses[1]["dropped_by"] == "min_candidate_score" and misses[1]["outside_share"] > 0.3
    assert misses[1]["candidate_score"] == 0 and misses[1]["sphere_fill"] < 0.3
    assert misses[1]["location"] == "juxtavascular" and "merged" in misses[1]["why"]
    assert misses[2]["dropped_by"] == "not labelled" and "lung" in misses[2]["why"]

    # the command: `radview evaluate MODEL phantoms-hard` writes metrics["hard_test"], the headline stays
    model = tmp_path / "ct-nodule"
    shutil.copytree(SHIPPED / "ct-nodule", model)
    monkeypatch.setattr("radview.workflow.training_data.hard_phantom_case", lambda model_id, seed: cases[seed % 2])
    assert cli.main(["evaluate", str(model), "phantoms-hard", "--scans", "2", "--json", str(tmp_path / "h.json")]) == 0
    out = capsys.readouterr().out
    assert "juxtavascular" in out and "min_candidate_score" in out and "outside the card's input rules" in out
    written = json.loads((tmp_path / "h.json").read_text())
    card = load_card(model / "model.json")
    assert card.metrics["hard_test"] == written and written["scans"] == 1
    assert card.metrics["headline"] == load_card(SHIPPED / "ct-nodule" / "model.json").metrics["headline"]


def test_the_froc_reads_candidates_under_the_threshold_and_the_operating_point_only_the_findings():
    from radview.ai.nodule_strata import _scan_detections

    nodules = [_nodule(1, (20, 300, 300), 8.0, "isolated"), _nodule(2, (20, 100, 100), 6.0, "juxtavascular")]
    case = _case("p", 1.25, nodules)
    shown = [SimpleNamespace(confidence=0.9, centre_lps_mm=(300 * 0.7, 300 * 0.7, 20 * 1.25), size_mm=7.5),
             SimpleNamespace(confidence=0.6, centre_lps_mm=(10.0, 10.0, 10.0), size_mm=4.0)]
    below = [SimpleNamespace(confidence=0.2, centre_lps_mm=(100 * 0.7, 100 * 0.7, 20 * 1.25), size_mm=5.0),
             SimpleNamespace(confidence=0.1, centre_lps_mm=(30.0, 30.0, 30.0), size_mm=4.0)]
    run = RawRun(shown, None, None, ConformanceResult(True, 10.0, 21.0, 24, "within limits"), 1.0, ranked=shown + below)
    detections, missed = _scan_detections(case, run)
    assert [(c, i) for c, i in detections.candidates] == [(0.9, 0), (0.6, None), (0.2, 1), (0.1, None)]
    assert detections.false_positives_at_threshold == 1 and detections.errors == {0: -0.5}
    assert missed == [1], "the 6 mm nodule is found only under the threshold: a miss for the reader"
