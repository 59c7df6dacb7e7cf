"""Chest radiograph nodule flags measured on the hard-case radiographs: the image-level call
(ROC AUC, sensitivity, specificity, as on the card's test phantoms), the share of nodules a flag
lands on per size band and per zone, and the false flags per image, above all on negative
radiographs (no nodule): mean, max and the share of negatives with any flag. `radview evaluate
models/cxr-nodule phantoms-hard` (radview.ai.evaluate) calls evaluate_radiograph_strata.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radview.ai.card import load_card
from radview.ai.datasets import case_volume
from radview.ai.metrics import binary_scores, bootstrap_interval, roc_auc
from radview.ai.nodule_strata import NOT_RECORDED, rounded_tree
from radview.core.progress import CancelToken, ProgressCallback, report

# (low, high, name) of the nodule diameter, low inclusive: the bands radview.demo.radiograph_cases
# names in its ground truth (a test checks that the two agree)
SIZE_BANDS = ((5.0, 10.0, "5-10 mm"), (10.0, 15.0, "10-15 mm"), (15.0, 20.0, "15-20 mm"), (20.0, 30.0, "20-30 mm"))
STRATA = ("size_band", "zone")
STRATUM_ORDER = {"size_band": tuple(name for *_, name in SIZE_BANDS), "zone": ("upper", "middle", "lower")}
FLAG_REACH_MM = 5.0  # a flag lands on a nodule when its centre is within the nodule's radius + 5 mm
IMAGE_STATS = ("auc", "accuracy", "sensitivity", "specificity", "f1")


def size_band(diameter_mm: float) -> str:
    """The size band of a nodule's diameter (outside 5-30 mm: the nearest band)."""
    for low, high, name in SIZE_BANDS:
        if low <= diameter_mm < high:
            return name
    return SIZE_BANDS[0][2] if diameter_mm < SIZE_BANDS[0][0] else SIZE_BANDS[-1][2]


@dataclass
class ImageFlags:
    """One radiograph: the image-level score, its reference nodules (with their strata), which
    of them a flag landed on, and how many flags landed on none."""

    patient: str
    score: float  # nodule_present_probability
    nodules: list[dict]  # {"diameter_mm", "size_band", "zone", ...}
    found: list[bool]  # per nodule
    false_flags: int


def match_flags(centres_mm: list, nodules: list[dict]) -> tuple[list[bool], int]:
    """(found per nodule, false flags): a nodule is found when a flag's centre lies within its
    radius + FLAG_REACH_MM; a flag that lands on no nodule is a false flag (one flag may land on
    two nodules close together: both are found, as the card's test counts them)."""
    found = [False] * len(nodules)
    false_flags = 0
    for centre in centres_mm:
        reach = [np.linalg.norm(np.array(centre, float) - np.array(n["centre_mm"], float)) - n["diameter_mm"] / 2 for n in nodules]
        hits = [i for i, d in enumerate(reach) if d <= FLAG_REACH_MM]
        for i in hits:
            found[i] = True
        false_flags += not hits
    return found, false_flags


def nodule_strata(nodule: dict) -> dict:
    """A reference nodule's strata: its size band (from the ground truth or its diameter) and zone."""
    return {"size_band": nodule.get("size_band") or size_band(nodule["diameter_mm"]),
            "zone": nodule.get("zone") or NOT_RECORDED}


def image_level_summary(rows: list[tuple[float, bool]], threshold: float, rounds: int = 1000) -> dict:
    """ROC AUC, accuracy, sensitivity, specificity and F1 of (score, has a nodule) per image at
    `threshold`, each with a bootstrap 95 % interval by image."""

    def stat(name: str):
        def compute(sample: list) -> float:
            scores, truth = np.array([s for s, _ in sample]), np.array([t for _, t in sample])
            return roc_auc(scores, truth) if name == "auc" else binary_scores(scores >= threshold, truth)[name]
        return compute

    summary: dict = {}
    for name in IMAGE_STATS:
        summary[name] = round(stat(name)(rows), 4)
        summary[f"{name}_95ci"] = [round(v, 4) for v in bootstrap_interval(stat(name), rows, rounds)]
    return summary


def _found_share(images: list[ImageFlags], keep) -> float:
    found = [f for image in images for n, f in zip(image.nodules, image.found) if keep(n)]
    return sum(found) / len(found) if found else float("nan")


def detection_summary(images: list[ImageFlags], keep, rounds: int = 1000) -> dict:
    """The nodules `keep` selects: how many, the share a flag landed on with a bootstrap 95 %
    interval (resampling images), and their median diameter."""
    chosen = [(n, f) for image in images for n, f in zip(image.nodules, image.found) if keep(n)]
    if not chosen:
        return {"nodules": 0}
    found = sum(f for _, f in chosen)
    low, high = bootstrap_interval(lambda sample: _found_share(sample, keep), images, rounds)
    return {"nodules": len(chosen), "found": found, "sensitivity": found / len(chosen), "sensitivity_95ci": [low, high],
            "diameter_mm_median": float(np.median([n["diameter_mm"] for n, _ in chosen]))}


def false_flag_summary(images: list[ImageFlags], rounds: int = 1000) -> dict:
    """False flags per image of `images`: mean (with a bootstrap 95 % interval), max, the share of
    images with any, and the images with any (most first)."""
    if not images:
        return {"images": 0}
    counts = [image.false_flags for image in images]
    low, high = bootstrap_interval(lambda sample: float(np.mean([i.false_flags for i in sample])), images, rounds)
    flagged = sorted((i for i in images if i.false_flags), key=lambda i: (-i.false_flags, i.patient))
    return {"images": len(images), "false_flags_per_image_mean": float(np.mean(counts)),
            "false_flags_per_image_95ci": [low, high], "false_flags_per_image_max": int(max(counts)),
            "share_with_any_false_flag": sum(c > 0 for c in counts) / len(counts),
            "images_with_false_flags": [{"patient": i.patient, "false_flags": i.false_flags, "score": i.score}
                                        for i in flagged]}


def _stratum_values(images: list[ImageFlags], key: str) -> list[str]:
    present = {n[key] for image in images for n in image.nodules}
    order = STRATUM_ORDER.get(key, ())
    return [v for v in order if v in present] + sorted(present - set(order))


def radiograph_summary(images: list[ImageFlags], threshold: float, data: str, rounds: int = 1000) -> dict:
    """The hard-case summary of measured images (see the module docstring); floats rounded."""
    negatives = [i for i in images if not i.nodules]
    positives = [i for i in images if i.nodules]
    summary: dict = {
        "data": data,
        "images": len(images),
        "with_nodules": len(positives),
        "negatives": len(negatives),
        "threshold": threshold,
        **(image_level_summary([(i.score, bool(i.nodules)) for i in images], threshold, rounds) if images else {}),
        "false_flags_per_image_all": float(np.mean([i.false_flags for i in images])) if images else None,
        "negative_images": false_flag_summary(negatives, rounds),
        "images_with_nodules": false_flag_summary(positives, rounds),
        "overall": detection_summary(images, lambda _: True, rounds),
        "strata": {key: {value: detection_summary(images, lambda n, k=key, v=value: n[k] == v, rounds)
                         for value in _stratum_values(images, key)} for key in STRATA},
        "missed": [{"patient": i.patient, "diameter_mm": n["diameter_mm"], **{k: n[k] for k in STRATA}, "score": i.score}
                   for i in images for n, f in zip(i.nodules, i.found) if not f],
    }
    return rounded_tree(summary)


def evaluate_radiograph_strata(model_dir: Path, cases, data: str, progress: ProgressCallback | None = None,
                               cancel: CancelToken | None = None, rounds: int = 1000) -> dict:
    """Run the model on each radiograph (the engine's whole path: input check, network, flags)
    and summarise per size band and on the negatives. An image the input check refuses gets no
    AI result: it is listed, not counted (neither a miss nor a negative call)."""
    from radview.ai.engine import run_model

    card = load_card(Path(model_dir) / "model.json")
    threshold = card.thresholds.get("presence", card.thresholds.get("probability", 0.5))
    images, refused, seconds = [], [], []
    for n, case in enumerate(cases):
        result = run_model(card, case_volume(case, card.modalities[0]), "cpu", cancel=cancel)
        seconds.append(sum(result.seconds.values()))
        nodules = [{**x, **nodule_strata(x)} for x in (case.truth or {}).get("nodules", [])]
        if result.input_refused:
            refused.append({"patient": case.patient, "nodules": len(nodules), "reason": result.conformance.reason})
        else:
            found, false_flags = match_flags([f.centre_lps_mm for f in result.findings], nodules)
            images.append(ImageFlags(case.patient, float(result.scores["nodule_present_probability"]),
                                     [{k: x[k] for k in ("diameter_mm", *STRATA)} for x in nodules], found, false_flags))
        report(progress, n + 1, len(cases), f"evaluating {card.id} on hard cases")
    summary = radiograph_summary(images, threshold, data, rounds)
    summary["refused_by_input_check"] = refused
    summary["seconds_per_image_cpu_median"] = round(float(np.median(seconds)), 2) if seconds else None
    return summary
