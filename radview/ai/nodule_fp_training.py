"""Learn the ct-nodule false-positive reduction (part of `radview train`).

The segmentation network runs over the cases; each candidate it gives (radview.ai.nodule_candidates)
is a nodule when its centre lies within the radius of a reference nodule. The operating threshold
(the card's min_candidate_score) is chosen on out-of-fold scores: the scans are split into FOLDS,
each fold is scored by a scorer fitted on the others, and the threshold is the score at which all
the scans together reach OPERATING_FP_PER_SCAN. A threshold read off a handful of held-out scans
swings with them (six scans gave 1 false positive per scan there and 5 on other phantoms), so every
scan counts once as unseen. The shipped scorer (radview.ai.nodule_fp) is then fitted on all the
scans. The scorer file and the card's "false_positive_reduction" section record what was fitted on
what.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from radview.ai.card import load_card, save_card, share_model_file
from radview.ai.datasets import Case, case_volume
from radview.ai.nodule_candidates import FEATURES, on_nodule
from radview.ai.nodule_fp import EPOCHS, HIDDEN, MEMBERS, CandidateScorer, fit_scorer
from radview.ai.nodules import FP_REDUCTION_FILE, card_candidates
from radview.ai.registry import load_network, sha256_of
from radview.core.progress import CancelToken, ProgressCallback, report

OPERATING_FP_PER_SCAN = 1.0  # LUNA16's headline rate: about one false flag per scan for the reader
FOLDS = 5


def _candidates(card, network, case: Case) -> tuple[np.ndarray, np.ndarray]:
    """(features, is_nodule) of one case's candidates."""
    from radview.ai.card_grid import on_card_grid
    from radview.ai.predict import SliceInputs, predict_labels

    volume = on_card_grid(card, case_volume(case, card.modalities[0]))
    inputs = SliceInputs(card, volume.voxels, volume.display_inverted)
    labels, confidence = predict_labels(network, card, inputs, "cpu")
    found = card_candidates(card, volume, labels, confidence)
    features = np.array([c.features for c in found], np.float32).reshape(-1, len(FEATURES))
    nodules = (case.truth or {}).get("nodules", [])
    centres = [volume.voxel_to_patient_mm(c.centre_voxel) for c in found]
    is_nodule = np.array([any(on_nodule(centre, n) for n in nodules) for centre in centres], bool)
    return features, is_nodule


def operating_threshold(scores: list[np.ndarray], is_nodule: list[np.ndarray], fp_per_scan: float) -> float:
    """The lowest score that keeps the false positives of these scans at or under fp_per_scan."""
    false = np.sort(np.concatenate([s[~n] for s, n in zip(scores, is_nodule)]))[::-1]
    allowed = int(np.floor(fp_per_scan * len(scores)))
    if len(false) <= allowed:
        return float(min([0.5, *[float(s.min()) for s in scores if len(s)]]))
    return float(np.nextafter(np.float32(false[allowed]), np.float32(1.0)))


def out_of_fold_scores(measured: list[tuple[np.ndarray, np.ndarray]], seed: int, folds: int = FOLDS,
                       epochs: int = EPOCHS) -> list[np.ndarray]:
    """Each scan's candidate scores from a scorer fitted on the scans of the other folds (scans
    dealt to folds in a seeded random order)."""
    order = np.random.default_rng(seed).permutation(len(measured))
    fold_of = np.empty(len(measured), int)
    fold_of[order] = np.arange(len(measured)) % folds
    scores: list[np.ndarray] = [np.zeros(0, np.float32)] * len(measured)
    for fold in range(folds):
        rest = [m for m, f in zip(measured, fold_of) if f != fold]
        scorer = CandidateScorer(fit_scorer(np.concatenate([x for x, _ in rest]), np.concatenate([n for _, n in rest]),
                                            seed, epochs))
        for i in np.flatnonzero(fold_of == fold):
            scores[i] = scorer.score(measured[i][0])
    return scores


def learn_fp_reduction(model_dir: Path, cases: list[Case], data: str, seed: int = 0,
                       progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict:
    """Fit the scorer on the cases' candidates and choose its threshold from their out-of-fold
    scores; write the scorer file and the card's section."""
    start = time.perf_counter()
    card = load_card(Path(model_dir) / "model.json")
    network = load_network(card, "cpu")
    measured = []
    for n, case in enumerate(cases):
        if cancel is not None:
            cancel.raise_if_cancelled()
        measured.append(_candidates(card, network, case))
        report(progress, n + 1, len(cases), f"{card.id}: candidates")
    is_nodule = [n for _, n in measured]
    scores = out_of_fold_scores(measured, seed)
    # rounded up, so the card's value keeps what the threshold keeps
    threshold = math.ceil(operating_threshold(scores, is_nodule, OPERATING_FP_PER_SCAN) * 1e4) / 1e4
    kept = [s >= threshold for s in scores]
    tensors = fit_scorer(np.concatenate([f for f, _ in measured]), np.concatenate(is_nodule), seed)
    from safetensors.numpy import save_file

    path = Path(model_dir) / FP_REDUCTION_FILE
    save_file(tensors, str(path))
    share_model_file(path)
    section = {
        "method": f"an ensemble of {MEMBERS} fully connected networks ({HIDDEN}-{HIDDEN} hidden units) on each candidate's "
                  "features; candidates: components of the network's nodule voxels, blobs cut from those that fail "
                  "the sphere-fill test (vessel_opening_mm), solid tissue inside the lung's envelope that the "
                  "network left out of the lung, and the maxima of a multiscale Hessian dot filter of the CT image "
                  "in the lung and of the same filter on the image with the chest wall set to the lung's value",
        "file": FP_REDUCTION_FILE, "sha256": sha256_of(path), "features": list(FEATURES), "data": data,
        "fit": {"scans": len(measured), "candidates": int(sum(len(n) for n in is_nodule)),
                "on_nodules": int(sum(n.sum() for n in is_nodule))},
        "threshold": {"method": f"out-of-fold scores of the same scans ({FOLDS} folds by scan)",
                      "scans": len(measured), "fp_per_scan_target": OPERATING_FP_PER_SCAN,
                      "min_candidate_score": threshold,
                      "false_positives_per_scan": round(sum(int((k & ~n).sum()) for k, n in zip(kept, is_nodule)) / max(1, len(measured)), 3),
                      "candidates_on_nodules_kept": f"{sum(int((k & n).sum()) for k, n in zip(kept, is_nodule))} of "
                                                    f"{sum(int(n.sum()) for n in is_nodule)}"},
        "seconds": round(time.perf_counter() - start, 1),
    }
    raw = dict(card.raw)
    raw["false_positive_reduction"] = section
    raw["thresholds"] = {**raw["thresholds"], "min_candidate_score": threshold}
    save_card(raw, Path(model_dir))
    return section
