"""The MR sequence and image plane a card's input rules are checked against."""

from __future__ import annotations

import numpy as np
import pytest

from radview.core.acquisition import (DWI, FLAIR, PD, STIR, T1, T2, T2_STAR, UNKNOWN, Acquisition, image_plane,
                                      mr_sequence)


@pytest.mark.parametrize(("description", "expected"), [
    ("AX FLAIR", FLAIR), ("Ax T2 FLAIR fs", FLAIR), ("t2_tirm_tra_dark-fluid", FLAIR), ("SAG T1 FLAIR", T1),
    ("sag t1 mprage", T1), ("AX T1 SE", T1), ("Axial T2 TSE", T2), ("ep2d_diff_3scan_trace", DWI), ("ADC", DWI),
    ("COR STIR", STIR), ("AX SWI", T2_STAR), ("PD TSE", PD), ("localizer", UNKNOWN),
])
def test_the_series_description_names_the_sequence(description: str, expected: str):
    assert mr_sequence(Acquisition(), description)[0] == expected


@pytest.mark.parametrize(("acquisition", "expected"), [
    (Acquisition(scanning_sequence="SE\\IR", inversion_time_ms=2500, echo_time_ms=120, repetition_time_ms=9000), FLAIR),
    (Acquisition(scanning_sequence="GR\\IR", inversion_time_ms=900, echo_time_ms=3, repetition_time_ms=2300), T1),
    (Acquisition(scanning_sequence="SE\\IR", inversion_time_ms=160, echo_time_ms=40, repetition_time_ms=4000), STIR),
    (Acquisition(inversion_recovery="YES", inversion_time_ms=2200), FLAIR),  # enhanced MR
    (Acquisition(scanning_sequence="SE", echo_time_ms=15, repetition_time_ms=500), T1),
    (Acquisition(scanning_sequence="SE", echo_time_ms=100, repetition_time_ms=4000), T2),
    (Acquisition(scanning_sequence="SE", echo_time_ms=20, repetition_time_ms=3000), PD),
    (Acquisition(scanning_sequence="GR", echo_time_ms=20, repetition_time_ms=600), T2_STAR),
    (Acquisition(scanning_sequence="EP", diffusion_b_value=1000, echo_time_ms=80, repetition_time_ms=5000), DWI),
    (Acquisition(sequence_name="*ep_b1000t"), DWI),
    (Acquisition(), UNKNOWN),
])
def test_tr_te_ti_name_the_sequence_when_the_description_does_not(acquisition: Acquisition, expected: str):
    assert mr_sequence(acquisition, "")[0] == expected


def test_the_protocol_and_sequence_names_speak_when_the_description_is_silent():
    assert mr_sequence(Acquisition(protocol_name="t2_tirm_tra_dark-fluid"), "")[0] == FLAIR
    sequence, how = mr_sequence(Acquisition(sequence_name="T1TFE"), "MR")  # Philips pulse sequence name
    assert sequence == T1 and "sequence name 'T1TFE'" in how


def test_incomplete_headers_do_not_contradict_the_description():
    """An inversion time without IR in ScanningSequence is still inversion recovery; a FLAIR or a
    DWI whose header lacks TI or b reads as T2 by TR/TE, which agrees with it."""
    flair_se = Acquisition(scanning_sequence="SE", inversion_time_ms=2500, echo_time_ms=120, repetition_time_ms=9000)
    assert mr_sequence(flair_se, "")[0] == FLAIR
    no_ti = Acquisition(scanning_sequence="SE", echo_time_ms=120, repetition_time_ms=9000)
    assert mr_sequence(no_ti, "AX FLAIR")[0] == FLAIR
    assert mr_sequence(Acquisition(scanning_sequence="EP", echo_time_ms=90, repetition_time_ms=5000), "AX DWI")[0] == DWI


def test_a_description_that_contradicts_the_physics_is_not_trusted():
    t1_physics = Acquisition(scanning_sequence="GR\\IR", inversion_time_ms=900, echo_time_ms=3, repetition_time_ms=2300)
    sequence, how = mr_sequence(t1_physics, "AX FLAIR")
    assert sequence == UNKNOWN and "FLAIR" in how and "T1" in how


def test_the_plane_is_the_patient_axis_nearest_the_slice_normal():
    assert image_plane(np.array([0, 0, 1.0])) == "axial"
    assert image_plane(np.array([0, -1.0, 0])) == "coronal"
    assert image_plane(np.array([1.0, 0.2, 0.1])) == "sagittal"
