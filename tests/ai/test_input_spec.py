"""A card names the inputs its model was made for; a series outside them is not run automatically."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from radview.ai.card import CardError, load_card
from radview.ai.input_spec import input_mismatches, validate_applies_to
from radview.core.acquisition import Acquisition
from radview.core.volume import Volume
from radview.workflow.model_selection import models_for

MODELS = Path(__file__).resolve().parents[2] / "models"
FLAIR = Acquisition(scanning_sequence="SE\\IR", inversion_time_ms=2500, echo_time_ms=120, repetition_time_ms=9000)


def _brain(**changes) -> Volume:
    """An axial FLAIR volume as the demo writes it (36 x 256x256, 0.9 mm, 4 mm)."""
    fields = dict(voxels=np.zeros((36, 256, 256), np.int16), pixel_spacing_mm=(0.9, 0.9), slice_spacing_mm=4.0,
                  modality="MR", body_part="HEAD", slice_thickness_mm=4.0, series_description="AX FLAIR",
                  acquisition=FLAIR, series_number=3)
    fields.update(changes)
    return Volume(**fields)


@pytest.fixture(scope="module")
def brain_card():
    return load_card(MODELS / "mr-brain-tumor" / "model.json")


def test_an_axial_flair_is_what_the_brain_model_was_made_for(brain_card):
    assert input_mismatches(brain_card, _brain()) == []


@pytest.mark.parametrize(("changes", "what", "words"), [
    (dict(series_description="SAG T1 MPRAGE",
          acquisition=Acquisition(scanning_sequence="GR\\IR", inversion_time_ms=900, echo_time_ms=3, repetition_time_ms=2300)),
     "sequence", "sequence T1"),
    (dict(series_description="AX DWI", acquisition=Acquisition(diffusion_b_value=1000)), "sequence", "sequence DWI"),
    (dict(series_description="", acquisition=Acquisition()), "sequence", "sequence unknown"),
    (dict(row_direction=np.array([0, 1.0, 0]), column_direction=np.array([0, 0, -1.0])), "plane", "sagittal"),
    (dict(slice_spacing_mm=1.0, slice_thickness_mm=1.0), "slice spacing", "slice spacing 1 mm"),
    (dict(pixel_spacing_mm=(0.45, 0.45), voxels=np.zeros((36, 512, 512), np.int16)), "pixel spacing", "0.45"),
    (dict(modality="CT"), "modality", "modality CT"),
    (dict(voxels=np.zeros((1, 256, 256), np.int16)), "dimensions", "single image"),
])
def test_each_mismatch_is_named_with_the_series_value_and_the_cards(brain_card, changes, what, words):
    found = input_mismatches(brain_card, _brain(**changes))
    assert what in [m.what for m in found]
    text = next(m.text for m in found if m.what == what)
    assert words in text and "made for" in text


def test_a_lateral_radiograph_and_one_without_pixel_spacing_are_not_run():
    card = load_card(MODELS / "cxr-nodule" / "model.json")
    frontal = Volume(np.zeros((1, 2000, 2000), np.uint16), pixel_spacing_mm=(0.18, 0.18), modality="DX",
                     body_part="CHEST", has_patient_geometry=False, pixel_spacing_source="ImagerPixelSpacing",
                     acquisition=Acquisition(view_position="PA"))
    assert input_mismatches(card, frontal) == []
    lateral = dataclasses.replace(frontal, acquisition=Acquisition(view_position="LL"))
    assert [m.what for m in input_mismatches(card, lateral)] == ["view"]
    unknown = dataclasses.replace(frontal, pixel_spacing_source="")  # e.g. ImagerPixelSpacing 0\0
    assert "pixel spacing unknown" in input_mismatches(card, unknown)[0].text


def test_only_same_modality_misses_are_reported_as_not_applicable(brain_card):
    ct = load_card(MODELS / "ct-nodule" / "model.json")
    chosen = models_for([brain_card, ct], _brain(series_description="AX T1", acquisition=Acquisition()))
    assert chosen.applicable == []
    assert [c.id for c, _ in chosen.near_misses()] == ["mr-brain-tumor"]  # ct-nodule on an MR: not worth a line


@pytest.mark.parametrize("bad", [[6, 2], [1], "2-6", [0, float("inf")]])
def test_a_malformed_range_in_a_card_is_refused_by_name(brain_card, bad):
    broken = dataclasses.replace(brain_card, raw={**brain_card.raw, "applies_to": {**brain_card.raw["applies_to"],
                                                                                  "slice_spacing_mm": bad}})
    with pytest.raises(CardError, match="applies_to.slice_spacing_mm"):
        validate_applies_to(broken)
