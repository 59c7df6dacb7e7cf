"""Learn a model's input-conformance check from its training data (part of `radview train`).

Both Gaussians (encoder features, intensity profiles) are fitted on the training patients; each
limit is chosen on held-out patients of the same distribution that the fit never saw (the
validation patients and, for phantoms, the recipe's extra "conformance" seeds) so that at least
99 % of them pass; the test patients then measure the pass rate of the two limits together.
Everything goes into the package: the statistics file and the card's "conformance" section
(radview.ai.conformance).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from radview.ai import conformance, encoder_features
from radview.ai.body_extent import MIN_CROSSING_MM, TOLERANCE, body_extent_mm, extent_limits
from radview.ai.card import ModelCard, load_card, save_card
from radview.ai.datasets import Case
from radview.ai.predict import SliceInputs
from radview.ai.registry import load_network, sha256_of
from radview.core.progress import CancelToken, ProgressCallback, report

PASS_SHARE = 0.99


@dataclass
class _Measured:
    features: list[np.ndarray]  # per sampled slice: (positions, channels)
    profiles: np.ndarray  # (sampled slices, bins)
    body_extent_mm: float | None  # radview.ai.body_extent; None: the image's pixel spacing is unknown


def _measure(network, card: ModelCard, layers: list[str], case: Case, slices: int) -> _Measured:
    from radview.ai.datasets import case_volume
    from radview.ai.card_grid import on_card_grid

    volume = on_card_grid(card, case_volume(case, card.modalities[0]))
    inputs = SliceInputs(card, volume.voxels, volume.display_inverted)
    indices = conformance.sampled_slices(volume.shape[0], slices)
    spacing = volume.known_pixel_spacing_mm
    extent = None if spacing is None else body_extent_mm(volume.voxels[indices], spacing, inverted=volume.display_inverted)
    return _Measured(encoder_features.layer_features(network, card, layers, inputs, indices),
                     conformance.intensity_profiles(card, inputs, indices), extent)


def slices_sampled(card: ModelCard) -> int:
    """How many evenly spaced slices of a volume the check reads, in its fit, its limits and in
    use: the recipe's `conformance_slices_sampled` (fewer on a short volume, where the check's
    share of the run is largest), else conformance.SLICES_SAMPLED."""
    recipe = (card.raw.get("training") or {}).get("recipe") or {}
    return int(recipe.get("conformance_slices_sampled", conformance.SLICES_SAMPLED))


def _scores(measured: dict[str, _Measured], stats: conformance.Statistics) -> dict[str, tuple[float, float]]:
    return {patient: (conformance.image_score(m.features, stats.feature_mean, stats.feature_precision),
                      conformance.profile_score(m.profiles, stats.profile_mean, stats.profile_precision))
            for patient, m in measured.items()}


def _extent_section(fit: list[_Measured], held_out: list[_Measured], check: list[_Measured]) -> dict | None:
    """The card's body-extent limits: the range of the training and threshold images widened by
    TOLERANCE, and how many check images lie within them; None when no image's size is known."""
    known = [m.body_extent_mm for m in fit + held_out if m.body_extent_mm is not None]
    if not known:
        return None
    low, high = extent_limits(known)
    inside = [low <= m.body_extent_mm <= high for m in check if m.body_extent_mm is not None]
    return {"low": round(low, 1), "high": round(high, 1), "training_min": round(min(known), 1),
            "training_max": round(max(known), 1),
            "rule": (f"the median over the checked slices of the body's larger in-plane extent (rows and columns "
                     f"crossing at least {MIN_CROSSING_MM:g} mm of it); the limits: the range of the fit and threshold "
                     f"images' extents, divided and multiplied by {TOLERANCE:g}"),
            "check_images": {"images": len(check), "passed": int(sum(inside))}}


def _summary(scores: dict[str, tuple[float, float]], threshold: float, profile_threshold: float) -> dict:
    passed = [f <= threshold and p <= profile_threshold for f, p in scores.values()]
    return {"images": len(scores), "passed": int(sum(passed)),
            "pass_share": round(float(np.mean(passed)), 4) if passed else None,
            "feature_score_max": round(max(f for f, _ in scores.values()), 3) if scores else None,
            "profile_score_max": round(max(p for _, p in scores.values()), 3) if scores else None}


def learn_conformance(model_dir: Path, fit_cases: list[Case], threshold_cases: list[Case], check_cases: list[Case],
                      data: str, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict:
    """Fit, choose the limits, measure the pass rate; write the statistics and the card's
    section; return that section. `data` says in words what the cases are."""
    model_dir = Path(model_dir)
    card = load_card(model_dir / "model.json")
    network = load_network(card)
    layers = encoder_features.feature_layers(network, card)
    slices = slices_sampled(card)
    total, done = len(fit_cases) + len(threshold_cases) + len(check_cases), 0

    def measure(case: Case) -> _Measured:
        nonlocal done
        if cancel is not None:
            cancel.raise_if_cancelled()
        measured = _measure(network, card, layers, case, slices)
        done += 1
        report(progress, done, total, f"input check for {card.id}: {case.patient}")
        return measured

    fit = [measure(c) for c in fit_cases]
    features = np.concatenate([f for m in fit for f in m.features])
    if len(features) > conformance.MAX_FIT_POSITIONS:
        features = features[np.random.default_rng(0).choice(len(features), conformance.MAX_FIT_POSITIONS, replace=False)]
    stats = conformance.Statistics(*conformance.fit_gaussian(features),
                                   *conformance.fit_gaussian(np.concatenate([m.profiles for m in fit])))
    held_out_measured = {c.patient: measure(c) for c in threshold_cases}
    held_out = _scores(held_out_measured, stats)
    threshold = conformance.threshold_for([f for f, _ in held_out.values()], PASS_SHARE)
    profile_threshold = conformance.threshold_for([p for _, p in held_out.values()], PASS_SHARE)
    check_measured = {c.patient: measure(c) for c in check_cases}
    checked = _scores(check_measured, stats)
    statistics = conformance.write_statistics(model_dir, stats)
    section = {
        "method": conformance.METHOD,
        "description": (
            "Two Mahalanobis distances from the training images, both within their limits to pass: the network's "
            "encoder features (each encoder layer pooled to the bottleneck grid, mean and RMS, one vector per "
            f"position; a slice scores the {conformance.POSITION_PERCENTILE:.0f}th percentile over its positions) "
            f"and the intensity profile (share of the normalised input in {conformance.HISTOGRAM_BINS} bands per "
            f"slice); an image scores the median over up to {slices} evenly spaced slices. And the "
            "imaged body's extent in mm within the training images' range (body_extent_mm)"),
        "layers": layers,
        "position_percentile": conformance.POSITION_PERCENTILE,
        "slices_sampled": slices,
        "threshold": round(threshold, 4),
        "profile_threshold": round(profile_threshold, 4),
        "threshold_rule": (f"each limit: the {PASS_SHARE:.0%} quantile of the held-out images' scores, raised to "
                           f"their mean + {conformance.SPREAD_SD:g} SD when that is higher"),
        "statistics_file": statistics.name,
        "sha256": sha256_of(statistics),
        "data": data,
        "fitted_on": {"images": len(fit_cases), "feature_vectors": int(len(features)),
                      "profiles": int(sum(len(m.profiles) for m in fit))},
        "threshold_images": _summary(held_out, threshold, profile_threshold),
        "check_images": _summary(checked, threshold, profile_threshold),
        "made_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    extent = _extent_section(fit, list(held_out_measured.values()), list(check_measured.values()))
    if extent is not None:
        section["body_extent_mm"] = extent
    raw = dict(load_card(model_dir / "model.json").raw)
    raw["conformance"] = section
    save_card(raw, model_dir)
    return section
