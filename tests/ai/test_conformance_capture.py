"""The input check read from the inference pass: the same features, bit for bit, as its own pass."""

from __future__ import annotations

import numpy as np
import pytest

from radview.ai.conformance import layer_features, screen_input
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
    indices, _stats, refused = screen_input(card, inputs)
    assert refused is None
    network = _network(card, "cpu")
    own = layer_features(network, card, card.conformance["layers"], inputs, indices)
    capture = FeatureCapture(network, card, indices)
    try:
        predict_labels(network, card, inputs, "cpu", 8, capture=capture)
    finally:
        capture.close()
    captured = capture.features()
    assert len(captured) == len(own) == len(indices)
    for a, b in zip(own, captured):
        assert a.shape == b.shape and np.array_equal(a, b)
    assert not network._forward_hooks and all(not m._forward_hooks for m in network.modules())  # hooks removed
