"""Learn a model's input-conformance check from its training data (part of `radview train`).

The Gaussian of the bottleneck features is fitted on the training patients; the threshold is
chosen on held-out patients of the same distribution that the fit never saw (the validation
patients and, for phantoms, the recipe's extra "conformance" seeds) so that at least 99 % of
them pass; the test patients then measure the pass rate. Everything goes into the package: the
statistics file and the card's "conformance" section (radview.ai.conformance).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from radview.ai import conformance
from radview.ai.card import load_card, save_card
from radview.ai.datasets import Case
from radview.ai.predict import SliceInputs
from radview.ai.registry import load_network, sha256_of
from radview.core.progress import CancelToken, ProgressCallback, report

PASS_SHARE = 0.99


def _case_features(network, card, layers: list[str], case: Case) -> list[np.ndarray]:
    from radview.ai.engine import input_scale
    from radview.ai.evaluate import case_volume

    volume = case_volume(case, card.modalities[0])
    inputs = SliceInputs(card, volume.voxels, volume.display_inverted, input_scale(card, volume))
    return conformance.layer_features(network, card, layers, inputs, conformance.sampled_slices(volume.shape[0]))


def learn_conformance(model_dir: Path, fit_cases: list[Case], threshold_cases: list[Case], check_cases: list[Case],
                      data: str, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict:
    """Fit, choose the threshold, measure the pass rate; write the statistics and the card's
    section; return that section. `data` says in words what the cases are."""
    import torch

    model_dir = Path(model_dir)
    card = load_card(model_dir / "model.json")
    network = load_network(card)
    layers = conformance.feature_layers(network, card)
    total = len(fit_cases) + len(threshold_cases) + len(check_cases)
    done = 0

    def step(case: Case) -> list[np.ndarray]:
        nonlocal done
        if cancel is not None:
            cancel.raise_if_cancelled()
        features = _case_features(network, card, layers, case)
        done += 1
        report(progress, done, total, f"input check for {card.id}: {case.patient}")
        return features

    torch.manual_seed(0)
    fitted = np.concatenate([f for case in fit_cases for f in step(case)])
    rng = np.random.default_rng(0)
    if len(fitted) > conformance.MAX_FIT_POSITIONS:
        fitted = fitted[rng.choice(len(fitted), conformance.MAX_FIT_POSITIONS, replace=False)]
    mean, precision = conformance.fit_gaussian(fitted)
    held_out = {c.patient: conformance.image_score(step(c), mean, precision) for c in threshold_cases}
    threshold = conformance.threshold_for(list(held_out.values()), PASS_SHARE)
    checked = {c.patient: conformance.image_score(step(c), mean, precision) for c in check_cases}
    statistics = conformance.write_statistics(model_dir, mean, precision)
    section = {
        "method": conformance.METHOD,
        "description": ("Mahalanobis distance of the network's encoder features (each layer pooled to the "
                        "bottleneck grid, mean and RMS) from a Gaussian fitted to the training images; a slice "
                        f"scores the {conformance.POSITION_PERCENTILE:.0f}th percentile over its positions, an image "
                        f"the median over up to {conformance.SLICES_SAMPLED} evenly spaced slices"),
        "layers": layers,
        "position_percentile": conformance.POSITION_PERCENTILE,
        "slices_sampled": conformance.SLICES_SAMPLED,
        "threshold": round(threshold, 4),
        "threshold_rule": (f"the {PASS_SHARE:.0%} quantile of the held-out images' scores, raised to their mean + 3 SD "
                           "when that is higher"),
        "statistics_file": statistics.name,
        "sha256": sha256_of(statistics),
        "data": data,
        "fitted_on": {"images": len(fit_cases), "feature_vectors": int(len(fitted))},
        "threshold_images": {"images": len(held_out), "passed": sum(v <= threshold for v in held_out.values()),
                             "score_max": round(max(held_out.values()), 3)},
        "check_images": {"images": len(checked), "passed": int(sum(v <= threshold for v in checked.values())),
                         "pass_share": round(float(np.mean([v <= threshold for v in checked.values()])), 4)
                         if checked else None,
                         "score_max": round(max(checked.values()), 3) if checked else None},
        "made_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    raw = dict(load_card(model_dir / "model.json").raw)
    raw["conformance"] = section
    save_card(raw, model_dir)
    return section
