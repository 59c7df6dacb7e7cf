"""Run a network over the slices of a volume: lazy inputs, batches, sliding windows, autocast,
progress and cancel, and a compact result (labels and the winning class's probability)."""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np

from radview.ai.card import ModelCard
from radview.ai.preprocess import intensity_stats, normalise, slice_with_context
from radview.core.progress import CancelToken, ProgressCallback, report


class SliceInputs:
    """Network inputs of every slice of a volume, made batch by batch (a CT never exists as a
    float32 (slices, channels, 512, 512) copy): normalised, with context slices as channels.
    The voxels are on the card's pixel grid already (radview.ai.card_grid.on_card_grid)."""

    def __init__(self, card: ModelCard, voxels: np.ndarray, inverted: bool = False,
                 indices: np.ndarray | None = None) -> None:
        self.card, self.voxels, self.inverted = card, voxels, inverted
        self.stats = intensity_stats(voxels, card.normalisation)
        self.indices = np.arange(voxels.shape[0]) if indices is None else np.asarray(indices)  # slices to run

    def __len__(self) -> int:
        return len(self.indices)

    def image(self, k: int) -> np.ndarray:
        """(H, W) float32: slice k alone, normalised, without its context slices."""
        return normalise(self.voxels[k], self.stats, self.card.normalisation, self.inverted)

    def batch(self, start: int, stop: int) -> np.ndarray:
        """(stop - start, channels, H, W) float32 for the slices indices[start:stop]."""
        context = np.stack([slice_with_context(np.arange(self.voxels.shape[0]), int(k), self.card.context_slices)
                            for k in self.indices[start:stop]])
        # each slice normalised once, though it is a context channel of up to 2 * context + 1 inputs
        needed = np.unique(context)
        normalised = normalise(self.voxels[needed], self.stats, self.card.normalisation, self.inverted)
        return normalised[np.searchsorted(needed, context)]


def predict_labels(
    network,
    card: ModelCard,
    inputs: SliceInputs,
    device: str = "cpu",
    batch_size: int = 8,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    autocast_dtype=None,
    capture=None,
) -> tuple[np.ndarray, np.ndarray]:
    """(labels (N, H, W) uint8 = argmax class, confidence (N, H, W) float16 = its probability),
    on the inputs' grid (the card's).

    Slices go through the network as network_pass runs them. cancel is checked between batches: a
    run stops within one batch. capture: a radview.ai.conformance_capture.FeatureCapture told each batch's slices,
    so the input check reads its features from this pass.
    """
    import torch

    n, rows, cols = len(inputs), inputs.voxels.shape[1], inputs.voxels.shape[2]
    labels = np.empty((n, rows, cols), np.uint8)
    confidence = np.empty((n, rows, cols), np.float16)
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            if cancel is not None:
                cancel.raise_if_cancelled()
            stop = min(start + batch_size, n)
            batch = torch.from_numpy(inputs.batch(start, stop)).to(device)
            around = capture.batch(inputs.indices[start:stop]) if capture is not None else nullcontext()
            with around, torch.autocast(device_type=device.split(":")[0], dtype=autocast_dtype, enabled=autocast_dtype is not None):
                logits = network_pass(network, card, batch, batch_size)
            winner, best = winning_class(logits.float())
            # cast by torch, a third of numpy's time for float16; the same rounding (to nearest even)
            labels[start:stop] = winner.to(torch.uint8).cpu().numpy()
            confidence[start:stop] = best.to(torch.float16).cpu().numpy()
            report(progress, stop, n, f"{card.id}: slices")
    return labels, confidence


def network_pass(network, card: ModelCard, batch, sw_batch_size: int = 8):
    """The network's logits for a (N, C, H, W) batch: in one pass when the image fits in the card's
    input size (padded to it with zeros where smaller, as MONAI's sliding-window inference pads),
    else through MONAI's sliding-window inference with windows of that size (overlap 0.25, Gaussian
    blending). One window needs no blending: its weights divide out, so the one pass gives the
    same logits without building the weight map (tested)."""
    padding = window_padding(tuple(batch.shape[2:]), card.input_size)
    if padding is None:
        from monai.inferers import sliding_window_inference

        return sliding_window_inference(batch, card.input_size, sw_batch_size, network, overlap=0.25, mode="gaussian")
    if not any(padding):
        return network(batch)
    import torch

    top, bottom, left, right = padding
    logits = network(torch.nn.functional.pad(batch, (left, right, top, bottom)))
    return logits[:, :, top : logits.shape[2] - bottom, left : logits.shape[3] - right]


def window_padding(image_size: tuple[int, int], input_size: tuple[int, int]) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) rows and columns of zeros that bring an image of `image_size`
    to the network's `input_size`, half before and half after as MONAI's sliding-window inference
    pads (the odd one after); all 0 when it is that size; None when it is larger in either direction."""
    if any(n > m for n, m in zip(image_size, input_size)):
        return None
    (dh, dw) = (m - n for n, m in zip(image_size, input_size))
    return dh // 2, dh - dh // 2, dw // 2, dw - dw // 2


def winning_class(logits):
    """(the class of highest probability, that probability) per pixel of (N, classes, H, W) logits.
    With two classes the softmax's larger probability is the sigmoid of the logits' difference:
    a quarter of the work of a softmax and a maximum, the same float16 numbers (tested)."""
    import torch

    if logits.shape[1] == 2:
        difference = logits[:, 1] - logits[:, 0]
        return difference > 0, torch.sigmoid(difference.abs())
    best, winner = torch.softmax(logits, dim=1).max(dim=1)
    return winner, best
