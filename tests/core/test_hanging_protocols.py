"""Hanging protocols without Qt: which kind a series is, where each pane starts, and the settings
file keeping the reader's protocols (a bad one named and replaced by its default)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from radview.core.hanging_protocols import (
    DEFAULT_PROTOCOLS,
    KINDS,
    HangingProtocol,
    acquisition_plane,
    load_protocols,
    protocol_kind,
)
from radview.core.planes import Plane
from radview.core.settings import Settings, load_settings, save_settings
from radview.core.volume import Volume


def _ct(head_first: bool = False, body_part: str = "CHEST", description: str = "Chest 1.25mm") -> Volume:
    """A 20-slice axial CT; slice 0 at the feet end unless `head_first`."""
    step = np.array([0.0, 0.0, -2.0 if head_first else 2.0])
    return Volume(np.zeros((20, 32, 32), np.int16), (0.8, 0.8), 2.0, np.array([0.0, 0.0, 0.0]), slice_step_mm=step,
                  modality="CT", body_part=body_part, series_description=description)


def _sagittal_mr() -> Volume:
    """A sagittal brain MR: 24 slices from right to left, 64 x 64 images (rows run down: -z)."""
    return Volume(np.zeros((24, 64, 64), np.int16), (1.0, 1.0), 4.0, np.array([-48.0, -32.0, 32.0]),
                  row_direction=np.array([0.0, 1.0, 0.0]), column_direction=np.array([0.0, 0.0, -1.0]),
                  modality="MR", body_part="", series_description="SAG T1 BRAIN")


def _radiograph() -> Volume:
    return Volume(np.zeros((1, 200, 180), np.uint16), modality="DX", body_part="CHEST", series_description="Chest PA",
                  has_patient_geometry=False)


def test_series_are_sorted_into_kinds_by_modality_body_part_and_description():
    assert protocol_kind(_ct()) == "chest-ct"
    assert protocol_kind(_ct(body_part="", description="CT THORAX LOW DOSE")) == "chest-ct"
    assert protocol_kind(_ct(body_part="ABDOMEN", description="Abdomen portal")) == "other"
    assert protocol_kind(_sagittal_mr()) == "brain-mr"
    assert protocol_kind(_radiograph()) == "chest-radiograph"
    knee = Volume(np.zeros((1, 8, 8)), modality="CR", body_part="KNEE", has_patient_geometry=False)
    assert protocol_kind(knee) == "other"


def test_a_chest_ct_starts_at_the_top_of_the_chest_whichever_way_the_stack_runs():
    protocol = DEFAULT_PROTOCOLS["chest-ct"]
    feet_first, head_first = _ct(head_first=False), _ct(head_first=True)
    assert protocol.start_index(feet_first, Plane.AXIAL) == 19  # slice 19 is the highest in the patient
    assert protocol.start_index(head_first, Plane.AXIAL) == 0
    assert protocol.start_index(feet_first, Plane.CORONAL) == 16  # reformats start in the middle
    assert protocol.layout == "2x2" and protocol.window_for(feet_first).name == "Lung"


def test_a_sagittal_mr_opens_in_its_acquired_plane_and_never_on_an_empty_edge_slice():
    mr = _sagittal_mr()
    protocol = DEFAULT_PROTOCOLS["brain-mr"]
    assert acquisition_plane(mr) is Plane.SAGITTAL
    planes = protocol.pane_planes(mr)
    assert planes[0] == (Plane.SAGITTAL, 0.0) and len(planes) == 4
    assert {p for p, _ in planes[:3]} == {Plane.AXIAL, Plane.CORONAL, Plane.SAGITTAL}
    # the axial reformat of a sagittal MR has 64 slices (its image rows): the middle, not image 1
    assert protocol.start_index(mr, Plane.AXIAL) == 32
    assert protocol.start_index(mr, Plane.SAGITTAL) == 12
    assert protocol.window_for(mr) is None  # presets are in HU: an MR keeps its own window


def test_a_radiograph_is_one_fitted_image_in_its_own_window():
    protocol = DEFAULT_PROTOCOLS["chest-radiograph"]
    xray = _radiograph()
    assert protocol.layout == "1x1" and protocol.window_for(xray) is None
    assert protocol.start_index(xray, Plane.AXIAL) == 0


def test_a_protocol_round_trips_and_a_bad_one_says_what_is_wrong():
    protocol = HangingProtocol("1x1", ("coronal", "axial", "sagittal", "axial-mip"), "Bone", "first")
    assert HangingProtocol.from_dict(json.loads(json.dumps(protocol.to_dict()))) == protocol
    with pytest.raises(ValueError, match="layout '3x3'.*start 'bottom'"):
        HangingProtocol.from_dict({"layout": "3x3", "start": "bottom"})
    with pytest.raises(ValueError, match="unknown field"):
        HangingProtocol.from_dict({"layuot": "1x1"})
    with pytest.raises(ValueError, match="window 'Lungs'"):
        HangingProtocol.from_dict({"window": "Lungs"})


def test_loading_keeps_the_good_protocols_and_replaces_the_bad_ones():
    protocols, problems = load_protocols({"chest-ct": {"layout": "1x1", "window": "Mediastinum"},
                                          "brain-mr": {"planes": ["axial"]}, "knee-mr": {}})
    assert set(protocols) == set(KINDS)
    assert protocols["chest-ct"]["layout"] == "1x1" and protocols["chest-ct"]["window"] == "Mediastinum"
    assert protocols["brain-mr"] == DEFAULT_PROTOCOLS["brain-mr"].to_dict()
    assert protocols["other"] == DEFAULT_PROTOCOLS["other"].to_dict()
    assert len(problems) == 2 and "brain MR protocol: planes" in problems[0] and "'knee-mr'" in problems[1]
    assert load_protocols(["not", "an", "object"])[1]


def test_the_settings_file_keeps_the_protocols_and_validates_them(tmp_path):
    path = tmp_path / "settings.json"
    settings = Settings()
    assert settings.hanging_protocol("chest-ct") == DEFAULT_PROTOCOLS["chest-ct"]
    settings.hanging_protocols["other"] = HangingProtocol("2x2", window="Bone").to_dict()
    save_settings(settings, path)
    again, problems = load_settings(path)
    assert problems == [] and again.hanging_protocol("other").window == "Bone" and again == settings

    raw = json.loads(path.read_text())
    raw["hanging_protocols"]["chest-ct"]["start"] = "bottom"
    path.write_text(json.dumps(raw))
    again, problems = load_settings(path)
    assert again.hanging_protocol("chest-ct") == DEFAULT_PROTOCOLS["chest-ct"]
    assert again.hanging_protocol("other").window == "Bone"
    assert len(problems) == 1 and "hanging_protocols" in problems[0] and "'bottom'" in problems[0]
    with pytest.raises(KeyError):
        again.hanging_protocol("knee-mr")
