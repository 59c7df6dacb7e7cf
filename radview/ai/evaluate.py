"""`radview evaluate MODEL_DIR DATA`: measure a model on held-out patients and put it in the card.

The cases (radview.workflow.training_data) are the card's test phantoms, never used in training
or validation, or a site's labelled series. Segmentation: Dice and HD95 in mm per patient, mean
with a bootstrap 95 % interval by patient, and the volume error. Nodule detection: LUNA16 FROC
and CPM, diameter error. Classification: AUC, accuracy, sensitivity, specificity, F1.
Hard-case phantoms (`phantoms-hard`), per stratum: chest CT, the FROC (radview.ai.nodule_strata);
radiographs, flags per size band and false flags on negatives (radview.ai.radiograph_strata);
brain MR, Dice and volume error per size band and location, false positives on brains without a
tumour (radview.ai.tumour_strata).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radview.ai.card import load_card, save_card
from radview.ai.datasets import Case, case_volume
from radview.ai.engine import run_model
from radview.ai.metrics import bootstrap_interval, dice, hd95_mm
from radview.ai.nodule_strata import MIN_REFERENCE_DIAMETER_MM, evaluate_nodule_strata, match_nodules, run_keeping_raw_output
from radview.ai.radiograph_strata import evaluate_radiograph_strata, image_level_summary
from radview.ai.tumour_strata import evaluate_tumour_strata
from radview.core.progress import CancelToken, ProgressCallback, report


def evaluate_segmentation(model_dir: Path, cases: list[Case], data: str, progress: ProgressCallback | None = None,
                          cancel: CancelToken | None = None) -> dict:
    """Per-patient Dice / HD95 / volume error and their summary"""
    card = load_card(Path(model_dir) / "model.json")
    rows = []
    for n, case in enumerate(cases):
        result = run_model(card, case_volume(case, card.modalities[0]), "cpu", cancel=cancel)
        predicted, reference = result.labels > 0, case.labels > 0
        voxel_ml = float(np.prod(case.spacing_mm)) / 1000
        rows.append({"patient": case.patient, "dice": round(dice(predicted, reference), 4),
                     "hd95_mm": round(hd95_mm(predicted, reference, case.spacing_mm), 2),
                     "volume_error_ml": round(float(predicted.sum() - reference.sum()) * voxel_ml, 2)})
        report(progress, n + 1, len(cases), f"evaluating {card.id}")
    dices = [r["dice"] for r in rows]
    low, high = bootstrap_interval(lambda sample: float(np.mean(sample)), dices)
    summary = {
        "data": data,
        "patients": len(rows),
        "dice_mean": round(float(np.mean(dices)), 4),
        "dice_95ci": [round(low, 4), round(high, 4)],
        "hd95_mm_median": round(float(np.median([r["hd95_mm"] for r in rows])), 2),
        "volume_error_ml_median_abs": round(float(np.median([abs(r["volume_error_ml"]) for r in rows])), 2),
        "per_patient": rows,
    }
    return summary


def evaluate_nodules(model_dir: Path, cases: list[Case], data: str, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None) -> dict:
    """FROC (sensitivity at 1/8..8 false positives per scan, CPM) and diameter error against the
    cases' reference nodules (truth["nodules"])"""
    from radview.ai.metrics import froc

    card = load_card(Path(model_dir) / "model.json")
    scans, counts, errors, seconds, at_threshold = [], [], [], [], []
    for n, case in enumerate(cases):
        run = run_keeping_raw_output(card, case_volume(case, card.modalities[0]), cancel=cancel)
        seconds.append(run.seconds)
        nodules = case.truth["nodules"]
        # the curve from every candidate (LUNA16), the diameter errors from the findings at the threshold
        candidates, _ = match_nodules(run.ranked if run.ranked is not None else run.findings, nodules)
        operating, scan_errors = match_nodules(run.findings, nodules)
        at_threshold.append((sum(hit for _, hit in operating), sum(not hit for _, hit in operating)))
        scans.append(candidates)
        counts.append(sum(1 for x in nodules if x["diameter_mm"] >= MIN_REFERENCE_DIAMETER_MM))
        errors.extend(scan_errors)
        report(progress, n + 1, len(cases), f"evaluating {card.id}")
    curve = froc(scans, counts)
    low, high = bootstrap_interval(lambda sample: froc([s for s, _ in sample], [c for _, c in sample])["sensitivity_at_1_fp"],
                                   list(zip(scans, counts, strict=True)))
    summary = {
        "data": data,
        "scans": len(cases),
        "reference_nodules_4mm_or_more": int(sum(counts)),
        **{k: round(v, 4) for k, v in curve.items()},
        "sensitivity_at_1_fp_95ci": [round(low, 4), round(high, 4)],
        "sensitivity_at_threshold": round(sum(h for h, _ in at_threshold) / max(1, sum(counts)), 4),
        "false_positives_per_scan_at_threshold": round(sum(f for _, f in at_threshold) / max(1, len(cases)), 2),
        "diameter_error_mm_median_abs": round(float(np.median(np.abs(errors))), 2) if errors else None,
        "diameter_error_mm_median_signed": round(float(np.median(errors)), 2) if errors else None,
        "seconds_per_scan_cpu_median": round(float(np.median(seconds)), 1),
    }
    return summary


def evaluate_classification(model_dir: Path, cases: list[Case], data: str, progress: ProgressCallback | None = None,
                            cancel: CancelToken | None = None) -> dict:
    """Nodule present or not, per radiograph: ROC AUC, accuracy, sensitivity, specificity and F1 at
    the card's threshold, each with a bootstrap 95 % interval by patient; and the share of true
    nodules that a flag lands on (within the nodule's radius + 5 mm)."""
    card = load_card(Path(model_dir) / "model.json")
    threshold = card.thresholds.get("presence", card.thresholds.get("probability", 0.5))
    rows, flagged, nodules_total = [], 0, 0
    for n, case in enumerate(cases):
        volume = case_volume(case, card.modalities[0])
        result = run_model(card, volume, "cpu", cancel=cancel)
        score = result.scores["nodule_present_probability"]
        rows.append((score, bool(case.truth["nodules"])))
        for nodule in case.truth["nodules"]:
            nodules_total += 1
            centre = np.array(nodule["centre_mm"])
            if any(np.linalg.norm(np.array(f.centre_lps_mm) - centre) <= nodule["diameter_mm"] / 2 + 5 for f in result.findings):
                flagged += 1
        report(progress, n + 1, len(cases), f"evaluating {card.id}")

    summary: dict = {"data": data, "images": len(rows),
                     "with_nodules": int(sum(t for _, t in rows)), "threshold": threshold,
                     **image_level_summary(rows, threshold)}
    summary["nodules_flagged_share"] = round(flagged / nodules_total, 4) if nodules_total else None
    return summary


HEADLINES = {  # the card's "evaluation" kind -> (function, {headline name: summary key})
    "segmentation": (evaluate_segmentation, {"Dice": "dice_mean", "HD95 mm": "hd95_mm_median"}),
    "nodule_detection": (evaluate_nodules, {"sensitivity at 1 FP/scan": "sensitivity_at_1_fp", "CPM": "cpm",
                                              "diameter error mm": "diameter_error_mm_median_abs"}),
    "presence_classification": (evaluate_classification, {"AUC": "auc", "sensitivity": "sensitivity",
                                                            "specificity": "specificity"}),
}
HARD_CASES = {  # the card's "evaluation" kind -> its evaluation on hard-case phantoms, per stratum
    "segmentation": evaluate_tumour_strata,
    "nodule_detection": evaluate_nodule_strata,
    "presence_classification": evaluate_radiograph_strata,
}


def evaluate_model(model_dir: Path, cases: list[Case], data: str, on_test_phantoms: bool,
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                   hard_cases: bool = False) -> dict:
    """Evaluate as the card's "evaluation" field says and write the numbers into the card: the
    card's test phantoms replace its headline metrics; a site's data (`data` = what the cases
    are) goes under metrics["site"][data], beside them. hard_cases: the hard-case phantoms,
    evaluated per stratum (HARD_CASES), under metrics["hard_test"]; the headline stays the test
    phantoms'."""
    card = load_card(Path(model_dir) / "model.json")
    kind = card.raw.get("evaluation", "segmentation")
    if kind not in HEADLINES:
        raise ValueError(f"{card.path}: unknown evaluation '{kind}' (known: {', '.join(HEADLINES)})")
    function, headline = HEADLINES[kind]
    if hard_cases:
        function = HARD_CASES[kind]
    summary = function(model_dir, cases, data, progress=progress, cancel=cancel)
    raw = dict(card.raw)
    metrics = dict(raw.get("metrics", {}))
    if hard_cases:
        metrics["hard_test"] = summary
    elif on_test_phantoms:
        metrics.update(headline={name: summary[key] for name, key in headline.items()}, test=summary)
    else:
        metrics["site"] = {**metrics.get("site", {}), data: summary}
    raw["metrics"] = metrics
    save_card(raw, Path(model_dir))
    return summary
