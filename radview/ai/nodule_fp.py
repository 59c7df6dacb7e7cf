"""False-positive reduction for the ct-nodule model: a small network scores each nodule candidate.

The candidates (radview.ai.nodule_candidates) favour recall; most are vessels, vessel junctions,
the chest wall or noise. An ensemble of small fully connected networks reads each candidate's
features (size, thickness, shape, the segmentation network's probability, density, contact with
the chest wall) and gives the probability that it is a nodule: the finding's confidence, and what
the FROC ranks by. It is learned by `radview train` from the candidates on the recipe's phantoms,
and its operating threshold is chosen on their out-of-fold scores (radview.ai.nodule_fp_training). The scoring is numpy only: no torch at reading time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radview.ai.card import CardError, ModelCard
from radview.ai.nodule_candidates import FEATURES

HIDDEN = 16
MEMBERS = 5  # ensemble members, each from its own seed: their mean is steadier than one
# 16 hidden units, 400 full-batch steps and this weight decay: the best of five settings in a
# 3-fold cross-validation by scan on the recipe's phantoms (model card)
WEIGHT_DECAY = 1e-2
EPOCHS = 400


def fp_reduction_section(card: ModelCard) -> dict:
    """The card's "false_positive_reduction" section (file, sha256, ...); a CardError naming the
    command that makes one when the card has none."""
    section = card.raw.get("false_positive_reduction")
    if not section:
        raise CardError(f"{card.path}: the card has no false-positive reduction, so the model is not run "
                        f"(make one: radview train {card.folder} --fp-reduction-only [--data DIR])")
    return section


class CandidateScorer:
    """The learned scorer: feature standardisation and MEMBERS two-layer networks."""

    def __init__(self, tensors: dict[str, np.ndarray]) -> None:
        self.mean, self.sd = tensors["feature_mean"], tensors["feature_sd"]
        if self.mean.shape != (len(FEATURES),):
            raise ValueError(f"the scorer reads {self.mean.shape[0]} features; this version measures {len(FEATURES)}")
        self.members = [[(tensors[f"member{m}.layer{n}.weight"], tensors[f"member{m}.layer{n}.bias"]) for n in range(3)]
                        for m in range(MEMBERS)]

    @classmethod
    def load(cls, path: Path) -> CandidateScorer:
        from safetensors.numpy import load_file

        return cls(load_file(str(path)))

    def score(self, features: np.ndarray) -> np.ndarray:
        """Nodule probability (0-1) of each row of (candidates, len(FEATURES)) features."""
        if len(features) == 0:
            return np.zeros(0, np.float32)
        x = (np.asarray(features, np.float32) - self.mean) / self.sd
        total = np.zeros(len(x), np.float32)
        for layers in self.members:
            h = x
            for n, (weight, bias) in enumerate(layers):
                h = h @ weight.T + bias
                if n < len(layers) - 1:
                    h = np.maximum(h, 0.0)
            total += 1.0 / (1.0 + np.exp(-h[:, 0]))
        return total / len(self.members)


def fit_scorer(features: np.ndarray, is_nodule: np.ndarray, seed: int = 0, epochs: int = EPOCHS) -> dict[str, np.ndarray]:
    """The scorer's tensors, learned from candidates' features and whether each is a nodule
    (full-batch Adam on a class-balanced cross-entropy; seeded, so one recipe gives one scorer)."""
    import torch

    x = np.asarray(features, np.float32)
    y = np.asarray(is_nodule, np.float32)
    if y.sum() == 0 or y.sum() == len(y):
        raise ValueError(f"the scorer needs nodules and non-nodules among the candidates ({int(y.sum())} of {len(y)} are nodules)")
    mean, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
    inputs, targets = torch.from_numpy((x - mean) / sd), torch.from_numpy(y)
    balance = torch.tensor(float(len(y) - y.sum()) / float(y.sum()))
    tensors = {"feature_mean": mean, "feature_sd": sd.astype(np.float32)}
    for m in range(MEMBERS):
        torch.manual_seed(seed * 1000 + m)
        network = torch.nn.Sequential(torch.nn.Linear(len(FEATURES), HIDDEN), torch.nn.ReLU(),
                                      torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(), torch.nn.Linear(HIDDEN, 1))
        optimiser = torch.optim.Adam(network.parameters(), lr=3e-3, weight_decay=WEIGHT_DECAY)
        loss_of = torch.nn.BCEWithLogitsLoss(pos_weight=balance)
        for _ in range(epochs):
            optimiser.zero_grad()
            loss = loss_of(network(inputs)[:, 0], targets)
            loss.backward()
            optimiser.step()
        linear = [layer for layer in network if isinstance(layer, torch.nn.Linear)]
        for n, layer in enumerate(linear):
            tensors[f"member{m}.layer{n}.weight"] = layer.weight.detach().numpy().copy()
            tensors[f"member{m}.layer{n}.bias"] = layer.bias.detach().numpy().copy()
    return tensors
