"""Going to findings: every view centred on the finding, zoomed so it is at least 60 px across;
Next/Previous Finding cycle through the list; the layer list and the flags say the review status
as it changes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QThreadPool, Qt

from radview.gui.finding_dialog import FindingDialog
from radview.gui.viewer_area import MIN_FINDING_PX
from tests.gui.conftest import open_via_menu


@pytest.fixture
def ct_with_findings(qtbot, window, demo_study, monkeypatch, fixed_ct_model):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    with qtbot.waitSignal(window.model_finished, timeout=180_000):
        window.actions_["run_models"].trigger()
    QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(50)
    return window, fixed_ct_model


def _on_screen(view, point_lps_mm) -> tuple[float, float]:
    """Viewport pixel of a patient point, through the view's own transforms."""
    x, y, _ = view.plane_view.lps_to_view(np.asarray(point_lps_mm, float))
    p = view.mapFromScene(view.view_box.mapViewToScene(QPointF(x, y)))
    return p.x(), p.y()


def _assert_shown(window, finding) -> None:
    for view in window.area.views:
        cx, cy = view.viewport().width() / 2, view.viewport().height() / 2
        x, y = _on_screen(view, finding.centre_lps_mm)
        assert abs(x - cx) <= 3 and abs(y - cy) <= 3, f"{view.plane.value}: ({x}, {y}) not at the centre ({cx}, {cy})"
        across_px = finding.size_mm / view.view_box.viewPixelSize()[0]
        assert across_px >= MIN_FINDING_PX, f"{view.plane.value}: {finding.size_mm:.1f} mm is {across_px:.0f} px"
        assert view.index == view.plane_view.slice_through(np.array(finding.centre_lps_mm))


def test_go_to_centres_every_view_on_the_finding_zoomed_in(qtbot, ct_with_findings):
    window, result = ct_with_findings
    smallest = min(result.findings, key=lambda f: f.size_mm)
    assert smallest.size_mm > 0
    window.findings_panel.select(smallest.id)
    qtbot.wait(20)
    _assert_shown(window, smallest)
    # near the edge of the lung too: the view pans past the image's edge rather than leave it there
    largest = max(result.findings, key=lambda f: f.size_mm)
    window.findings_panel.select(largest.id)
    qtbot.wait(20)
    _assert_shown(window, largest)


def test_next_and_previous_finding_cycle_through_the_list_in_order(qtbot, ct_with_findings):
    window, result = ct_with_findings
    panel = window.findings_panel
    ids = list(panel.ids)
    assert len(ids) >= 3 and panel.selected_id() is None
    seen = []
    for _ in range(len(ids) + 1):
        qtbot.keyClick(panel, Qt.Key.Key_N)  # N: the next one, round to the first after the last
        seen.append(panel.selected_id())
        _assert_shown(window, panel.finding(seen[-1]))
    assert seen == ids + ids[:1]
    qtbot.keyClick(panel, Qt.Key.Key_N, Qt.KeyboardModifier.ShiftModifier)  # Shift+N: back
    assert panel.selected_id() == ids[-1]
    window.actions_["previous_finding"].trigger()
    assert panel.selected_id() == ids[-2]
    qtbot.keyClick(panel, Qt.Key.Key_BracketRight)  # ] is Next too
    assert panel.selected_id() == ids[-1]


def _marker_rows(window) -> dict[str, str]:
    tree = window.layers_panel.tree
    rows = {}
    for n in range(tree.topLevelItemCount()):
        item = tree.topLevelItem(n)
        for c in range(item.childCount()):
            child = item.child(c)
            if child.data(0, Qt.ItemDataRole.UserRole + 2):
                rows[child.data(0, Qt.ItemDataRole.UserRole + 2)] = child.text(0)
    return rows


def test_the_layer_list_and_the_flags_say_the_review_status_as_it_changes(qtbot, ct_with_findings, monkeypatch):
    window, result = ct_with_findings
    first, second, third = result.findings[:3]
    rows = _marker_rows(window)
    assert all(rows[f.id].endswith("(pending)") for f in result.findings)
    window.findings_panel.select(first.id)
    window.actions_["accept_finding"].trigger()
    window.findings_panel.select(second.id)
    window.actions_["reject_finding"].trigger()

    def answer(dialog: FindingDialog) -> int:
        dialog.note.setText("smaller on the lung window")
        return 1

    monkeypatch.setattr(FindingDialog, "exec", answer)
    window.findings_panel.select(third.id)
    window.actions_["edit_finding"].trigger()
    rows = _marker_rows(window)
    assert "pending" not in rows[first.id] and rows[first.id].endswith("(accepted)")
    assert rows[second.id].endswith("(rejected)") and rows[third.id].endswith("(edited)")
    # the flag on the image says it in words as well as in colour
    window.findings_panel.select(first.id)
    qtbot.wait(20)
    axial = window.area.views[0]
    captions = [label.toPlainText() for box, label in axial.markers._items if box.marker_id == first.id]
    assert captions and captions[0].endswith("(accepted)")
    window.actions_["undo_review"].trigger()  # undo the edit: pending again, in the list too
    assert _marker_rows(window)[third.id].endswith("(pending)")
