"""Evaluation metrics (numpy/scipy): Dice, HD95 in mm, ROC AUC with a bootstrap interval,
sensitivity/specificity/F1, and LUNA16's FROC and CPM (docs/domain.md), also per stratum of the
reference nodules (size band, composition, location)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

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
    hits = np.array([bool(hit) for _, hit in flat], bool)
    false_so_far = np.cumsum(~hits)
    hits_so_far = np.concatenate([[0], np.cumsum(hits)])
    result = {}
    for rate in FROC_RATES:
        # walking down the confidences, stop at the first false positive beyond the rate
        beyond = np.flatnonzero(~hits & (false_so_far > rate * scans))
        stop = int(beyond[0]) if beyond.size else len(flat)
        result[f"sensitivity_at_{rate:g}_fp"] = int(hits_so_far[stop]) / total if total else float("nan")
    result["cpm"] = float(np.mean([result[f"sensitivity_at_{r:g}_fp"] for r in FROC_RATES]))
    return result


# LUNA16-like size bands of reference nodules: (low inclusive, high, name); under 4 mm none.
# radview.demo.nodule_cases names the same bands in its ground truth (a test checks they agree).
SIZE_BANDS = ((4.0, 6.0, "4-6 mm"), (6.0, 10.0, "6-10 mm"), (10.0, 20.0, "10-20 mm"), (20.0, float("inf"), "20+ mm"))


def size_band(diameter_mm: float) -> str | None:
    """The size band of a reference nodule; None under 4 mm (not a reference nodule)."""
    return next((name for low, high, name in SIZE_BANDS if low <= diameter_mm < high), None)


@dataclass
class ScanDetections:
    """One scan's reference nodules and its findings matched to them as LUNA16 does."""

    nodules: list[dict]  # the reference nodules (>= 4 mm), each with its strata
    candidates: list[tuple[float, int | None]]  # (confidence, index of the nodule hit, None: a false positive)
    errors: dict[int, float] = field(default_factory=dict)  # measured minus reference diameter (mm), per nodule hit
    false_positives_at_threshold: int = 0  # findings at the card's threshold on no reference nodule


def stratum_froc(scans: list[ScanDetections], keep: Callable[[dict], bool]) -> dict[str, float]:
    """FROC of the nodules `keep` selects: hits on other nodules are left out (neither hit nor
    false positive), every false positive of every scan counts, as LUNA16 reports a subset."""
    candidates = [[(c, i is not None) for c, i in s.candidates if i is None or keep(s.nodules[i])] for s in scans]
    return froc(candidates, [sum(1 for n in s.nodules if keep(n)) for s in scans])


def stratum_summary(scans: list[ScanDetections], keep: Callable[[dict], bool], rounds: int = 1000) -> dict:
    """FROC, CPM and sensitivity at 1 FP/scan with bootstrap 95 % intervals (resampling scans),
    the share found at any rate, and |diameter error| (median, 90th percentile) of the hits."""
    count = sum(1 for s in scans for n in s.nodules if keep(n))
    if not count:
        return {"nodules": 0}
    curve = stratum_froc(scans, keep)
    hit = [(s, i) for s in scans for c, i in s.candidates if i is not None and keep(s.nodules[i])]
    errors = np.abs([s.errors[i] for s, i in hit if i in s.errors])
    summary: dict = {"nodules": count, "found_at_any_rate": len(hit) / count, **curve}
    for key in ("cpm", "sensitivity_at_1_fp"):
        summary[f"{key}_95ci"] = list(bootstrap_interval(lambda sample, k=key: stratum_froc(sample, keep)[k], scans, rounds))
    summary["diameter_error_mm_median_abs"] = float(np.median(errors)) if errors.size else None
    summary["diameter_error_mm_p90_abs"] = float(np.percentile(errors, 90)) if errors.size else None
    return summary
