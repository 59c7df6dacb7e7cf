"""Overlay layers are exact to the voxel, in every plane; a screenshot with an overlay is kept."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PySide6.QtGui import QImage

from radview.core.nifti_layout import from_nifti_layout
from radview.core.overlays import LabelLayer, LabelStyle, Marker, MarkerLayer, MaskStyle
from radview.core.windowing import WindowLevel
from tests.gui.conftest import open_via_menu

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
RED = (255, 0, 0, 255)


@pytest.fixture
def ct_window(qtbot, window, demo_study, monkeypatch):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    return window


def _grab(view) -> np.ndarray:
    """(h, w, 3) uint8 RGB of the view's viewport, corner texts hidden."""
    for label in view.corner.labels.values():
        label.hide()
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    for label in view.corner.labels.values():
        label.show()
    h, w = image.height(), image.width()
    return np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, : w * 3].reshape(h, w, 3).copy()


def test_mask_is_painted_exactly_on_its_voxels(ct_window, qtbot):
    """A mask made from the image (HU > -400) must cover exactly the pixels the image shows above
    -400 HU, in axial, coronal (anisotropic) and sagittal views, zoomed so a voxel spans pixels."""
    w = ct_window
    w.actions_["layout_1x3"].trigger()  # tall panes: each zoomed view holds both sides of the threshold
    volume = w.volume
    threshold = -400
    layer = LabelLayer("body", volume.series_instance_uid, (volume.voxels > threshold).astype(np.uint8),
                       {1: LabelStyle("above -400 HU", RED)}, opacity=1.0)
    w.add_label_layer(layer)
    checked = 0
    for pane, index in zip(w.area.panes[:3], (100, 300, 250), strict=True):
        view = pane.view
        view.set_index(index)
        view.zoom(2.5)
        qtbot.wait(10)
        # image alone, windowed as a binary threshold: white above -400 HU, black below
        layer.visible = False
        w.area.overlays_changed()
        w.area.apply_window(WindowLevel(1.0, threshold))
        image = _grab(view)
        # mask alone over an all-black image
        layer.visible = True
        w.area.overlays_changed()
        w.area.apply_window(WindowLevel(1.0, 100_000))
        mask = _grab(view)
        white = image.min(axis=2) > 200
        red = (mask[..., 0] > 200) & (mask[..., 1] < 60) & (mask[..., 2] < 60)
        assert white.sum() > 10_000 and (~white).sum() > 10_000, "the view must show both sides of the threshold"
        mismatched = (white != red).sum()
        assert mismatched == 0, f"{pane.title.text()}: {mismatched} pixels differ between mask and image"
        checked += white.size
    assert checked > 300_000  # three views of >100,000 pixels each beside the docks

    # outline: only the boundary pixels of the same mask
    layer.style = MaskStyle.OUTLINE
    w.area.overlays_changed()
    outline = _grab(w.area.panes[0].view)
    outline_red = ((outline[..., 0] > 200) & (outline[..., 1] < 60)).sum()
    assert 0 < outline_red < 0.5 * red.sum()


def test_markers_go_to_and_select(ct_window, demo_study, qtbot):
    w = ct_window
    nodules = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())["chest_ct"]["nodules"]
    layer = MarkerLayer("planted nodules", w.volume.series_instance_uid,
                        [Marker(f"n{i}", np.array(n["centre_mm"]), n["diameter_mm"], f"nodule {i + 1}")
                         for i, n in enumerate(nodules)])
    w.add_marker_layer(layer)
    target = nodules[0]
    w.area.go_to_marker("n0")
    axial, coronal, sagittal = (p.view for p in w.area.panes[:3])
    k, j, i = (round(c) for c in target["centre_voxel"])
    assert (axial.index, coronal.index, sagittal.index) == (k, j, i)
    assert "n0" in axial.markers.shown_ids()
    # the view is centred on the marker
    centre = axial.view_box.viewRect().center()
    x, y, _ = axial.plane_view.lps_to_view(np.array(target["centre_mm"]))
    assert abs(centre.x() - x) < 1 and abs(centre.y() - y) < 1
    # clicking the box selects the marker
    with qtbot.waitSignal(w.area.marker_clicked) as blocker:
        axial.markers._items[axial.markers.shown_ids().index("n0")][0].mousePressEvent(_Accept())
    assert blocker.args == ["n0"] and w.area.selected_marker == "n0"
    # the layers panel lists both layers' entries and hides a layer when unticked
    assert w.layers_panel.tree.topLevelItemCount() == 1
    layer.visible = False
    w.area.overlays_changed()
    assert axial.markers.shown_ids() == []


class _Accept:
    def accept(self) -> None:
        pass


def test_screenshot_with_series_and_overlay(ct_window, demo_study, qtbot):
    """The artifact for the README: the demo CT with the planted nodules' masks and flags."""
    w = ct_window
    truth_dir = demo_study / "ground-truth"
    labels = from_nifti_layout(np.asarray(nib.load(truth_dir / "chest-ct-nodules.nii.gz").dataobj)).astype(np.uint8)
    assert labels.shape == w.volume.shape
    nodules = json.loads((truth_dir / "ground-truth.json").read_text())["chest_ct"]["nodules"]
    styles = {n["label"]: LabelStyle(f"nodule {n['label']}", (255, 80, 60, 255)) for n in nodules}
    w.add_label_layer(LabelLayer("Planted nodules (ground truth)", w.volume.series_instance_uid, labels, styles, 0.6))
    # the mask lies on the planted nodule: its label is there at the ground-truth centre voxel
    k, j, i = (round(c) for c in nodules[0]["centre_voxel"])
    assert labels[k, j, i] == nodules[0]["label"]
    w.add_marker_layer(MarkerLayer("Nodule flags", w.volume.series_instance_uid,
                                   [Marker(f"n{n['label']}", np.array(n["centre_mm"]), n["diameter_mm"],
                                           f"{n['diameter_mm']:.0f} mm {n['kind']}") for n in nodules]))
    w.actions_["preset_0"].trigger()  # lung window
    largest = max(nodules, key=lambda n: n["diameter_mm"])
    for view in w.area.views:
        view.zoom(2.0)
    w.area.go_to_marker(f"n{largest['label']}")
    qtbot.wait(100)
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "main-window.png"
    assert w.grab().save(str(path))
    assert path.stat().st_size > 50_000
