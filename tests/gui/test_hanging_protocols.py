"""Hanging protocols in the window: each kind of series opens in the layout, planes, window and
slices a reader expects; Window > Hanging Protocol saves the reader's own and resets it."""

from __future__ import annotations

import json

import pydicom

from radview.core.hanging_protocols import DEFAULT_PROTOCOLS
from radview.core.planes import Plane
from tests.gui.conftest import open_via_menu


def _index_text(view) -> str:
    return view.corner_texts()["tr"]


def test_a_chest_ct_opens_in_the_lung_window_from_the_top_of_the_chest(qtbot, window, demo_study, monkeypatch):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    area = window.area
    assert area.layout_name == "2x2" and window.actions_["layout_2x2"].isChecked()
    assert [(v.plane, v.slab_mm) for v in area.views] == [(Plane.AXIAL, 0.0), (Plane.CORONAL, 0.0),
                                                           (Plane.SAGITTAL, 0.0), (Plane.AXIAL, 10.0)]
    assert area.window.name == "Lung" and "W 1500  L -600" in area.views[0].corner_texts()["br"]
    axial, coronal, sagittal, mip = area.views
    # slice 200 lies highest in the patient (the stack runs feet to head): the lung apices
    top = window.volume.voxel_to_patient_mm([[0, 0, 0], [199, 0, 0]])[:, 2]
    assert top[1] > top[0] and axial.index == 199 and mip.index == 199 and "Im 200/200" in _index_text(axial)
    assert area.panes[0].slider.value() == 199
    assert coronal.index == 256 and sagittal.index == 256  # reformats through the middle
    assert "Save Current Layout as the Protocol for Chest CT" == window.actions_["save_hanging_protocol"].text()


def test_a_brain_mr_opens_in_the_middle_and_a_radiograph_in_one_fitted_view(qtbot, window, demo_study, monkeypatch):
    open_via_menu(qtbot, window, demo_study / "dicom" / "brain-mr", monkeypatch)
    area = window.area
    assert area.layout_name == "1x3" and area.window.name == "Default"
    axial, coronal, sagittal = area.views
    assert axial.plane is Plane.AXIAL and axial.index == window.volume.shape[0] // 2  # not an empty edge slice
    assert coronal.index == 128 and sagittal.index == 128

    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-xray", monkeypatch)
    assert area.layout_name == "1x1" and len(area.views) == 1
    view = area.views[0]
    (x0, x1), (y0, y1) = view.plane_view.fit_range_mm()
    shown = view.view_box.viewRect()
    assert shown.contains(x0 + 1, y0 + 1) and shown.contains(x1 - 1, y1 - 1)  # fitted: the whole radiograph
    assert min(shown.width() / (x1 - x0), shown.height() / (y1 - y0)) < 1.1


def _as_sagittal(ds: pydicom.Dataset) -> None:
    """The demo MR's slices turned into sagittal ones, right to left: rows run down, columns front to back."""
    z = float(ds.ImagePositionPatient[2])
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]
    ds.ImagePositionPatient = [z, -123.3, 123.3]
    ds.SeriesDescription = "SAG FLAIR BRAIN"


def test_a_sagittal_mr_opens_sagittal_first_and_its_axial_pane_in_the_middle(qtbot, window, demo_study, monkeypatch,
                                                                           tmp_path):
    folder = tmp_path / "sagittal-mr"
    folder.mkdir()
    for path in sorted((demo_study / "dicom" / "brain-mr").iterdir()):
        ds = pydicom.dcmread(path)
        _as_sagittal(ds)
        ds.save_as(folder / path.name)
    open_via_menu(qtbot, window, folder, monkeypatch)
    first, *others = window.area.views
    assert first.plane is Plane.SAGITTAL and first.index == window.volume.shape[0] // 2
    axial = next(v for v in others if v.plane is Plane.AXIAL)
    assert axial.slice_count == 256 and axial.index == 128  # not image 1 of 256
    assert "Im 129/256" in _index_text(axial)


def test_the_reader_saves_a_protocol_and_resets_it(qtbot, window, demo_study, monkeypatch):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    window.actions_["layout_1x3"].trigger()
    window.actions_["preset_2"].trigger()  # bone
    window.actions_["save_hanging_protocol"].trigger()
    kept = window.settings.hanging_protocol("chest-ct")
    assert (kept.layout, kept.window, kept.start) == ("1x3", "Bone", "superior")
    on_disk = json.loads(window.settings_path.read_text())["hanging_protocols"]["chest-ct"]
    assert on_disk["layout"] == "1x3" and on_disk["window"] == "Bone"
    assert "1x3" in window.statusBar().currentMessage()

    with qtbot.waitSignal(window.series_loaded, timeout=60_000):  # the next chest CT opens the reader's way
        window.load_stack(window.stack)
    assert window.area.layout_name == "1x3" and window.area.window.name == "Bone"
    assert window.area.views[0].index == 199

    window.actions_["reset_hanging_protocol"].trigger()
    assert window.settings.hanging_protocol("chest-ct") == DEFAULT_PROTOCOLS["chest-ct"]
    assert window.area.layout_name == "2x2" and window.actions_["layout_2x2"].isChecked()
    assert window.area.window.name == "Lung"
    assert json.loads(window.settings_path.read_text())["hanging_protocols"]["chest-ct"]["layout"] == "2x2"
