"""The input check's encoder features read from the inference pass itself, where that pass sees
each slice exactly as the check would: one network pass per slice instead of two.

On a small volume the check's own pass (24 of 36 brain slices, or the radiograph's one image)
costs half the inference or more; `radview bench infer` holds the whole run to 1.25x the bare
network. The features are the same numbers either way: in eval mode each slice in a batch is
computed alone (tests/ai/test_conformance_capture.py compares them bit for bit), and an image
smaller than the network's input is padded alike by both (only the cells over the image are
read). Where the passes differ (float16 autocast on a GPU, sliding windows over an image larger
than the input) the check runs its own pass (radview.ai.conformance.check_conformance).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np

from radview.ai.card import ModelCard
from radview.ai.encoder_features import image_cells, pooled_features
from radview.ai.predict import SliceInputs, window_padding


def reads_inference_pass(card: ModelCard, inputs: SliceInputs, device: str) -> bool:
    """True when the inference pass gives the check's features unchanged: on the CPU (no
    autocast), every slice in one window of the card's input size (no sliding window), that size a
    multiple of the network's total stride (the check's cells), over every slice."""
    if device != "cpu" or len(inputs) != inputs.voxels.shape[0] or len(inputs) == 0:
        return False
    stride = int(np.prod(card.architecture_args.get("strides", [1])))
    size = tuple(inputs.voxels.shape[1:])  # on the card's grid already (radview.ai.card_grid)
    return window_padding(size, card.input_size) is not None and all(s % stride == 0 for s in card.input_size)


class FeatureCapture:
    """Forward hooks on the check's layers that keep, batch by batch, the pooled features of the
    sampled slices; `predict_labels` names each batch's slices with `batch`."""

    def __init__(self, network, card: ModelCard, indices: np.ndarray, image_size: tuple[int, int]) -> None:
        self.layers: list[str] = list(card.conformance["layers"])
        stride = int(np.prod(card.architecture_args.get("strides", [1])))
        self._cells = image_cells(image_size, card.input_size, stride)  # every cell for an image of the input's size
        self.indices = [int(k) for k in indices]
        self._wanted = set(self.indices)
        self._found: dict[int, np.ndarray] = {}
        self._captured: dict = {}
        modules = dict(network.named_modules())
        self._hooks = [modules[name].register_forward_hook(
            lambda _m, _i, output, name=name: self._captured.__setitem__(name, output.detach())) for name in self.layers]

    @contextmanager
    def batch(self, slices: np.ndarray) -> Iterator[None]:
        """Around one network call on the slices `slices` (volume indices, in batch order)."""
        self._captured.clear()
        yield
        rows = [i for i, k in enumerate(slices) if int(k) in self._wanted]
        if rows:
            # only the sampled rows are pooled: the pooling is per slice, so this changes no number
            picked = self._captured if len(rows) == len(slices) else {
                name: output[rows] for name, output in self._captured.items()}
            features = pooled_features(picked, self.layers, self._cells).cpu().numpy()
            for row, f in zip(rows, features):
                self._found[int(slices[row])] = np.ascontiguousarray(f)
        self._captured.clear()  # the batch's activations are not kept past it

    def features(self) -> list[np.ndarray]:
        """One (positions, channels) array per sampled slice, in the order of `indices`."""
        missing = [k for k in self.indices if k not in self._found]
        if missing:
            raise RuntimeError(f"the inference pass did not reach sampled slices {missing[:5]}")
        return [self._found[k] for k in self.indices]

    def close(self) -> None:
        """Remove the hooks (the network is cached and used again)."""
        for h in self._hooks:
            h.remove()
        self._hooks = []
