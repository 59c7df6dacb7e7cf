"""Nodule detection measured as LUNA16 does it: matching findings to reference nodules, and on the
hard-case chest CT phantoms the FROC per stratum of the reference nodules (size band, composition,
location, margin) and of their scans (slice thickness, dose), the cases outside the card's rules,
and for every miss whether the network labelled it and which post-processing rule dropped it.
`radview evaluate` (radview.ai.evaluate) calls these.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radview.ai.card import ModelCard, load_card
from radview.ai.conformance import ConformanceResult
from radview.ai.datasets import Case, case_volume
from radview.ai.metrics import (
    SIZE_BANDS,
    ScanDetections,
    size_band,
    stratum_summary,
)
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.volume import Volume

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



# thin sections (<= 1.5 mm) are what the Fleischner Society asks for to judge a nodule (MacMahon
# et al., Radiology 2017); LUNA16 kept scans up to 2.5 mm; thicker slices blur a small nodule away
THICKNESS_BANDS = ((float("-inf"), 1.5, "thin (<= 1.5 mm)"), (1.5, 2.5, "1.5-2.5 mm"), (2.5, float("inf"), "over 2.5 mm"))
STRATA = ("size_band", "composition", "location", "margin", "slice_thickness", "dose")
STRATUM_ORDER = {  # the order the table lists each stratum's values in
    "size_band": tuple(name for _, _, name in SIZE_BANDS),
    "composition": ("solid", "part-solid", "ground-glass"),
    "location": ("juxtapleural", "juxtavascular", "isolated"),
    "margin": ("smooth", "lobulated", "spiculated"),
    "slice_thickness": tuple(name for _, _, name in THICKNESS_BANDS),
    "dose": ("standard", "low"),
}
NOT_RECORDED = "not recorded"


@dataclass
class RawRun:
    """A model run with the network's own output kept beside the findings."""

    findings: list
    labels: np.ndarray | None  # the network's classes per voxel, before post-processing
    confidence: np.ndarray | None  # the winning class's probability
    conformance: ConformanceResult
    seconds: float
    candidates: list | None = None  # the scored candidates, made when a miss is diagnosed
    ranked: list | None = None  # findings down to score 0 (nodule detection): the FROC's whole curve


_cpu_networks: dict[tuple[str, str], object] = {}


def run_keeping_raw_output(card: ModelCard, volume: Volume, cancel: CancelToken | None = None) -> RawRun:
    """What run_model does on the CPU (the input check, the network over every slice, the card's
    post-processing), keeping the network's labels and confidence so that a miss can be traced to
    the network or to a post-processing rule without running the network twice."""
    from radview.ai.card_grid import on_card_grid
    from radview.ai.engine import POSTPROCESSORS, check_input
    from radview.ai.predict import SliceInputs, predict_labels
    from radview.ai.registry import load_network

    start = time.perf_counter()
    conformance = check_input(card, volume, "cpu")
    if not conformance.passed:
        return RawRun([], None, None, conformance, time.perf_counter() - start)
    key = (card.id, card.weights_sha256)
    if key not in _cpu_networks:
        _cpu_networks[key] = load_network(card, "cpu")
    volume = on_card_grid(card, volume)  # findings are measured there, as run_model measures them
    inputs = SliceInputs(card, volume.voxels, volume.display_inverted)
    labels, confidence = predict_labels(_cpu_networks[key], card, inputs, "cpu", cancel=cancel)
    ranked = None
    if card.postprocessing == "lung_nodules_ct":
        from radview.ai.nodules import ranked_nodule_findings

        # LUNA16's curve runs past the operating point: every candidate with its score, scored once
        ranked, operating = ranked_nodule_findings(card, volume, labels, confidence)
        findings = ranked[:operating]
    else:
        findings, _, _ = POSTPROCESSORS[card.postprocessing](card, volume, labels, confidence)
    return RawRun(findings, labels, confidence, conformance, time.perf_counter() - start, ranked=ranked)


def nodule_strata(nodule: dict) -> dict:
    """A reference nodule's strata: size band from its diameter; composition, location and margin
    from the ground truth where it names them."""
    return {"size_band": size_band(nodule["diameter_mm"]),
            "composition": nodule.get("composition") or nodule.get("kind") or NOT_RECORDED,
            "location": nodule.get("location") or NOT_RECORDED, "margin": nodule.get("margin") or NOT_RECORDED}


def scan_strata(truth: dict, slice_spacing_mm: float) -> dict:
    """A scan's strata, shared by its nodules: slice thickness band (the spacing where the truth
    names no thickness) and dose."""
    thickness = truth.get("slice_thickness_mm") or slice_spacing_mm
    band = next(name for low, high, name in THICKNESS_BANDS if low < thickness <= high)
    return {"slice_thickness": band, "dose": truth.get("dose") or NOT_RECORDED}


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
    """Why a reference nodule got no finding: not labelled by the network; or labelled, but no
    candidate is centred in it (its voxels merged with what it touches, and the cut did not free
    it); or its best candidate scored under the card's min_candidate_score; or that candidate lies
    inside a higher-scored finding. reference: the case's label map, so the nodule's voxels are its
    own (a juxtapleural nodule cut by the chest wall) rather than the whole sphere of its diameter."""
    from radview.ai.nodule_candidates import on_nodule, sphere_fill
    from radview.ai.nodules import scored_candidates
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
    measured = {"volume_mm3": round(float(component.sum()) * float(np.prod(volume.spacing_mm)), 1),
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
    if run.candidates is None:
        run.candidates = scored_candidates(card, volume, run.labels, run.confidence)
    inside = [c for c in run.candidates if on_nodule(volume.voxel_to_patient_mm(c.centre_voxel), nodule)]
    if not inside:
        return {**detail, "dropped_by": "no candidate in it",
                "why": f"{seen}; no candidate is centred in it (the cut did not free it){merged}"}
    best, threshold = inside[0].score, card.thresholds.get("min_candidate_score", 0.5)
    detail["candidate_score"] = round(best, 3)
    if best < threshold:
        return {**detail, "dropped_by": "min_candidate_score",
                "why": f"{seen}; its best candidate scored {best:.3f} < min_candidate_score {threshold:g}{merged}"}
    return {**detail, "dropped_by": "inside another finding",
            "why": f"{seen}; its candidate scored {best:.3f} but lies inside a higher-scored finding{merged}"}


def _count_inside(component: np.ndarray, where: tuple[slice, ...], box: tuple[slice, ...], mask: np.ndarray) -> int:
    """How many voxels of a component (at `where`) lie in `mask` (at `box`)."""
    overlap = tuple(slice(max(w.start, b.start), min(w.stop, b.stop)) for w, b in zip(where, box))
    if any(o.start >= o.stop for o in overlap):
        return 0
    in_component = component[tuple(slice(o.start - w.start, o.stop - w.start) for o, w in zip(overlap, where))]
    in_mask = mask[tuple(slice(o.start - b.start, o.stop - b.start) for o, b in zip(overlap, box))]
    return int((in_component & in_mask).sum())


def _scan_detections(case: Case, run: RawRun) -> tuple[ScanDetections, list[int]]:
    """The scan's reference nodules (>= 4 mm, with their strata) and findings matched to them:
    every candidate for the FROC curve, the findings at the card's threshold for the diameter
    errors and the false positives a reader sees; and the indices (in truth["nodules"]) of the
    reference nodules no finding at the threshold hit."""
    nodules = case.truth["nodules"]
    reference = [i for i, n in enumerate(nodules) if n["diameter_mm"] >= MIN_REFERENCE_DIAMETER_MM]
    position = {i: j for j, i in enumerate(reference)}
    ranked = assign_findings(run.ranked if run.ranked is not None else run.findings, nodules)
    candidates = [(confidence, None if i is None else position[i]) for confidence, i, _ in ranked]
    assigned = assign_findings(run.findings, nodules)
    errors = {position[i]: size - nodules[i]["diameter_mm"] for _, i, size in assigned if i is not None}
    scan = scan_strata(case.truth, case.spacing_mm[0])
    described = [{"centre_mm": nodules[i]["centre_mm"], "diameter_mm": nodules[i]["diameter_mm"],
                  **nodule_strata(nodules[i]), **scan} for i in reference]
    hit = {i for _, i, _ in assigned if i is not None}
    false_positives = sum(1 for _, i, _ in assigned if i is None)
    return ScanDetections(described, candidates, errors, false_positives), [i for i in reference if i not in hit]


def _stratum_values(scans: list[ScanDetections], key: str) -> list[str]:
    """The values of one stratum present in the scans, in STRATUM_ORDER and then by name."""
    present = {n[key] for s in scans for n in s.nodules}
    order = STRATUM_ORDER.get(key, ())
    return [v for v in order if v in present] + sorted(present - set(order))


def rounded_tree(value):
    """Floats rounded to 4 places, through dicts and lists (for the card and the JSON)."""
    if isinstance(value, float):
        return round(value, 4) if np.isfinite(value) else None
    if isinstance(value, dict):
        return {k: rounded_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [rounded_tree(v) for v in value]
    return value


def evaluate_nodule_strata(model_dir: Path, cases, data: str, progress: ProgressCallback | None = None,
                           cancel: CancelToken | None = None, rounds: int = 1000) -> dict:
    """LUNA16 FROC and CPM, overall and per stratum (size band, composition, location, margin,
    slice thickness, dose), with bootstrap 95 % intervals by scan, |diameter error| per stratum,
    and every missed nodule (>= 4 mm, largest first) with its strata and why it was missed. A scan
    outside the card's input rules is listed, not run (the model would not run on it); one the
    input check refuses is listed as refused: neither counts its nodules as misses."""
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
                    misses.append({"patient": case.patient, "label": nodule.get("label"), "diameter_mm": nodule["diameter_mm"],
                                   **nodule_strata(nodule), **scan_strata(truth, case.spacing_mm[0]),
                                   "slice_spacing_mm": about["slice_spacing_mm"],
                                   **diagnose_miss(card, volume, run, nodule, case.labels)})
            del run  # the network's output of one scan is all that is held
        report(progress, n + 1, len(cases), f"evaluating {card.id} on hard cases")
    summary = {
        "data": data,
        "scans": len(scans),
        "scans_without_nodules": sum(1 for s in scans if not s.nodules),
        "reference_nodules_4mm_or_more": sum(len(s.nodules) for s in scans),
        "false_positives_per_scan": sum(s.false_positives_at_threshold for s in scans) / max(1, len(scans)),
        "found_at_threshold": sum(len(s.errors) for s in scans),
        "overall": stratum_summary(scans, lambda _: True, rounds) if scans else {"nodules": 0},
        "strata": {key: {value: stratum_summary(scans, lambda x, k=key, v=value: x[k] == v, rounds)
                         for value in _stratum_values(scans, key)} for key in STRATA},
        "missed": sorted(misses, key=lambda m: -m["diameter_mm"]),
        "outside_input_rules": outside,
        "refused_by_input_check": refused,
        "seconds_per_scan_cpu_median": float(np.median(seconds)) if seconds else None,
    }
    return rounded_tree(summary)


