"""The viewer as a radiologist uses it: open the demo CT, scroll, window presets, corner text."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from radview.core.planes import Plane
from tests.gui.conftest import open_via_menu


@pytest.fixture
def ct_window(qtbot, window, demo_study, monkeypatch):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    return window


def test_open_shows_study_and_corner_text(ct_window, demo_study):
    w = ct_window
    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())
    assert w.volume.shape == (200, 512, 512)
    assert "PHANTOM" in w.windowTitle() and truth["patient"]["id"] in w.windowTitle()
    axial = w.area.panes[0].view
    text = axial.corner_texts()
    assert text["tl"].startswith("PHANTOM")
    assert "Im 200/200" in text["tr"]  # the chest CT protocol: the top of the chest (slice 200 is the highest)
    assert (text["left"], text["right"], text["top"], text["bottom"]) == ("R", "L", "A", "P")
    coronal, sagittal = w.area.panes[1].view, w.area.panes[2].view
    assert (coronal.corner_texts()["top"], coronal.corner_texts()["right"]) == ("S", "L")
    assert (sagittal.corner_texts()["left"], sagittal.corner_texts()["bottom"]) == ("A", "I")
    # the browser lists the series with its image count and a thumbnail
    assert [len(s.images) for s in w.browser.stacks] == [200]
    assert not w.browser._items[0].icon(0).isNull()


def test_keys_scroll_and_presets(ct_window, qtbot):
    w = ct_window
    axial = w.area.panes[0].view
    w.area.setFocus()
    qtbot.waitUntil(lambda: w.area.hasFocus())
    QTest.keyClick(w.area, Qt.Key.Key_Home)
    QTest.keyClick(w.area, Qt.Key.Key_Down)
    QTest.keyClick(w.area, Qt.Key.Key_Down)
    assert axial.index == 2 and "Im 3/200" in axial.corner_texts()["tr"]
    QTest.keyClick(w.area, Qt.Key.Key_PageDown)
    assert axial.index == 12
    QTest.keyClick(w.area, Qt.Key.Key_End)
    assert axial.index == 199 and w.area.panes[0].slider.value() == 199
    QTest.keyClick(w.area, Qt.Key.Key_Home)
    assert axial.index == 0
    QTest.keyClick(w.area, Qt.Key.Key_1)
    assert "W 1500  L -600" in axial.corner_texts()["br"]
    QTest.keyClick(w.area, Qt.Key.Key_3)
    for pane in w.area.panes[:3]:
        assert "W 2000  L 400" in pane.view.corner_texts()["br"]
    # the bone window maps 400 HU to mid grey: the painted lookup follows the window
    assert axial.image_item.levels is not None and tuple(axial.image_item.levels) == (-600.0, 1400.0)
    # the slider moves the view too
    w.area.panes[0].slider.setValue(50)
    assert axial.index == 50


def test_wheel_scrolls_and_right_drag_windows(ct_window, qtbot):
    w = ct_window
    axial = w.area.panes[0].view
    before = axial.window
    axial.set_index(0)
    axial.view_box.scrolled.emit(5)
    assert axial.index == 5
    axial._drag_window(40.0, -20.0)  # right drag: wider window, lower level
    assert axial.window.width > before.width and axial.window.level < before.level
    assert f"W {axial.window.width:.0f}" in axial.corner_texts()["br"]
    assert w.area.panes[1].view.window == axial.window  # every view of the series follows


def test_crosshair_links_views_in_patient_space(ct_window, qtbot):
    w = ct_window
    axial, coronal, sagittal = (p.view for p in w.area.panes[:3])
    axial.set_index(100)
    # click the axial view on voxel (row 300, col 200) through the crosshair tool's path
    x, y = axial.plane_view.to_mm @ np.array([200.5, 300.5])
    from PySide6.QtCore import QPointF

    axial._clicked(QPointF(x, y))
    assert coronal.index == 300 and sagittal.index == 200
    assert axial.index == 100  # the clicked view stays on its slice
    # scrolling the coronal view moves the crosshair's depth: axial lines follow, slices stay
    coronal.step(10)
    assert np.isclose(w.area.focus_lps_mm[1], w.volume.voxel_to_patient_mm(np.array([100, 310, 200]))[1])


def test_cine_plays(ct_window, qtbot):
    w = ct_window
    axial = w.area.panes[0].view
    axial.set_index(0)
    w.actions_["cine"].trigger()
    qtbot.wait(400)
    w.actions_["cine"].trigger()
    assert not w.area.cine_running
    assert axial.index >= 3


def test_layouts(ct_window):
    w = ct_window
    w.actions_["layout_2x2"].trigger()
    assert [v.plane for v in w.area.views] == [Plane.AXIAL, Plane.CORONAL, Plane.SAGITTAL, Plane.AXIAL]
    assert w.area.views[3].slab_mm == 10.0
    mip = w.area.views[3]
    mip.set_index(100)
    image = mip.display_image()
    assert (image >= w.volume.voxels[100]).all()  # a MIP is never darker than its centre slice
    w.actions_["layout_1x1"].trigger()
    assert len(w.area.views) == 1
    w.actions_["layout_1x3"].trigger()
    assert len(w.area.views) == 3


def test_views_and_masks_are_views_of_the_volume_not_copies(ct_window):
    from radview.core.overlays import LabelLayer, LabelStyle

    w = ct_window
    labels = np.zeros(w.volume.shape, np.uint8)
    w.add_label_layer(LabelLayer("empty", w.volume.series_instance_uid, labels, {1: LabelStyle("x", (255, 0, 0, 255))}))
    for pane in w.area.panes[:3]:
        view = pane.view
        assert np.shares_memory(view.display_image(), w.volume.voxels), pane.title.text()
        assert np.shares_memory(view.layout_.display_slice(labels, view.index), labels)
    # the layer keeps the caller's array: no copy per overlay
    assert w.area.layers()[0].labels is labels


def test_window_stays_responsive_while_a_study_opens(qtbot, window, demo_study, monkeypatch):
    """Scan and load run in workers: the event loop never stalls while the CT opens."""
    import time

    from PySide6.QtCore import QTimer

    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    timer.stop()
    gaps_ms = np.diff(ticks) * 1000
    assert len(ticks) > 20
    open_ms = (ticks[-1] - ticks[0]) * 1000
    print(f"largest event-loop gap while opening: {gaps_ms.max():.1f} ms of {open_ms:.0f} ms")
    # 36-56 ms on a quiet machine (the first paint of the hanging protocol's panes); 182 and 227
    # ms of 1114 on a busy 2-core one beside another test worker. The limit grows with the whole
    # open's time, as a busy machine stretches both alike; a scan or load on the window's thread
    # would stall it for most of the open, far beyond a third.
    limit_ms = max(250.0, open_ms / 3)
    assert gaps_ms.max() < limit_ms, f"the event loop stalled for {gaps_ms.max():.0f} ms of {open_ms:.0f} ms"
