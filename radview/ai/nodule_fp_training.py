"""Learn the ct-nodule false-positive reduction (part of `radview train`).

The segmentation network runs over cases it did not train on; each candidate it gives
(radview.ai.nodule_candidates) is a nodule when its centre lies within the radius of a reference
nodule. The scorer (radview.ai.nodule_fp) is fitted on the candidates of `fit_cases`; its operating
threshold (the card's min_candidate_score) is the score at which the candidates of other cases,
`threshold_cases`, reach the recipe's false positives per scan. The scorer file and the card's
"false_positive_reduction" section record what was fitted on what.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from radview.ai.card import load_card, save_card
from radview.ai.datasets import Case, case_volume
from radview.ai.nodule_candidates import FEATURES
from radview.ai.nodule_fp import HIDDEN, MEMBERS, CandidateScorer, fit_scorer
from radview.ai.nodules import FP_REDUCTION_FILE, card_candidates
from radview.ai.registry import load_network, sha256_of
from radview.core.progress import CancelToken, ProgressCallback, report

OPERATING_FP_PER_SCAN = 1.0  # LUNA16's headline rate: about one false flag per scan for the reader


def _candidates(card, network, case: Case) -> tuple[np.ndarray, np.ndarray]:
    """(features, is_nodule) of one case's candidates."""
    from radview.ai.engine import input_scale
    from radview.ai.predict import SliceInputs, predict_labels

    volume = case_volume(case, card.modalities[0])
    inputs = SliceInputs(card, volume.voxels, volume.display_inverted, input_scale(card, volume))
    labels, confidence = predict_labels(network, card, inputs, "cpu")
    found = card_candidates(card, volume, labels, confidence)
    features = np.array([c.features for c in found], np.float32).reshape(-1, len(FEATURES))
    centres = np.array([volume.voxel_to_patient_mm(np.argwhere(c.mask).mean(axis=0) + [b.start for b in c.box])
                        for c in found]).reshape(-1, 3)
    is_nodule = np.zeros(len(found), bool)
    for nodule in (case.truth or {}).get("nodules", []):
        reach = max(nodule["diameter_mm"] / 2, 1.5)
        is_nodule |= np.linalg.norm(centres - np.array(nodule["centre_mm"]), axis=1) <= reach
    return features, is_nodule


def operating_threshold(scores: list[np.ndarray], is_nodule: list[np.ndarray], fp_per_scan: float) -> float:
    """The lowest score that keeps the false positives of these scans at or under fp_per_scan."""
    false = np.sort(np.concatenate([s[~n] for s, n in zip(scores, is_nodule)]))[::-1]
    allowed = int(np.floor(fp_per_scan * len(scores)))
    if len(false) <= allowed:
        return float(min([0.5, *[float(s.min()) for s in scores if len(s)]]))
    return float(np.nextafter(np.float32(false[allowed]), np.float32(1.0)))


def learn_fp_reduction(model_dir: Path, fit_cases: list[Case], threshold_cases: list[Case], data: str, seed: int = 0,
                       progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict:
    """Fit the scorer and choose its threshold; write the scorer file and the card's section."""
    start = time.perf_counter()
    card = load_card(Path(model_dir) / "model.json")
    network = load_network(card, "cpu")
    measured = []
    for n, case in enumerate([*fit_cases, *threshold_cases]):
        if cancel is not None:
            cancel.raise_if_cancelled()
        measured.append(_candidates(card, network, case))
        report(progress, n + 1, len(fit_cases) + len(threshold_cases), f"{card.id}: candidates")
    fit, held = measured[: len(fit_cases)], measured[len(fit_cases):]
    features = np.concatenate([f for f, _ in fit])
    is_nodule = np.concatenate([n for _, n in fit])
    tensors = fit_scorer(features, is_nodule, seed)
    from safetensors.numpy import save_file

    path = Path(model_dir) / FP_REDUCTION_FILE
    save_file(tensors, str(path))
    scorer = CandidateScorer(tensors)
    scores = [scorer.score(f) for f, _ in held]
    # rounded up, so the card's value keeps what the threshold keeps
    threshold = math.ceil(operating_threshold(scores, [n for _, n in held], OPERATING_FP_PER_SCAN) * 1e4) / 1e4
    kept = [s >= threshold for s in scores]
    section = {
        "method": f"an ensemble of {MEMBERS} fully connected networks ({HIDDEN}-{HIDDEN} hidden units) on each candidate's "
                  "features; candidates: components of the network's nodule voxels, and blobs cut from those that fail "
                  "the sphere-fill test (vessel_opening_mm)",
        "file": FP_REDUCTION_FILE, "sha256": sha256_of(path), "features": list(FEATURES), "data": data,
        "fit": {"scans": len(fit), "candidates": int(len(is_nodule)), "on_nodules": int(is_nodule.sum())},
        "threshold": {"scans": len(held), "fp_per_scan_target": OPERATING_FP_PER_SCAN,
                      "min_candidate_score": threshold,
                      "false_positives_per_scan": round(sum(int((k & ~n).sum()) for k, (_, n) in zip(kept, held)) / max(1, len(held)), 3),
                      "candidates_on_nodules_kept": f"{sum(int((k & n).sum()) for k, (_, n) in zip(kept, held))} of "
                                                    f"{sum(int(n.sum()) for _, n in held)}"},
        "seconds": round(time.perf_counter() - start, 1),
    }
    raw = dict(card.raw)
    raw["false_positive_reduction"] = section
    raw["thresholds"] = {**raw["thresholds"], "min_candidate_score": threshold}
    save_card(raw, Path(model_dir))
    return section
