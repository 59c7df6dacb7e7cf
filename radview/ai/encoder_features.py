"""The network's encoder features the input check scores (radview.ai.conformance): which layers,
read from which pass over an image, pooled to the bottleneck grid, one vector per position.

An image as the network sees it: whole at its input size, padded to it when smaller (as the
inference pads it, and then only the cells wholly over the image are read), whole or in
input-size tiles when larger. The inference pass itself can give the same features
(radview.ai.conformance_capture).
"""

from __future__ import annotations

import numpy as np

from radview.ai.card import CardError, ModelCard
from radview.ai.predict import SliceInputs, window_padding


def feature_layers(network, card: ModelCard) -> list[str]:
    """The encoder's layers, shallow to deep: on the way down, the last module to finish at each
    resolution; at the lowest resolution the one with the most channels (the U-Net bottleneck with
    its skip). Shallow layers see texture and noise, the deep one anatomy; both tell real images
    from phantoms. Found by one probe forward pass, so it works for any 2D encoder-decoder."""
    import torch

    fired: list[tuple[str, int, int]] = []  # (name, positions, channels) in the order modules finish
    hooks = []
    for name, module in network.named_modules():
        if not name:
            continue

        def hook(_module, _inputs, output, name=name):
            if isinstance(output, torch.Tensor) and output.ndim == 4:
                fired.append((name, int(output.shape[2] * output.shape[3]), int(output.shape[1])))
        hooks.append(module.register_forward_hook(hook))
    try:
        with torch.inference_mode():
            network(torch.zeros((1, card.in_channels, *card.input_size)))
    finally:
        for h in hooks:
            h.remove()
    if not fired:
        raise CardError(f"{card.path}: the network has no 2D feature layer to check inputs with")
    smallest = min(p for _, p, _ in fired)
    first_deep = next(i for i, (_, p, _) in enumerate(fired) if p == smallest)
    levels: dict[int, str] = {}
    for name, positions, _ in fired[:first_deep]:
        if positions < card.input_size[0] * card.input_size[1]:
            levels[positions] = name  # the last to finish at this resolution
    deep = [(n, c) for n, p, c in fired if p == smallest]
    deepest = max(deep, key=lambda nc: nc[1])[0]  # first (outermost) of the widest
    return [levels[p] for p in sorted(levels, reverse=True) if p > smallest] + [deepest]


def _tiles(batch, multiple: int, roi: tuple[int, int]) -> list[tuple[object, tuple[slice, slice] | None]]:
    """A (N, C, H, W) input as the network sees it, as (tile, cells) pairs: an image that fits in
    the card's input size padded to it as the inference pads it (network_pass), its cells those
    over the image (image_cells); else whole when it is at most twice that size, or in input-size
    tiles covering it (as sliding-window inference runs it), each cropped to a multiple of the
    network's total stride, every cell read (None)."""
    import torch

    h, w = batch.shape[2], batch.shape[3]
    padding = window_padding((h, w), roi)
    if padding is not None:
        top, bottom, left, right = padding
        return [(torch.nn.functional.pad(batch, (left, right, top, bottom)), image_cells((h, w), roi, multiple))]
    if h <= 2 * roi[0] and w <= 2 * roi[1]:
        boxes = [(0, 0, h, w)]
    else:
        th, tw = min(h, roi[0]), min(w, roi[1])
        rows = sorted({min(r, h - th) for r in range(0, h, th)})
        cols = sorted({min(c, w - tw) for c in range(0, w, tw)})
        boxes = [(r, c, th, tw) for r in rows for c in cols]
    out = []
    for r, c, th, tw in boxes:
        th, tw = max(multiple, th // multiple * multiple), max(multiple, tw // multiple * multiple)
        out.append((batch[:, :, r : r + th, c : c + tw], None))
    return out


def image_cells(image_size: tuple[int, int], input_size: tuple[int, int], cell: int) -> tuple[slice, slice]:
    """The deepest grid's cells (`cell` pixels square) that lie wholly over an image of
    `image_size` padded to `input_size` (window_padding): the padding's zeros look like the air
    around a body, so cells over them would let a small image of anything pass (a 64x64 MR scored
    7.3 against ct-nodule's limit of 20.8 with every cell read)."""
    top, _, left, _ = window_padding(image_size, input_size)
    return (slice(-(-top // cell), (top + image_size[0]) // cell), slice(-(-left // cell), (left + image_size[1]) // cell))


class _FeaturesCaptured(Exception):
    """Raised by the last feature hook to fire: the rest of the pass (the decoder, about half the
    network's work) would only make a segmentation the input check does not read."""


def layer_features(network, card: ModelCard, layers: list[str], inputs: SliceInputs, indices: np.ndarray,
                   device: str = "cpu", batch_size: int = 8) -> list[np.ndarray]:
    """One (positions, channels) float32 array per slice in `indices`: the outputs of `layers`,
    each average-pooled to the deepest layer's grid, side by side (as PaDiM, Defard et al. 2020).

    Slices go `batch_size` at a time and each pass stops once every layer has fired: in eval
    mode every slice's features are computed alone, so this gives the same numbers as one full
    pass per slice (tested bit for bit on the CPU) at a fraction of the time."""
    import torch

    if len(inputs) != inputs.voxels.shape[0]:
        raise ValueError("the input check reads slices by their number: give it SliceInputs over every slice")
    modules = dict(network.named_modules())
    captured: dict[str, torch.Tensor] = {}

    def keep(name: str, output) -> None:
        captured[name] = output.detach()
        if len(captured) == len(set(layers)):
            raise _FeaturesCaptured

    hooks = [modules[name].register_forward_hook(lambda _m, _i, output, name=name: keep(name, output)) for name in layers]
    stride = int(np.prod(card.architecture_args.get("strides", [1])))
    out = []
    try:
        with torch.inference_mode():
            for start in range(0, len(indices), batch_size):
                chunk = [int(k) for k in indices[start : start + batch_size]]
                batch = torch.from_numpy(np.concatenate([inputs.batch(k, k + 1) for k in chunk]))
                tiles = []  # per tile: (slices, positions, channels)
                for tile, cells in _tiles(batch, stride, card.input_size):
                    captured.clear()
                    try:
                        network(tile.to(device))
                    except _FeaturesCaptured:
                        pass
                    tiles.append(pooled_features(captured, layers, cells))
                features = torch.cat(tiles, dim=1).cpu().numpy()
                out.extend(np.ascontiguousarray(f) for f in features)
    finally:
        for h in hooks:
            h.remove()
    return out


def pooled_features(captured: dict, layers: list[str], cells: tuple[slice, slice] | None = None):
    """(slices, positions, channels) tensor: each layer's output pooled to the last layer's grid, side
    by side; only the positions in `cells` (rows, columns of that grid) where given (image_cells)."""
    import torch

    grid = captured[layers[-1]].shape[2:]
    pooled = torch.cat([_pooled(captured[name].float(), grid) for name in layers], dim=1)
    if cells is not None:
        pooled = pooled[:, :, cells[0], cells[1]]
    # made contiguous by torch: numpy's copy of the transposed rows took twice as long (8 ms of a brain MR run)
    return pooled.flatten(2).transpose(1, 2).contiguous()


def _pooled(features, grid):
    """Features on the deepest grid: the mean over each cell and, for finer layers, the root mean
    square too (texture and noise energy, which a mean of signed filter responses cancels)."""
    import torch

    if tuple(features.shape[2:]) == tuple(grid):
        return features  # already on it: a pooling to the same grid is the identity, and costs 5 ms a batch
    ratio = [n // g for n, g in zip(features.shape[2:], grid)]
    if all(r * g == n for r, g, n in zip(ratio, grid, features.shape[2:])):
        # the cells tile the layer exactly: a plain average pool gives the same numbers, 40 % faster
        def pool(x):
            return torch.nn.functional.avg_pool2d(x, ratio)
    else:
        def pool(x):
            return torch.nn.functional.adaptive_avg_pool2d(x, grid)
    return torch.cat([pool(features), pool(features * features).sqrt()], dim=1)
