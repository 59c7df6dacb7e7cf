"""`radview evaluate MODEL_DIR DATA`: measure a model on held-out patients and put it in the card.

The cases (radview.workflow.training_data) are the card's test phantoms, never used in training
or validation, or a site's labelled series. Segmentation: Dice and HD95 in mm per patient, mean
with a bootstrap 95 % interval by patient, and the volume error. Nodule detection: LUNA16 FROC
and CPM, diameter error. Classification: AUC, accuracy, sensitivity, specificity, F1.
Hard-case chest CT phantoms (`phantoms-hard`): the FROC per stratum of the reference nodules
(size band, composition, location, margin), and for every miss of 10 mm or more whether the
network labelled it and which post-processing rule dropped it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radview.ai.card import ModelCard, load_card, save_card
from radview.ai.conformance import ConformanceResult
from radview.ai.datasets import Case
from radview.ai.engine import run_model
from radview.ai.metrics import SIZE_BANDS, ScanDetections, bootstrap_interval, dice, hd95_mm, size_band, stratum_summary
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.volume import Volume


def case_volume(case: Case, modality: str) -> Volume:
    """The case's loaded series, or for a phantom an axial LPS-aligned Volume (spacing and origin from the case)."""
    if case.volume is not None:
        return case.volume
    k, r, c = case.spacing_mm
    truth = case.truth or {}
    origin = np.array(truth.get("origin_mm", (0.0, 0.0, 0.0)), float)
    return Volume(case.voxels, pixel_spacing_mm=(r, c), slice_spacing_mm=k, modality=modality, origin_mm=origin,
                  series_instance_uid=case.patient, slices_loaded=case.voxels.shape[0],
                  photometric_interpretation="MONOCHROME1" if case.inverted else "MONOCHROME2",
                  slice_thickness_mm=truth.get("slice_thickness_mm"))


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


MIN_REFERENCE_DIAMETER_MM = 4.0  # the target counts nodules of 4 mm and more (issue, LUNA16-like)


def assign_findings(findings: list, nodules: list[dict]) -> list[tuple[float, int | None, float]]:
    """LUNA16 matching for one scan: a finding is a hit when its centre lies within the radius of
    a reference nodule of >= 4 mm (each reference counted once); findings on smaller nodules or
    on an already-found nodule are ignored, the rest are false positives.
    Returns (confidence, index of the nodule hit or None, the finding's size in mm), by confidence."""
    assigned, found = [], set()
    for f in sorted(findings, key=lambda f: -f.confidence):
        centre = np.array(f.centre_lps_mm)
        inside = [i for i, n in enumerate(nodules) if np.linalg.norm(centre - np.array(n["centre_mm"])) <= max(n["diameter_mm"] / 2, 1.5)]
        if not inside:
            assigned.append((f.confidence, None, f.size_mm))
            continue
        i = inside[0]
        if nodules[i]["diameter_mm"] < MIN_REFERENCE_DIAMETER_MM or i in found:
            continue
        found.add(i)
        assigned.append((f.confidence, i, f.size_mm))
    return assigned


def match_nodules(findings: list, nodules: list[dict]) -> tuple[list[tuple[float, bool]], list[float]]:
    """LUNA16 matching for one scan (assign_findings): (confidence, hit) candidates and the
    diameter errors (mm) of the hits."""
    assigned = assign_findings(findings, nodules)
    candidates = [(confidence, i is not None) for confidence, i, _ in assigned]
    errors = [size - nodules[i]["diameter_mm"] for _, i, size in assigned if i is not None]
    return candidates, errors


def evaluate_nodules(model_dir: Path, cases: list[Case], data: str, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None) -> dict:
    """FROC (sensitivity at 1/8..8 false positives per scan, CPM) and diameter error against the
    cases' reference nodules (truth["nodules"])"""
    from radview.ai.metrics import froc

    card = load_card(Path(model_dir) / "model.json")
    scans, counts, errors, seconds = [], [], [], []
    for n, case in enumerate(cases):
        result = run_model(card, case_volume(case, card.modalities[0]), "cpu", cancel=cancel)
        seconds.append(sum(result.seconds.values()))
        nodules = case.truth["nodules"]
        candidates, scan_errors = match_nodules(result.findings, nodules)
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
    from radview.ai.metrics import binary_scores, roc_auc

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

    def stat(name: str):
        def compute(sample: list) -> float:
            scores, truth = np.array([s for s, _ in sample]), np.array([t for _, t in sample])
            return roc_auc(scores, truth) if name == "auc" else binary_scores(scores >= threshold, truth)[name]
        return compute

    summary: dict = {"data": data, "images": len(rows),
                     "with_nodules": int(sum(t for _, t in rows)), "threshold": threshold}
    for name in ("auc", "accuracy", "sensitivity", "specificity", "f1"):
        summary[name] = round(stat(name)(rows), 4)
        summary[f"{name}_95ci"] = [round(v, 4) for v in bootstrap_interval(stat(name), rows)]
    summary["nodules_flagged_share"] = round(flagged / nodules_total, 4) if nodules_total else None
    return summary


# ---- hard cases: LUNA16 FROC per stratum, cases outside the card's rules, and why a nodule was missed

STRATA = ("size_band", "composition", "location", "margin")
STRATUM_ORDER = {  # the order the table lists each stratum's values in
    "size_band": tuple(name for _, _, name in SIZE_BANDS),
    "composition": ("solid", "part-solid", "ground-glass"),
    "location": ("juxtapleural", "juxtavascular", "isolated"),
    "margin": ("smooth", "lobulated", "spiculated"),
}
MISS_REPORT_MM = 10.0  # misses this size and larger are listed, each with its diagnosis
NOT_RECORDED = "not recorded"


@dataclass
class RawRun:
    """A model run with the network's own output kept beside the findings."""

    findings: list
    labels: np.ndarray | None  # the network's classes per voxel, before post-processing
    confidence: np.ndarray | None  # the winning class's probability
    conformance: ConformanceResult
    seconds: float


_cpu_networks: dict[tuple[str, str], object] = {}


def run_keeping_raw_output(card: ModelCard, volume: Volume, cancel: CancelToken | None = None) -> RawRun:
    """What run_model does on the CPU (the input check, the network over every slice, the card's
    post-processing), keeping the network's labels and confidence so that a miss can be traced to
    the network or to a post-processing rule without running the network twice."""
    from radview.ai.engine import POSTPROCESSORS, check_input, input_scale
    from radview.ai.predict import SliceInputs, predict_labels
    from radview.ai.registry import load_network

    start = time.perf_counter()
    conformance = check_input(card, volume, "cpu")
    if not conformance.passed:
        return RawRun([], None, None, conformance, time.perf_counter() - start)
    key = (card.id, card.weights_sha256)
    if key not in _cpu_networks:
        _cpu_networks[key] = load_network(card, "cpu")
    inputs = SliceInputs(card, volume.voxels, volume.display_inverted, input_scale(card, volume))
    labels, confidence = predict_labels(_cpu_networks[key], card, inputs, "cpu", cancel=cancel)
    findings, _, _ = POSTPROCESSORS[card.postprocessing](card, volume, labels, confidence)
    return RawRun(findings, labels, confidence, conformance, time.perf_counter() - start)


def nodule_strata(nodule: dict) -> dict:
    """A reference nodule's strata: size band from its diameter; composition, location and margin
    from the ground truth where it names them."""
    return {"size_band": size_band(nodule["diameter_mm"]),
            "composition": nodule.get("composition") or nodule.get("kind") or NOT_RECORDED,
            "location": nodule.get("location") or NOT_RECORDED, "margin": nodule.get("margin") or NOT_RECORDED}


def _nodule_region(volume: Volume, nodule: dict, grow_mm: float) -> tuple[tuple[slice, ...], np.ndarray]:
    """(box, mask within it) of the voxels within the nodule's radius + grow_mm of its centre."""
    centre = volume.patient_mm_to_voxel(np.array([nodule["centre_mm"]], float))[0]
    reach = nodule["diameter_mm"] / 2 + grow_mm
    spacing = np.array(volume.spacing_mm)
    box = tuple(slice(max(0, int(np.floor(c - reach / s))), min(n, int(np.ceil(c + reach / s)) + 1))
                for c, s, n in zip(centre, spacing, volume.shape))
    grids = np.ogrid[tuple(slice(b.start, b.stop) for b in box)]
    d2 = sum(((g - c) * s) ** 2 for g, c, s in zip(grids, centre, spacing))
    return box, d2 <= reach**2


def _component_holding(nodule_mask: np.ndarray, box: tuple[slice, ...], region: np.ndarray) -> tuple[np.ndarray, tuple[slice, ...], int]:
    """The connected component (as nodule_findings labels them) that covers most of `region`:
    (its mask, its box in the volume, how many components touch the region). The search box
    grows until the component lies inside it, so a nodule merged with a long vessel is whole."""
    from scipy import ndimage

    shape, pad = nodule_mask.shape, 16
    while True:
        outer = tuple(slice(max(0, b.start - pad), min(n, b.stop + pad)) for b, n in zip(box, shape))
        components, _ = ndimage.label(nodule_mask[outer])
        inner = tuple(slice(b.start - o.start, b.stop - o.start) for b, o in zip(box, outer))
        ids, counts = np.unique(components[inner][region], return_counts=True)
        counts, ids = counts[ids > 0], ids[ids > 0]
        best = int(ids[np.argmax(counts)])
        where = ndimage.find_objects(components, max_label=best)[best - 1]
        touches = any((w.start == 0 and o.start > 0) or (w.stop == o.stop - o.start and o.stop < n)
                      for w, o, n in zip(where, outer, shape))
        if not touches:
            found = tuple(slice(o.start + w.start, o.start + w.stop) for w, o in zip(where, outer))
            return components[where] == best, found, len(ids)
        pad *= 4


def diagnose_miss(card: ModelCard, volume: Volume, run: RawRun, nodule: dict, reference: np.ndarray | None = None) -> dict:
    """Why a reference nodule got no finding: not labelled by the network, or labelled and its
    component dropped by the rule of nodule_findings that comes first (min_volume_mm3,
    min_confidence, min_sphere_fill), or kept but centred outside the nodule (merged with
    what it touches). reference: the case's label map, so the nodule's voxels are its own
    (a juxtapleural nodule cut by the chest wall) rather than the whole sphere of its diameter."""
    from radview.ai.nodules import sphere_fill
    from radview.ai.postprocess import longest_diameter_mm

    box, region = _nodule_region(volume, nodule, 0.0)
    if reference is not None and (own := region & (reference[box] == card.finding_value)).any():
        region = own
    nodule_mask = run.labels == card.finding_value
    share = float(nodule_mask[box][region].mean()) if region.any() else 0.0
    classes = np.bincount(run.labels[box][region].ravel(), minlength=3)
    rest = "lung" if classes[1] >= classes[0] else "background"  # what the network called the unlabelled part
    if share < 0.05:
        return {"labelled_share": round(share, 3), "rest_reads_as": rest, "dropped_by": "not labelled",
                "why": f"not labelled by the network ({share:.0%} of its voxels; the rest read as {rest})"}
    component, where, pieces = _component_holding(nodule_mask, box, region)
    thresholds = card.thresholds
    measured = {"volume_mm3": round(float(component.sum()) * float(np.prod(volume.spacing_mm)), 1),
                "mean_confidence": round(float(run.confidence[where][component].astype(np.float32).mean()), 3),
                "sphere_fill": round(sphere_fill(component, volume), 3),
                "longest_mm": round(longest_diameter_mm(component, volume), 1)}
    grown_box, grown = _nodule_region(volume, nodule, 2.0)  # the nodule and a 2 mm rim
    outside_share = 1 - _count_inside(component, where, grown_box, grown) / max(1, int(component.sum()))
    detail = {"labelled_share": round(share, 3), "rest_reads_as": rest, "components_touching": pieces, **measured,
              "outside_share": round(outside_share, 3)}
    unlabelled = f", the rest read as {rest}" if share < 0.9 else ""
    seen = (f"labelled ({share:.0%} of its voxels{f' in {pieces} pieces' if pieces > 1 else ''}{unlabelled}; the largest "
            f"piece {measured['volume_mm3']:g} mm3, {measured['longest_mm']:g} mm long)")
    merged = f"; {outside_share:.0%} of that component lies outside the nodule: merged with what it touches" if outside_share > 0.3 else ""
    for rule, value, limit in (("min_volume_mm3", measured["volume_mm3"], thresholds.get("min_volume_mm3", 0.0)),
                               ("min_confidence", measured["mean_confidence"], thresholds.get("min_confidence", 0.0)),
                               ("min_sphere_fill", measured["sphere_fill"], thresholds.get("min_sphere_fill", 0.0))):
        if value < limit:
            return {**detail, "dropped_by": rule, "why": f"{seen}; dropped by {rule}: {value:g} < {limit:g}{merged}"}
    return {**detail, "dropped_by": "centre outside the nodule",
            "why": f"{seen} and kept, but the finding's centre lies outside the nodule's radius"
                   f"{merged or ' (or it was past the 250 findings kept)'}"}


def _count_inside(component: np.ndarray, where: tuple[slice, ...], box: tuple[slice, ...], mask: np.ndarray) -> int:
    """How many voxels of a component (at `where`) lie in `mask` (at `box`)."""
    overlap = tuple(slice(max(w.start, b.start), min(w.stop, b.stop)) for w, b in zip(where, box))
    if any(o.start >= o.stop for o in overlap):
        return 0
    in_component = component[tuple(slice(o.start - w.start, o.stop - w.start) for o, w in zip(overlap, where))]
    in_mask = mask[tuple(slice(o.start - b.start, o.stop - b.start) for o, b in zip(overlap, box))]
    return int((in_component & in_mask).sum())


def _scan_detections(case: Case, run: RawRun) -> tuple[ScanDetections, list[int]]:
    """The scan's reference nodules (>= 4 mm, with their strata) and findings matched to them;
    and the indices (in truth["nodules"]) of the reference nodules no finding hit."""
    nodules = case.truth["nodules"]
    reference = [i for i, n in enumerate(nodules) if n["diameter_mm"] >= MIN_REFERENCE_DIAMETER_MM]
    position = {i: j for j, i in enumerate(reference)}
    assigned = assign_findings(run.findings, nodules)
    candidates = [(confidence, None if i is None else position[i]) for confidence, i, _ in assigned]
    errors = {position[i]: size - nodules[i]["diameter_mm"] for _, i, size in assigned if i is not None}
    described = [{"centre_mm": nodules[i]["centre_mm"], "diameter_mm": nodules[i]["diameter_mm"],
                  **nodule_strata(nodules[i])} for i in reference]
    hit = {i for _, i, _ in assigned if i is not None}
    return ScanDetections(described, candidates, errors), [i for i in reference if i not in hit]


def _stratum_values(scans: list[ScanDetections], key: str) -> list[str]:
    """The values of one stratum present in the scans, in STRATUM_ORDER and then by name."""
    present = {n[key] for s in scans for n in s.nodules}
    order = STRATUM_ORDER.get(key, ())
    return [v for v in order if v in present] + sorted(present - set(order))


def _rounded_tree(value):
    """Floats rounded to 4 places, through dicts and lists (for the card and the JSON)."""
    if isinstance(value, float):
        return round(value, 4) if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _rounded_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded_tree(v) for v in value]
    return value


def evaluate_nodule_strata(model_dir: Path, cases, data: str, progress: ProgressCallback | None = None,
                           cancel: CancelToken | None = None, rounds: int = 1000) -> dict:
    """LUNA16 FROC and CPM, overall and per stratum (size band, composition, location, margin),
    with bootstrap 95 % intervals by scan, |diameter error| per stratum, and every missed nodule of
    10 mm or more with its strata and why it was missed. A scan outside the card's input rules
    is listed, not run (the model would not run on it); one the input check refuses is listed as
    refused: neither counts its nodules as misses."""
    from radview.ai.input_spec import describe, input_mismatches

    card = load_card(Path(model_dir) / "model.json")
    scans, misses, outside, refused, seconds = [], [], [], [], []
    for n, case in enumerate(cases):
        volume = case_volume(case, card.modalities[0])
        truth = case.truth or {}
        about = {"patient": case.patient, "slice_spacing_mm": case.spacing_mm[0],
                 "slice_thickness_mm": truth.get("slice_thickness_mm"), "pixel_spacing_mm": case.spacing_mm[1],
                 "dose": truth.get("dose"), "reference_nodules": sum(1 for x in truth["nodules"] if x["diameter_mm"] >= MIN_REFERENCE_DIAMETER_MM)}
        mismatches = input_mismatches(card, volume)
        if mismatches:
            outside.append({**about, "rules": describe(mismatches)})
        else:
            run = run_keeping_raw_output(card, volume, cancel=cancel)
            seconds.append(run.seconds)
            if not run.conformance.passed:
                refused.append({**about, "reason": run.conformance.reason})
            else:
                detections, missed = _scan_detections(case, run)
                scans.append(detections)
                for i in missed:
                    nodule = truth["nodules"][i]
                    if nodule["diameter_mm"] >= MISS_REPORT_MM:
                        misses.append({"patient": case.patient, "label": nodule.get("label"), "diameter_mm": nodule["diameter_mm"],
                                       **nodule_strata(nodule), **{k: about[k] for k in ("slice_spacing_mm", "dose")},
                                       **diagnose_miss(card, volume, run, nodule, case.labels)})
            del run  # the network's output of one scan is all that is held
        report(progress, n + 1, len(cases), f"evaluating {card.id} on hard cases")
    summary = {
        "data": data,
        "scans": len(scans),
        "scans_without_nodules": sum(1 for s in scans if not s.nodules),
        "reference_nodules_4mm_or_more": sum(len(s.nodules) for s in scans),
        "false_positives_per_scan": sum(i is None for s in scans for _, i in s.candidates) / max(1, len(scans)),
        "overall": stratum_summary(scans, lambda _: True, rounds) if scans else {"nodules": 0},
        "strata": {key: {value: stratum_summary(scans, lambda x, k=key, v=value: x[k] == v, rounds)
                         for value in _stratum_values(scans, key)} for key in STRATA},
        "missed_10mm_or_more": misses,
        "outside_input_rules": outside,
        "refused_by_input_check": refused,
        "seconds_per_scan_cpu_median": float(np.median(seconds)) if seconds else None,
    }
    return _rounded_tree(summary)


HEADLINES = {  # the card's "evaluation" kind -> (function, {headline name: summary key})
    "segmentation": (evaluate_segmentation, {"Dice": "dice_mean", "HD95 mm": "hd95_mm_median"}),
    "nodule_detection": (evaluate_nodules, {"sensitivity at 1 FP/scan": "sensitivity_at_1_fp", "CPM": "cpm",
                                              "diameter error mm": "diameter_error_mm_median_abs"}),
    "presence_classification": (evaluate_classification, {"AUC": "auc", "sensitivity": "sensitivity",
                                                            "specificity": "specificity"}),
}


def evaluate_model(model_dir: Path, cases: list[Case], data: str, on_test_phantoms: bool,
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                   hard_cases: bool = False) -> dict:
    """Evaluate as the card's "evaluation" field says and write the numbers into the card: the
    card's test phantoms replace its headline metrics; a site's data (`data` = what the cases
    are) goes under metrics["site"][data], beside them. hard_cases: the hard-case phantoms,
    evaluated per stratum (a nodule detection model), under metrics["hard_test"]; the headline
    stays the test phantoms'."""
    card = load_card(Path(model_dir) / "model.json")
    kind = card.raw.get("evaluation", "segmentation")
    if kind not in HEADLINES:
        raise ValueError(f"{card.path}: unknown evaluation '{kind}' (known: {', '.join(HEADLINES)})")
    if hard_cases and kind != "nodule_detection":
        raise ValueError(f"{card.path}: hard-case phantoms are for nodule detection models, not '{kind}'")
    function, headline = HEADLINES[kind]
    if hard_cases:
        function = evaluate_nodule_strata
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
