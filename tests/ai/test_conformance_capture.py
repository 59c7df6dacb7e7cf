"""The input check read from the inference pass: the same features, bit for bit, as its own pass."""

from __future__ import annotations

import numpy as np
import pytest

from radview.ai.conformance import screen_input
from radview.ai.encoder_features import layer_features
from radview.ai.conformance_capture import FeatureCapture, reads_inference_pass
from radview.ai.engine import _network
from radview.ai.predict import SliceInputs, predict_labels
from radview.ai.registry import find_models
from radview.dicom.load import load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series


@pytest.fixture(scope="module")
def brain(demo_study):
    card = next(c for c in find_models()[0] if c.id == "mr-brain-tumor")
    series = scan_path(demo_study / "dicom" / "brain-mr").all_series()[0]
    return card, load_stack(split_series(series)[0])


def test_features_from_the_inference_pass_equal_those_of_the_checks_own_pass(brain):
    card, volume = brain
    inputs = SliceInputs(card, volume.voxels, volume.display_inverted)
    assert reads_inference_pass(card, inputs, "cpu")
    screened = screen_input(card, inputs, volume.pixel_spacing_mm)
    assert screened.refused is None
    own, captured = _own_and_captured(card, inputs, screened.indices)
    assert len(captured) == len(own) == len(screened.indices)
    for a, b in zip(own, captured):
        assert a.shape == b.shape and np.array_equal(a, b)
    network = _network(card, "cpu")
    assert not network._forward_hooks and all(not m._forward_hooks for m in network.modules())  # hooks removed


def _own_and_captured(card, inputs: SliceInputs, indices: np.ndarray) -> tuple[list, list]:
    """The check's features of `indices` from its own pass, and from the inference pass."""
    network = _network(card, "cpu")
    own = layer_features(network, card, card.conformance["layers"], inputs, indices)
    capture = FeatureCapture(network, card, indices, inputs.voxels.shape[1:])
    try:
        predict_labels(network, card, inputs, "cpu", 8, capture=capture)
    finally:
        capture.close()
    return own, capture.features()


def test_a_radiograph_smaller_than_the_window_is_checked_from_the_inference_pass(demo_study):
    """The demo radiograph is 494 x 494 on the model's grid, under the network's 512: the inference
    pads it, and the check reads the same padded pass, only its cells wholly over the image."""
    from radview.ai.card_grid import on_card_grid
    from radview.ai.encoder_features import image_cells

    card = next(c for c in find_models()[0] if c.id == "cxr-nodule")
    series = scan_path(demo_study / "dicom" / "chest-xray").all_series()[0]
    grid = on_card_grid(card, load_stack(split_series(series)[0]))
    assert grid.shape[1] < card.input_size[0] and grid.shape[2] < card.input_size[1]
    inputs = SliceInputs(card, grid.voxels, grid.display_inverted)
    assert reads_inference_pass(card, inputs, "cpu")
    own, captured = _own_and_captured(card, inputs, np.array([0]))
    assert np.array_equal(own[0], captured[0])
    rows, cols = image_cells(grid.shape[1:], card.input_size, 8)
    padding = (card.input_size[0] - grid.shape[1]) // 2
    assert rows.start * 8 >= padding and rows.stop * 8 <= padding + grid.shape[1]  # no cell over the zeros
    assert own[0].shape[0] == (rows.stop - rows.start) * (cols.stop - cols.start) >= (grid.shape[1] // 8 - 1) ** 2


def test_pooled_features_are_each_cells_mean_and_root_mean_square():
    """The fast paths of the pooling (none for the deepest layer, a plain average pool where the cells
    tile a layer) give what the check is defined by: per bottleneck cell, the mean and, for finer
    layers, the root mean square of the layer's output there."""
    import torch

    from radview.ai.encoder_features import pooled_features

    generator = torch.Generator().manual_seed(0)
    captured = {"fine": torch.randn(2, 3, 16, 16, generator=generator),  # cells of 4 x 4
                "odd": torch.randn(2, 2, 10, 10, generator=generator),  # cells that do not tile: 10 over 4
                "deep": torch.randn(2, 5, 4, 4, generator=generator)}
    pooled = pooled_features(captured, ["fine", "odd", "deep"]).numpy()  # (slices, positions, channels)
    fine = captured["fine"].numpy().reshape(2, 3, 4, 4, 4, 4)
    expected_fine = np.concatenate([fine.mean(axis=(3, 5)), np.sqrt((fine**2).mean(axis=(3, 5)))], axis=1)
    odd = captured["odd"].numpy()
    # adaptive cells along 10 -> 4: [0,3), [2,5), [5,8), [7,10)
    edges = [(0, 3), (2, 5), (5, 8), (7, 10)]
    odd_cells = np.stack([np.stack([odd[:, :, a:b, c:d] for c, d in edges], axis=-1) for a, b in edges], axis=-2)
    expected_odd = np.concatenate([odd_cells.mean(axis=(2, 3)), np.sqrt((odd_cells**2).mean(axis=(2, 3)))], axis=1)
    expected = np.concatenate([expected_fine, expected_odd, captured["deep"].numpy()], axis=1).reshape(2, 6 + 4 + 5, 16)
    assert np.allclose(pooled, expected.transpose(0, 2, 1), atol=1e-5)


def test_mahalanobis_distances_of_each_position():
    from radview.ai.conformance import _distances

    rng = np.random.default_rng(0)
    rows, mean = rng.normal(size=(50, 6)).astype(np.float32), rng.normal(size=6).astype(np.float32)
    root = rng.normal(size=(6, 6))
    precision = (root @ root.T + np.eye(6)).astype(np.float32)
    expected = np.sqrt(np.einsum("ni,ij,nj->n", rows - mean, precision, rows - mean))
    assert np.allclose(_distances(rows, mean, precision), expected, rtol=1e-5)
