"""Measurements on the demo CT: a mouse-drawn ruler in mm, ROI statistics in HU, angles."""

from __future__ import annotations

import json

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from radview.core.measurements import MeasurementKind
from tests.gui.conftest import open_via_menu


@pytest.fixture
def ct_window(qtbot, window, demo_study, monkeypatch):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    return window


def _screen_point(view, voxel_krc) -> QPoint:
    """Widget pixel of a voxel centre, through the view's own transforms."""
    x, y, _ = view.plane_view.lps_to_view(view.volume.voxel_to_patient_mm(np.asarray(voxel_krc, float)))
    scene = view.view_box.mapViewToScene(QPointF(x, y))
    return view.mapFromScene(scene)


def _drag(qtbot, view, start: QPoint, end: QPoint) -> None:
    viewport = view.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for t in np.linspace(0.1, 1.0, 10):
        p = QPoint(round(start.x() + t * (end.x() - start.x())), round(start.y() + t * (end.y() - start.y())))
        QTest.mouseMove(viewport, p)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    qtbot.wait(20)


def test_ruler_drawn_with_the_mouse_measures_mm(ct_window, qtbot, demo_study):
    w = ct_window
    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())["chest_ct"]
    w.actions_["layout_1x1"].trigger()
    w.actions_["tool_distance"].trigger()
    axial = w.area.active_view
    axial.set_index(100)
    axial.centre_on(w.volume.voxel_to_patient_mm(np.array([100, 256, 256.0])))
    axial.zoom(3.0)
    qtbot.wait(20)
    _drag(qtbot, axial, _screen_point(axial, (100, 256, 206)), _screen_point(axial, (100, 256, 306)))
    (m,) = w.area.series_measurements()
    expected_mm = 100 * truth["pixel_spacing_mm"]
    assert m.kind is MeasurementKind.DISTANCE
    assert abs(m.values["length_mm"] - expected_mm) < 0.5
    assert f"{m.values['length_mm']:.1f} mm" in axial.measure_graphics.texts()

    # across slices in the sagittal view: 40 slices of 1.25 mm (anisotropic voxels)
    w.area.set_active(w.area.panes[2].view)
    w.actions_["layout_1x1"].trigger()
    sagittal = w.area.active_view
    sagittal.set_index(256)
    sagittal.centre_on(w.volume.voxel_to_patient_mm(np.array([100, 256, 256.0])))
    sagittal.zoom(3.0)
    qtbot.wait(20)
    _drag(qtbot, sagittal, _screen_point(sagittal, (80, 256, 256)), _screen_point(sagittal, (120, 256, 256)))
    second = w.area.series_measurements()[1]
    assert abs(second.values["length_mm"] - 40 * truth["slice_spacing_mm"]) < 0.5


def test_measurements_show_where_they_lie_and_delete(ct_window, qtbot):
    w = ct_window
    axial, coronal = w.area.panes[0].view, w.area.panes[1].view
    axial.set_index(100)
    a = np.array([206.5, 256.5])
    b = np.array([306.5, 256.5])
    m = axial.add_measurement(MeasurementKind.DISTANCE, [QPointF(*(axial.plane_view.to_mm @ a)), QPointF(*(axial.plane_view.to_mm @ b))])
    assert len(axial.measure_graphics.texts()) == 1
    axial.set_index(101)
    assert axial.measure_graphics.texts() == []  # not on the next slice
    coronal.set_index(256)  # the ruler lies in coronal plane row 256
    assert coronal.measure_graphics.texts() == [m.summary()]
    w.area.select_measurement(m.id)
    w.area.setFocus()
    QTest.keyClick(w.area, Qt.Key.Key_Delete)
    assert w.area.series_measurements() == [] and coronal.measure_graphics.texts() == []


def test_roi_mean_hu_matches_the_pixels(ct_window):
    w = ct_window
    axial = w.area.panes[0].view
    axial.set_index(100)
    row0, col0, a_mm, b_mm = 45.0, 60.0, 12.0, 8.0  # air, outside the body
    spacing = w.volume.pixel_spacing_mm
    centre = axial.plane_view.to_mm @ np.array([col0 + 0.5, row0 + 0.5])
    points = [centre, centre + np.array([a_mm, 0.0]), centre + np.array([0.0, b_mm])]
    m = axial.add_measurement(MeasurementKind.ELLIPSE, [QPointF(*p) for p in points])

    # the same ellipse computed independently from the file itself
    ds = pydicom.dcmread(w.volume.slices[100].path)
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    rows, cols = np.mgrid[0 : hu.shape[0], 0 : hu.shape[1]]
    inside = ((cols - col0) * spacing[1] / a_mm) ** 2 + ((rows - row0) * spacing[0] / b_mm) ** 2 <= 1
    assert m.values["pixel_count"] == inside.sum()
    assert m.values["mean"] == pytest.approx(hu[inside].mean(), abs=0.01)
    assert m.values["sd"] == pytest.approx(hu[inside].std(), abs=0.01)
    assert -1010 < m.values["mean"] < -985  # air is -1000 HU
    assert m.values["area_mm2"] == pytest.approx(np.pi * a_mm * b_mm)
    assert "HU" in m.summary("HU")


def test_angle(ct_window):
    axial = ct_window.area.panes[0].view
    c = axial.plane_view.to_mm @ np.array([256.5, 256.5])
    m = axial.add_measurement(
        MeasurementKind.ANGLE, [QPointF(c[0] + 30, c[1]), QPointF(*c), QPointF(c[0], c[1] - 20)]
    )
    assert m.values["angle_deg"] == pytest.approx(90.0, abs=1e-6)
