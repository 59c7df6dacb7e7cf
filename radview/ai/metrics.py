"""Evaluation metrics (numpy/scipy): Dice, HD95 in mm, ROC AUC with a bootstrap interval,
sensitivity/specificity/F1, and LUNA16's FROC and CPM (docs/domain.md)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

FROC_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def dice(prediction: np.ndarray, reference: np.ndarray) -> float:
    """Dice of two boolean masks; 1.0 when both are empty."""
    p, r = prediction.astype(bool), reference.astype(bool)
    total = p.sum() + r.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(p, r).sum() / total)


def _surface_distances_mm(a: np.ndarray, b: np.ndarray, spacing_mm: tuple[float, ...]) -> np.ndarray:
    surface_a = a & ~ndimage.binary_erosion(a)
    distance_to_b = ndimage.distance_transform_edt(~(b & ~ndimage.binary_erosion(b)), sampling=spacing_mm)
    return distance_to_b[surface_a]


def hd95_mm(prediction: np.ndarray, reference: np.ndarray, spacing_mm: tuple[float, ...]) -> float:
    """95th percentile of the symmetric surface distance in mm (BraTS); inf if one mask is empty."""
    p, r = prediction.astype(bool), reference.astype(bool)
    if not p.any() and not r.any():
        return 0.0
    if not p.any() or not r.any():
        return float("inf")
    distances = np.concatenate([_surface_distances_mm(p, r, spacing_mm), _surface_distances_mm(r, p, spacing_mm)])
    return float(np.percentile(distances, 95))


def roc_auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney), ties counted half."""
    scores, truth = np.asarray(scores, float), np.asarray(truth, bool)
    pos, neg = scores[truth], scores[~truth]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (pos.size * neg.size))


def bootstrap_interval(statistic, groups: list, rounds: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95 % interval of statistic(resampled groups) over patient-level resamples."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        sample = [groups[i] for i in rng.integers(0, len(groups), len(groups))]
        value = statistic(sample)
        if np.isfinite(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def binary_scores(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Accuracy, sensitivity, specificity and F1 of boolean decisions."""
    p, t = np.asarray(predicted, bool), np.asarray(truth, bool)
    tp, tn = int((p & t).sum()), int((~p & ~t).sum())
    fp, fn = int((p & ~t).sum()), int((~p & t).sum())
    sensitivity = tp / (tp + fn) if tp + fn else float("nan")
    specificity = tn / (tn + fp) if tn + fp else float("nan")
    precision = tp / (tp + fp) if tp + fp else float("nan")
    f1 = 2 * precision * sensitivity / (precision + sensitivity) if tp else 0.0
    return {"accuracy": (tp + tn) / max(1, p.size), "sensitivity": sensitivity, "specificity": specificity, "f1": f1}


def froc(candidates: list[list[tuple[float, bool]]], reference_counts: list[int]) -> dict[str, float]:
    """LUNA16 FROC: per scan, candidates as (confidence, hit) with each reference hit at most
    once; sensitivity at FROC_RATES false positives per scan and their mean (CPM)."""
    scans = len(candidates)
    total = sum(reference_counts)
    flat = sorted((c for scan in candidates for c in scan), key=lambda c: -c[0])
    result = {}
    for rate in FROC_RATES:
        allowed = rate * scans
        hits = fps = 0
        for _, hit in flat:
            if hit:
                hits += 1
            else:
                if fps + 1 > allowed:
                    break
                fps += 1
        result[f"sensitivity_at_{rate:g}_fp"] = hits / total if total else float("nan")
    result["cpm"] = float(np.mean([result[f"sensitivity_at_{r:g}_fp"] for r in FROC_RATES]))
    return result
