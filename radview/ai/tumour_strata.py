"""Brain tumour segmentation measured on the hard-case brain MRs: Dice per case and its mean per
stratum (core size band, location) with a bootstrap 95 % interval by case, the volume error
(median and 90th percentile, in mL and relative to the reference), on brains without a tumour
the false-positive volume per case, and for every tumour segmented with a Dice under 0.5 whether
the network labelled it and which post-processing rule dropped it. `radview evaluate
models/mr-brain-tumor phantoms-hard` (radview.ai.evaluate) calls evaluate_tumour_strata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radview.ai.card import ModelCard, load_card
from radview.ai.datasets import Case, case_volume
from radview.ai.metrics import bootstrap_interval, dice, hd95_mm
from radview.ai.nodule_strata import NOT_RECORDED, rounded_tree
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.volume import Volume

# (low, high, name) of the tumour core's diameter, low inclusive: the bands radview.demo.tumour_cases
# names in its ground truth (a test checks that the two agree)
SIZE_BANDS = ((0.0, 10.0, "under 10 mm"), (10.0, 20.0, "10-20 mm"), (20.0, 30.0, "20-30 mm"), (30.0, float("inf"), "30+ mm"))
LOCATIONS = ("cortical", "periventricular", "deep white matter")
NO_TUMOUR = "no tumour"
STRATA = ("size_band", "location")
STRATUM_ORDER = {"size_band": tuple(name for *_, name in SIZE_BANDS), "location": LOCATIONS}
MISS_DICE = 0.5  # a tumour segmented with a Dice under this is listed with why


def size_band(core_diameter_mm: float) -> str:
    return next(name for low, high, name in SIZE_BANDS if low <= core_diameter_mm < high)


def case_stratum(case: Case) -> dict:
    """{"size_band", "location"} of a case: as its ground truth names them (the hard-case
    phantoms), else the size band from the tumour's core diameter where the truth gives one;
    NO_TUMOUR for both when the reference mask is empty."""
    truth = case.truth or {}
    if not np.any(case.labels):
        return {"size_band": NO_TUMOUR, "location": NO_TUMOUR}
    if "stratum" in truth:
        return {k: truth["stratum"][k] for k in STRATA}
    tumour = truth.get("tumour") or {}
    band = size_band(tumour["core_diameter_mm"]) if tumour.get("core_diameter_mm") else NOT_RECORDED
    return {"size_band": band, "location": NOT_RECORDED}


def case_row(patient: str, predicted: np.ndarray, reference: np.ndarray, spacing_mm: tuple[float, float, float],
             stratum: dict, findings: int) -> dict:
    """One case's measures. With a tumour: Dice, HD95 (mm; None when nothing was segmented), the
    reference and segmented volumes (mL) and the volume error, signed, in mL and relative to the
    reference. Without: the segmented (false-positive) volume."""
    voxel_ml = float(np.prod(spacing_mm)) / 1000
    predicted, reference = predicted.astype(bool), reference.astype(bool)
    row = {"patient": patient, **stratum, "findings": findings, "predicted_ml": float(predicted.sum()) * voxel_ml}
    if not reference.any():
        return {**row, "false_positive_ml": row["predicted_ml"]}
    reference_ml = float(reference.sum()) * voxel_ml
    error = row["predicted_ml"] - reference_ml
    return {**row, "reference_ml": reference_ml, "dice": dice(predicted, reference),
            "hd95_mm": hd95_mm(predicted, reference, spacing_mm), "detected": bool((predicted & reference).any()),
            "volume_error_ml": error, "volume_error_relative": error / reference_ml}


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def stratum_summary(rows: list[dict], rounds: int = 1000) -> dict:
    """Dice (mean with a bootstrap 95 % interval by case, median, min), the share detected
    (any overlap), HD95 median, and |volume error| median and 90th percentile, in mL and relative."""
    if not rows:
        return {"cases": 0}
    dices = [r["dice"] for r in rows]
    low, high = bootstrap_interval(lambda sample: float(np.mean(sample)), dices, rounds)
    absolute = [abs(r["volume_error_ml"]) for r in rows]
    relative = [abs(r["volume_error_relative"]) for r in rows]
    hd95 = [r["hd95_mm"] for r in rows if np.isfinite(r["hd95_mm"])]
    return {"cases": len(rows), "dice_mean": float(np.mean(dices)), "dice_95ci": [low, high],
            "dice_median": float(np.median(dices)), "dice_min": float(np.min(dices)),
            "detected_share": sum(r["detected"] for r in rows) / len(rows),
            "hd95_mm_median": float(np.median(hd95)) if hd95 else None,
            "reference_ml_median": float(np.median([r["reference_ml"] for r in rows])),
            "volume_error_ml_median_abs": _percentile(absolute, 50), "volume_error_ml_p90_abs": _percentile(absolute, 90),
            "volume_error_relative_median_abs": _percentile(relative, 50),
            "volume_error_relative_p90_abs": _percentile(relative, 90),
            "volume_error_ml_median_signed": _percentile([r["volume_error_ml"] for r in rows], 50)}


def no_tumour_summary(rows: list[dict]) -> dict:
    """Brains without a tumour: the false-positive volume per case (mean, median, max), the
    share with any, and the cases with any (largest first)."""
    if not rows:
        return {"cases": 0}
    volumes = [r["false_positive_ml"] for r in rows]
    flagged = sorted((r for r in rows if r["false_positive_ml"] > 0), key=lambda r: (-r["false_positive_ml"], r["patient"]))
    return {"cases": len(rows), "false_positive_ml_mean": float(np.mean(volumes)),
            "false_positive_ml_median": float(np.median(volumes)), "false_positive_ml_max": float(np.max(volumes)),
            "share_with_any_false_positive": sum(v > 0 for v in volumes) / len(volumes),
            "findings_per_case_mean": float(np.mean([r["findings"] for r in rows])),
            "cases_with_false_positive": [{k: r[k] for k in ("patient", "false_positive_ml", "findings")} for r in flagged]}


def diagnose_miss(card: ModelCard, volume: Volume, reference: np.ndarray) -> dict:
    """Why a tumour was missed or cut short: the network's own labels (run again, before
    post-processing) on its voxels, and of the network's component that covers most of it, the
    volume and mean confidence against the card's min_volume_ml and min_confidence (the rules
    brain_tumour_findings applies, in that order)."""
    from scipy import ndimage

    from radview.ai.card_grid import on_card_grid
    from radview.ai.postprocess import confident_enough
    from radview.ai.predict import SliceInputs, predict_labels
    from radview.ai.registry import load_network

    network = load_network(card, "cpu")
    grid = on_card_grid(card, volume)  # a card naming no pixel spacing: the volume itself
    labels, confidence = predict_labels(network, card, SliceInputs(card, grid.voxels, grid.display_inverted), "cpu")
    labelled = labels == card.finding_value
    share = float(labelled[reference].mean())
    if share < 0.05:
        return {"labelled_share": share, "dropped_by": "not labelled",
                "why": f"not labelled by the network ({share:.0%} of its voxels)"}
    components, _ = ndimage.label(labelled)
    ids, counts = np.unique(components[reference & labelled], return_counts=True)
    component = components == ids[np.argmax(counts)]
    volume_ml = float(component.sum()) * float(np.prod(volume.spacing_mm)) / 1000
    mean_confidence = float(confidence[component].astype(np.float32).mean())
    detail = {"labelled_share": share, "component_ml": volume_ml, "component_mean_confidence": mean_confidence}
    seen = f"labelled ({share:.0%} of its voxels; the component {volume_ml:.2f} mL, mean confidence {mean_confidence:.3f})"
    min_volume = card.thresholds.get("min_volume_ml", 0.0)
    if volume_ml < min_volume:
        return {**detail, "dropped_by": "min_volume_ml", "why": f"{seen}; dropped by min_volume_ml: {volume_ml:.3g} < {min_volume:g}"}
    if not confident_enough(card, mean_confidence, volume_ml):
        limit = card.thresholds.get("min_confidence", 0.0)
        return {**detail, "dropped_by": "min_confidence",
                "why": f"{seen}; dropped by min_confidence: {mean_confidence:.3g} < {limit:g}"}
    return {**detail, "dropped_by": None, "why": f"{seen} and kept: the segmentation overlaps it poorly"}


def _stratum_values(rows: list[dict], key: str) -> list[str]:
    present = {r[key] for r in rows}
    order = STRATUM_ORDER.get(key, ())
    return [v for v in order if v in present] + sorted(present - set(order))


def tumour_summary(rows: list[dict], data: str, rounds: int = 1000, misses: list[dict] | None = None) -> dict:
    """The hard-case summary of measured cases (see the module docstring); floats rounded.
    misses: the tumours segmented with a Dice under MISS_DICE, each with its diagnosis."""
    tumours = [r for r in rows if "dice" in r]
    summary = {
        "data": data,
        "cases": len(rows),
        "with_tumour": len(tumours),
        "without_tumour": len(rows) - len(tumours),
        "overall": stratum_summary(tumours, rounds),
        "strata": {key: {value: stratum_summary([r for r in tumours if r[key] == value], rounds)
                         for value in _stratum_values(tumours, key)} for key in STRATA},
        "no_tumour": no_tumour_summary([r for r in rows if "dice" not in r]),
        "missed_or_cut_short": misses or [],
        "per_case": rows,
    }
    return rounded_tree(summary)


def evaluate_tumour_strata(model_dir: Path, cases, data: str, progress: ProgressCallback | None = None,
                           cancel: CancelToken | None = None, rounds: int = 1000) -> dict:
    """Run the model on each MR (the engine's whole path: input check, network, post-processing)
    and summarise per stratum and on the brains without a tumour. A case the input check
    refuses gets no AI result: it is listed, not counted."""
    from radview.ai.engine import run_model

    card = load_card(Path(model_dir) / "model.json")
    rows, misses, refused, seconds = [], [], [], []
    for n, case in enumerate(cases):
        volume = case_volume(case, card.modalities[0])
        result = run_model(card, volume, "cpu", cancel=cancel)
        seconds.append(sum(result.seconds.values()))
        stratum = case_stratum(case)
        if result.input_refused:
            refused.append({"patient": case.patient, **stratum, "reason": result.conformance.reason})
        else:
            row = case_row(case.patient, result.labels > 0, case.labels > 0, case.spacing_mm, stratum, len(result.findings))
            rows.append(row)
            if row.get("dice", 1.0) < MISS_DICE:
                misses.append({k: row[k] for k in ("patient", *STRATA, "dice", "reference_ml")}
                              | diagnose_miss(card, volume, case.labels > 0))
        report(progress, n + 1, len(cases), f"evaluating {card.id} on hard cases")
    summary = tumour_summary(rows, data, rounds, misses)
    summary["refused_by_input_check"] = refused
    summary["seconds_per_case_cpu_median"] = round(float(np.median(seconds)), 2) if seconds else None
    return summary
