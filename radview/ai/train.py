"""`radview train MODEL_DIR`: train a segmentation model from its card's recipe, seeded.

The recipe (card "training.recipe") names the patients for training, validation and test
(phantom seeds for the shipped models), so nothing leaks between them; the loop samples 2D
slices (mostly ones that hold a finding), augments them, minimises Dice + cross-entropy, checks
Dice on the validation patients every few hundred steps, keeps the best weights and stops early
when validation stops improving. It writes weights.safetensors and the card (sha256, run log).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from radview.ai.augment import augment
from radview.ai.card import ModelCard, load_card, save_card, share_model_file
from radview.ai.datasets import Case
from radview.ai.predict import SliceInputs, predict_labels
from radview.ai.registry import sha256_of
from radview.core.progress import CancelToken, ProgressCallback, report


def _slices_holding(cases: list[Case], finding: int) -> list[np.ndarray]:
    """Per case, the slices that hold the finding (found once: a pass over a 300-slice volume
    per sampled slice cost a fifth of each training step)."""
    return [np.flatnonzero((case.labels == finding).any(axis=(1, 2))) for case in cases]


def dense_tissue_voxels(cases: list[Case], finding: int, min_value: float) -> list[np.ndarray]:
    """Per case, the flat indices of voxels inside a labelled organ (label > 0), not the finding,
    at or above `min_value` (raw units, HU on CT): the vessels in the lung, which a 2D network
    with a few context slices otherwise labels nodule where they are thick (the hilar vessels of
    the training phantoms: components of 5-8 cm3), where random patches seldom show them."""
    return [np.flatnonzero((case.labels > 0) & (case.labels != finding) & (case.voxels >= min_value)) for case in cases]


def _sample_batch(inputs: list[SliceInputs], cases: list[Case], recipe: dict, rng: np.random.Generator, finding: int,
                  holding_slices: list[np.ndarray], dense: list[np.ndarray] | None = None):
    """A training batch: with `positive_fraction` a patch over the finding; of the others, the
    recipe's `dense_tissue_share` centred near a voxel of `dense` (dense_tissue_voxels), the rest
    anywhere. Without that key the random draws are those of recipes before it (same weights)."""
    images, labels = [], []
    patch = recipe.get("patch_size")
    fraction = recipe.get("positive_fraction", 0.7)
    dense_share = float(recipe.get("dense_tissue_share", 0.0)) if dense is not None and patch else 0.0
    for _ in range(recipe["batch_size"]):
        c = int(rng.integers(len(cases)))
        holding = holding_slices[c]
        around = None  # (row, col) the patch must hold
        if holding.size and rng.random() < fraction:
            k = int(rng.choice(holding))
        elif dense_share and dense[c].size and rng.random() < dense_share:
            k, *around = (int(i) for i in np.unravel_index(int(dense[c][rng.integers(dense[c].size)]), cases[c].labels.shape))
        else:
            k = int(rng.integers(cases[c].labels.shape[0]))
        image, label = inputs[c].batch(k, k + 1)[0], cases[c].labels[k]
        if around:
            image, label = _crop_around(image, label, patch, rng, *around)
        elif patch:
            image, label = _crop(image, label, patch, rng, fraction, finding)
        image, label = augment(image, label, rng, recipe)
        images.append(image)
        labels.append(label)
    return np.stack(images), np.stack(labels).astype(np.int64)


def _crop(image: np.ndarray, label: np.ndarray, patch: list[int], rng: np.random.Generator, positive_fraction: float,
          finding: int):
    rows, cols = np.nonzero(label == finding)
    if rows.size and rng.random() < positive_fraction:
        i = int(rng.integers(rows.size))
        return _crop_around(image, label, patch, rng, int(rows[i]), int(cols[i]))
    h, w = patch
    r0, c0 = int(rng.integers(label.shape[0] - h + 1)), int(rng.integers(label.shape[1] - w + 1))
    return image[:, r0 : r0 + h, c0 : c0 + w], label[r0 : r0 + h, c0 : c0 + w]


def _crop_around(image: np.ndarray, label: np.ndarray, patch: list[int], rng: np.random.Generator, row: int, col: int):
    """A patch that holds pixel (row, col) at a random place in it."""
    h, w = patch
    r0 = int(np.clip(row - rng.integers(h), 0, label.shape[0] - h))
    c0 = int(np.clip(col - rng.integers(w), 0, label.shape[1] - w))
    return image[:, r0 : r0 + h, c0 : c0 + w], label[r0 : r0 + h, c0 : c0 + w]


def split_by_patient(cases: list[Case], validation_share: float = 0.2, seed: int = 0) -> dict[str, list[Case]]:
    """Split a site's cases by patient (never by slice), seeded; at least one validation patient."""
    if len(cases) < 2:
        raise ValueError("training on site data needs at least two patients (one for validation)")
    order = np.random.default_rng(seed).permutation(len(cases))
    count = max(1, int(round(validation_share * len(cases))))
    return {"validation": [cases[i] for i in order[:count]], "train": [cases[i] for i in order[count:]]}


def validation_dice(network, card: ModelCard, inputs: list[SliceInputs], cases: list[Case]) -> float:
    """Dice per output label pooled over the validation patients (overlaps and sizes summed
    first, so a patient without findings cannot score a perfect 1 by predicting nothing),
    averaged over labels. Runs on the slices each input holds (all, or those around findings)."""
    overlap = np.zeros(len(card.outputs))
    total = np.zeros(len(card.outputs))
    for x, case in zip(inputs, cases, strict=True):
        labels, _ = predict_labels(network, card, x, batch_size=8)
        reference = case.labels[x.indices]
        for n, output in enumerate(card.outputs):
            predicted, truth = labels == output.value, reference == output.value
            overlap[n] += 2 * np.logical_and(predicted, truth).sum()
            total[n] += predicted.sum() + truth.sum()
    return float(np.mean(np.where(total > 0, overlap / np.maximum(total, 1), 1.0)))


def _validation_slices(case: Case, recipe: dict) -> np.ndarray | None:
    """All slices, or with recipe validation_margin_slices = m, those within m of a labelled
    finding (the highest label value) plus every 10th slice."""
    margin = recipe.get("validation_margin_slices")
    if margin is None:
        return None
    top = case.labels.max()
    holding = np.flatnonzero((case.labels == top).any(axis=(1, 2)))
    near = {int(k) for h in holding for k in range(h - margin, h + margin + 1) if 0 <= k < case.labels.shape[0]}
    return np.array(sorted(near | set(range(0, case.labels.shape[0], 10))))


def train_model(
    model_dir: Path,
    cases: dict[str, list[Case]],
    iterations: int | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    init_from_card_weights: bool = False,
) -> dict:
    """Train the model in `model_dir` from its card; returns the run log written to the card.

    cases: {"train": [...], "validation": [...]}, split by patient (the recipe's phantom seeds, or
    a site's own data: radview.workflow.training_data). init_from_card_weights: fine-tune the existing weights (transfer learning).
    """
    import torch
    from monai.losses import DiceCELoss
    from safetensors.torch import load_file, save_file

    from radview.ai.networks import build_network

    model_dir = Path(model_dir)
    card = load_card(model_dir / "model.json")
    recipe = dict(card.training["recipe"])
    if iterations is not None:
        recipe["iterations"] = iterations
    seed = int(recipe.get("seed", 0))
    torch.manual_seed(seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    rng = np.random.default_rng(seed)
    train_inputs = [SliceInputs(card, c.voxels, c.inverted) for c in cases["train"]]
    val_inputs = [SliceInputs(card, c.voxels, c.inverted, indices=_validation_slices(c, recipe)) for c in cases["validation"]]

    network = build_network(card.architecture, card.architecture_args)
    if init_from_card_weights:
        network.load_state_dict(load_file(str(card.weights_path)))
    optimiser = torch.optim.AdamW(network.parameters(), lr=recipe.get("learning_rate", 2e-3), weight_decay=1e-4)
    loss_fn = DiceCELoss(to_onehot_y=True, softmax=True)
    best, best_state, since_best, log = -1.0, None, 0, []
    holding_slices = _slices_holding(cases["train"], card.finding_value)
    dense = (dense_tissue_voxels(cases["train"], card.finding_value, float(recipe["dense_tissue_min_value"]))
             if recipe.get("dense_tissue_share") else None)
    started, started_cpu = time.perf_counter(), time.process_time()
    every = recipe.get("validate_every", 100)
    for step in range(1, recipe["iterations"] + 1):
        if cancel is not None:
            cancel.raise_if_cancelled()
        network.train()
        images, labels = _sample_batch(train_inputs, cases["train"], recipe, rng, card.finding_value,
                                       holding_slices, dense)
        optimiser.zero_grad()
        loss = loss_fn(network(torch.from_numpy(images)), torch.from_numpy(labels)[:, None])
        loss.backward()
        optimiser.step()
        report(progress, step, recipe["iterations"], f"training {card.id}, loss {loss.item():.3f}")
        if step % every == 0 or step == recipe["iterations"]:
            network.eval()
            score = validation_dice(network, card, val_inputs, cases["validation"])
            log.append({"step": step, "loss": round(loss.item(), 4), "validation_dice": round(score, 4)})
            if score > best:
                best, since_best = score, 0
                best_state = {k: v.detach().clone().contiguous() for k, v in network.state_dict().items()}
            else:
                since_best += 1
                if since_best >= recipe.get("patience", 4):
                    break
    assert best_state is not None
    save_file(best_state, str(card.weights_path))
    share_model_file(card.weights_path)
    run = {
        "steps_run": log[-1]["step"],
        "best_validation_dice": round(best, 4),
        "seconds": round(time.perf_counter() - started, 1),
        # CPU time of all threads: on a busy machine the fairer measure (a quiet 2-core run takes about half)
        "cpu_seconds": round(time.process_time() - started_cpu, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "validation_log": log,
        "fine_tuned_from_previous_weights": init_from_card_weights,
    }
    raw = dict(card.raw)
    raw["weights"] = {**raw["weights"], "sha256": sha256_of(card.weights_path)}
    raw["training"] = {**raw["training"], "last_run": run}
    # the input check was learned for the old weights: the package is refused until it is learned again
    raw.pop("conformance", None)
    save_card(raw, model_dir)
    return run
