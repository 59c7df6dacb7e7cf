"""Lung nodule findings from the ct-nodule model's labels (1 lung, 2 nodule), measured in mm.

The network's nodule voxels give candidates (radview.ai.nodule_candidates: components, and blobs
cut from components that join a nodule to vessels or the chest wall); the card's false-positive
reduction (radview.ai.nodule_fp) scores each, and those scoring at least min_candidate_score
become findings with that score as their confidence.

Sizes follow the Fleischner Society 2017 convention (docs/domain.md): on the axial slice where the
nodule is largest, the long axis and the longest perpendicular short axis; the mean of the two
is the size a reader quotes. Volume in mm3, mean HU, solid or part-solid (share of voxels above
-300 HU), side and upper/lower zone from the lung mask.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radview.ai.card import ModelCard
from radview.ai.nodule_candidates import FEATURES, SOLID_HU, Candidate, nodule_candidates
from radview.ai.nodule_fp import CandidateScorer, fp_reduction_section
from radview.ai.postprocess import model_finding
from radview.core.findings import Finding
from radview.core.volume import Volume

SOLID_SHARE = 0.8
MAX_FINDINGS = 250


def axial_axes_mm(mask2d: np.ndarray, pixel_spacing_mm: tuple[float, float]) -> tuple[float, float]:
    """(long, short) axis in mm of a 2D mask: the longest chord between pixel edges and the
    widest extent perpendicular to it."""
    rows, cols = np.nonzero(mask2d)
    # the corners of each pixel, so a 1-pixel nodule measures one pixel, not zero
    points = np.concatenate([np.stack([rows + dr, cols + dc], axis=1) for dr in (-0.5, 0.5) for dc in (-0.5, 0.5)])
    mm = points * np.array(pixel_spacing_mm)
    if len(mm) > 4000:
        hull = mm[np.unique(np.concatenate([np.argsort(mm @ np.array([np.cos(a), np.sin(a)]))[[0, -1]]
                                            for a in np.linspace(0, np.pi, 180, endpoint=False)]))]
    else:
        hull = mm
    diffs = hull[:, None, :] - hull[None, :, :]
    lengths = np.linalg.norm(diffs, axis=2)
    i, j = np.unravel_index(np.argmax(lengths), lengths.shape)
    long_mm = float(lengths[i, j])
    axis = diffs[i, j] / max(long_mm, 1e-9)
    normal = np.array([-axis[1], axis[0]])
    across = mm @ normal
    return long_mm, float(across.max() - across.min())


def _lung_sides(labels: np.ndarray, volume: Volume) -> tuple[float, dict[str, tuple[float, float]]]:
    """Body midline x (LPS mm) and, per side, the z range (mm) of that lung."""
    lung = labels == 1
    cols = np.flatnonzero(lung.any(axis=(0, 1)))
    mid_col = (cols[0] + cols[-1]) / 2 if cols.size else volume.shape[2] / 2
    midline_x = float(volume.voxel_to_patient_mm(np.array([0.0, volume.shape[1] / 2, mid_col]))[0])
    ranges = {}
    half = int(round(mid_col))
    for side, part in (("right", lung[:, :, :half]), ("left", lung[:, :, half:])):
        ks = np.flatnonzero(part.any(axis=(1, 2)))
        if ks.size:
            z = [float(volume.voxel_to_patient_mm(np.array([k, 0.0, 0.0]))[2]) for k in (ks[0], ks[-1])]
            ranges[side] = (min(z), max(z))
    return midline_x, ranges


FP_REDUCTION_FILE = "nodule_candidates.safetensors"
_scorers: dict[tuple[Path, str], CandidateScorer] = {}


def candidate_scorer(card: ModelCard) -> CandidateScorer:
    """The card's false-positive reduction (radview.ai.nodule_fp), loaded once per file version."""
    section = fp_reduction_section(card)
    key = (card.folder / section["file"], section["sha256"])
    if key not in _scorers:
        _scorers[key] = CandidateScorer.load(key[0])
    return _scorers[key]


@dataclass
class ScoredCandidate:
    """A candidate with its nodule probability and its centre (voxel indices, float)."""

    candidate: Candidate
    score: float
    centre_voxel: np.ndarray


def card_candidates(card: ModelCard, volume: Volume, labels: np.ndarray, confidence: np.ndarray) -> list[Candidate]:
    """The scan's candidates with the card's min_sphere_fill, vessel_opening_mm and min_volume_mm3."""
    thresholds = card.thresholds
    return nodule_candidates(volume, labels, confidence, thresholds.get("min_sphere_fill", 0.3),
                             thresholds.get("vessel_opening_mm", 2.0), thresholds.get("min_volume_mm3", 0.0))


def scored_candidates(card: ModelCard, volume: Volume, labels: np.ndarray, confidence: np.ndarray) -> list[ScoredCandidate]:
    """Every candidate of the scan (radview.ai.nodule_candidates) with the scorer's probability,
    highest first. confidence: the winning class's probability (the nodule's, on nodule voxels)."""
    candidates = card_candidates(card, volume, labels, confidence)
    scores = candidate_scorer(card).score(np.array([c.features for c in candidates]).reshape(-1, len(FEATURES)))
    scored = [ScoredCandidate(c, float(score), c.centre_voxel)
              for c, score in zip(candidates, scores)]
    return sorted(scored, key=lambda c: -c.score)


def _centre_inside(candidate: ScoredCandidate, other: ScoredCandidate) -> bool:
    return other.candidate.contains(candidate.centre_voxel)


def _overlaps(candidate: ScoredCandidate, kept: list[ScoredCandidate]) -> bool:
    """Whether the candidate and a kept finding are one nodule: either's centre inside the other's
    mask (a blob of the network's nodule voxels on a nodule the envelope found whole, or a piece
    cut from one)."""
    return any(_centre_inside(candidate, other) or _centre_inside(other, candidate) for other in kept)


def _kept(scored: list[ScoredCandidate], threshold: float) -> list[ScoredCandidate]:
    """The candidates scored at or above threshold, highest first, none inside a higher-scored one."""
    kept: list[ScoredCandidate] = []
    for candidate in scored:
        if candidate.score < threshold or len(kept) == MAX_FINDINGS:
            break
        if not _overlaps(candidate, kept):
            kept.append(candidate)
    return kept


def nodule_findings(card: ModelCard, volume: Volume, labels: np.ndarray, confidence: np.ndarray) -> tuple[list[Finding], np.ndarray]:
    """One finding per candidate that the false-positive reduction scores at or above the card's
    min_candidate_score (and that does not lie inside a higher-scored one), its confidence that
    score; the label map has nodule i as label i."""
    kept = _kept(scored_candidates(card, volume, labels, confidence), card.thresholds.get("min_candidate_score", 0.5))
    return _findings(card, volume, labels, kept)


def ranked_nodule_findings(card: ModelCard, volume: Volume, labels: np.ndarray, confidence: np.ndarray) -> tuple[list[Finding], int]:
    """Every candidate as a finding, down to score 0, highest first (the evaluation's FROC runs past
    the operating point), and how many of them lead at or above the card's min_candidate_score:
    that prefix is what nodule_findings gives (the dedup goes in score order)."""
    kept = _kept(scored_candidates(card, volume, labels, confidence), 0.0)
    threshold = card.thresholds.get("min_candidate_score", 0.5)
    findings, _ = _findings(card, volume, labels, kept)
    return findings, sum(1 for c in kept if c.score >= threshold)


def _findings(card: ModelCard, volume: Volume, labels: np.ndarray, kept: list[ScoredCandidate]) -> tuple[list[Finding], np.ndarray]:
    """The kept candidates as findings, measured, and the label map with finding i as label i."""
    voxel_mm3 = float(np.prod(volume.spacing_mm))
    midline_x, lung_z = _lung_sides(labels, volume)
    out = np.zeros(labels.shape, np.uint8)
    findings = []
    for found in kept:
        box, component = found.candidate.box, found.candidate.mask
        centre = volume.voxel_to_patient_mm(found.centre_voxel)
        widest = int(np.argmax(component.sum(axis=(1, 2))))
        long_mm, short_mm = axial_axes_mm(component[widest], volume.pixel_spacing_mm)
        hu = volume.voxels[box][component].astype(np.float32)
        solid_share = float((hu > SOLID_HU).mean())
        side = "left" if centre[0] > midline_x else "right"  # LPS: +x is the patient's left
        z_low, z_high = lung_z.get(side, (centre[2], centre[2]))
        zone = "upper" if centre[2] > (z_low + z_high) / 2 else "lower"
        label = len(findings) + 1
        out[box][component & (out[box] == 0)] = label
        findings.append(model_finding(
            card, volume, 2, label, found.centre_voxel, found.score,
            {"long_axis_mm": round(long_mm, 1), "short_axis_mm": round(short_mm, 1),
             "mean_diameter_mm": round((long_mm + short_mm) / 2, 1), "volume_mm3": round(float(component.sum()) * voxel_mm3, 0),
             "mean_hu": round(float(hu.mean()), 0)},
            {"side": side, "zone": f"{zone} zone", "lobe_region": f"{side} {zone} lung"},
            {"composition": "solid" if solid_share >= SOLID_SHARE else "part-solid"},
        ))
    return findings, out
