"""Where the training patches of a segmentation recipe come from: the finding, dense tissue, anywhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radview.ai.card import load_card
from radview.ai.datasets import Case
from radview.ai.predict import SliceInputs
from radview.ai.train import _sample_batch, _slices_holding, dense_tissue_voxels

NO_AUGMENTATION = {"flip_probability": 0.0, "rotate_degrees": 0.0, "scale_range": 0.0, "intensity_range": 0.0,
                   "log_gamma_range": 0.0, "noise_sd": 0.0}


def _chest() -> Case:
    """Air lung (-850 HU) over 200 x 200 pixels of 8 slices, one small vessel (40 HU) in it, far
    from a nodule: random patches seldom hold the vessel."""
    hu = np.full((8, 200, 200), -850.0, np.float32)
    labels = np.ones(hu.shape, np.uint8)  # all lung
    hu[:, 20:24, 20:24] = 40.0  # a vessel along the slices, labelled lung
    hu[3:5, 170:176, 170:176] = 30.0
    labels[3:5, 170:176, 170:176] = 2  # the nodule
    return Case("p", hu, labels, (1.25, 0.7, 0.7))


def _holds_vessel(patch: np.ndarray) -> bool:
    """Whether the patch's own slice (the middle channel) shows any of the vessel (40 HU: 0.74 normalised)."""
    return bool((patch[patch.shape[0] // 2] > 0.6).any())


def test_a_share_of_the_other_patches_is_centred_on_dense_tissue_that_is_not_the_finding():
    card = load_card(Path("models/ct-nodule/model.json"))
    case = _chest()
    dense = dense_tissue_voxels([case], 2, -300.0)
    assert dense[0].size == 8 * 16  # the vessel's voxels: not the nodule, not the air
    inputs = [SliceInputs(card, case.voxels)]
    holding = _slices_holding([case], 2)
    recipe = {**NO_AUGMENTATION, "batch_size": 200, "patch_size": [32, 32], "positive_fraction": 0.0}

    def vessel_share(extra: dict, seed: int = 0) -> float:
        images, labels = _sample_batch(inputs, [case], {**recipe, **extra}, np.random.default_rng(seed), 2, holding, dense)
        assert images.shape == (200, 5, 32, 32) and labels.shape == (200, 32, 32)
        return float(np.mean([_holds_vessel(image) for image in images]))

    assert vessel_share({}) < 0.1  # anywhere: about 1 in 23 of the places a patch can take holds it
    assert vessel_share({"dense_tissue_share": 1.0}) == 1.0
    assert 0.35 < vessel_share({"dense_tissue_share": 0.5}) < 0.65


def test_without_the_key_the_batches_are_those_of_earlier_recipes():
    """The shipped weights come from their recipe: a recipe without dense_tissue_share draws the
    same patches whether or not the dense voxels are passed."""
    card = load_card(Path("models/ct-nodule/model.json"))
    case = _chest()
    inputs, holding = [SliceInputs(card, case.voxels)], _slices_holding([case], 2)
    recipe = {**NO_AUGMENTATION, "batch_size": 16, "patch_size": [32, 32], "positive_fraction": 0.5}
    plain = _sample_batch(inputs, [case], recipe, np.random.default_rng(3), 2, holding)
    passed = _sample_batch(inputs, [case], recipe, np.random.default_rng(3), 2, holding,
                           dense_tissue_voxels([case], 2, -300.0))
    assert all(np.array_equal(a, b) for a, b in zip(plain, passed))
