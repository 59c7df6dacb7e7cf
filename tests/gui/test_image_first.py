"""The image first: the views' share of the window, the first start filling the screen, F9 and
reading mode (F11), fitted views, and corner text that never covers an orientation letter."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QDockWidget

from radview.core.settings import Settings
from radview.gui.corner_text import CORNERS, EDGES
from radview.gui.main_window import MainWindow
from radview.gui.reading_mode import show_on_screen
from tests.gui.conftest import open_via_menu


def _settle(qtbot) -> None:
    QApplication.processEvents()
    qtbot.wait(50)


def _views_share(window) -> float:
    views = sum(v.width() * v.height() for v in window.area.views if v.isVisible())
    return views / (window.width() * window.height())


@pytest.mark.parametrize("size", [(1600, 1000), (1920, 1080)])
def test_the_views_take_most_of_the_window(qtbot, window, demo_study, monkeypatch, size):
    window.resize(*size)
    _settle(qtbot)
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    _settle(qtbot)
    assert (window.width(), window.height()) == size
    share = _views_share(window)
    print(f"views' share of a {size[0]}x{size[1]} window: {share:.3f}")
    assert share >= 0.70, f"the views get {share:.0%} of the window"
    # every view is fitted: the whole slice shows, and fills the pane along one side
    for view in window.area.views:
        (x0, x1), (y0, y1) = view.plane_view.fit_range_mm()
        shown = view.view_box.viewRect()
        assert shown.left() <= x0 + 1 and shown.right() >= x1 - 1 and shown.top() <= y0 + 1 and shown.bottom() >= y1 - 1
        assert min((x1 - x0) / shown.width(), (y1 - y0) / shown.height()) < 1.0
        assert max((x1 - x0) / shown.width(), (y1 - y0) / shown.height()) > 0.9
    assert window.area.views[0].zoom_factor > 0.8  # the 512x512 CT, not a stamp (0.35 before)


def test_the_first_start_fills_the_screen(qtbot, radview_home):
    first = MainWindow(Settings(run_models_on_open=False), radview_home / "config" / "settings.json")
    qtbot.addWidget(first)
    assert first.first_start
    show_on_screen(first, first.first_start)
    qtbot.waitExposed(first)
    screen = first.screen().availableGeometry()
    assert first.isMaximized() or first.frameGeometry().contains(screen)
    assert first.width() >= screen.width() - 20 and first.height() >= screen.height() - 60


def test_f9_hides_the_panels_and_brings_them_back_as_they_were(qtbot, window, demo_study, monkeypatch):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    docks = window.findChildren(QDockWidget)
    shown_before = {d.objectName() for d in docks if d.isVisible()}
    assert {"studiesDock", "findingsDock"} <= shown_before  # the browser above, the findings below, in front
    share_before = _views_share(window)
    window.actions_["toggle_docks"].trigger()
    _settle(qtbot)
    assert not any(d.isVisible() for d in docks)
    assert _views_share(window) > share_before + 0.1
    window.actions_["toggle_docks"].trigger()
    _settle(qtbot)
    assert {d.objectName() for d in docks if d.isVisible()} == shown_before


def test_reading_mode_shows_only_the_views_and_the_findings(qtbot, window, demo_study, monkeypatch):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    docks = window.findChildren(QDockWidget)
    shown_before = {d.objectName() for d in docks if d.isVisible()}
    window.actions_["reading_mode"].trigger()
    _settle(qtbot)
    assert window.actions_["reading_mode"].isChecked()
    assert {d.objectName() for d in docks if d.isVisible()} == {"findingsDock"}
    assert not window.menuBar().isVisible() and not window.statusBar().isVisible()
    assert all(v.isVisible() for v in window.area.views)
    window.actions_["reading_mode"].trigger()  # F11 again
    _settle(qtbot)
    assert not window.actions_["reading_mode"].isChecked()
    assert window.menuBar().isVisible() and window.statusBar().isVisible()
    assert {d.objectName() for d in docks if d.isVisible()} == shown_before
    # closed while reading: the next start has its panels back
    window.actions_["reading_mode"].trigger()
    window.close()
    again = MainWindow(window.settings, window.settings_path)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert {d.objectName() for d in again.findChildren(QDockWidget) if d.isVisible()} == shown_before


def _overlaps(view) -> list[str]:
    """The corner texts whose label touches an orientation letter's, by their geometry in the view."""
    labels = view.corner.labels
    found = []
    for corner in CORNERS:
        for edge in EDGES:
            a, b = labels[corner], labels[edge]
            if a.text() and b.text() and a.isVisible() and b.isVisible() and a.geometry().intersects(b.geometry()):
                found.append(f"{corner} {a.geometry()} over {edge} {b.geometry()}")
    return found


@pytest.mark.parametrize("layout", ["1x3", "2x2"])
def test_corner_text_never_covers_the_orientation_letters(qtbot, window, demo_study, monkeypatch, layout):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    window.actions_[f"layout_{layout}"].trigger()
    for size in ((1400, 900), (900, 600), (700, 420)):  # down to panes narrower than the patient's name
        window.resize(*size)
        _settle(qtbot)
        for view in window.area.views:
            # what the corners say at their longest: the cursor readout too
            view.corner.set("bl", "[511, 511, 199]  -1000 HU\n(-219.1, -213.3, 123.8) mm LPS")
            assert all(view.corner_texts()[e] for e in EDGES), "the CT has a letter at every edge"
            assert _overlaps(view) == [], f"{size}: {_overlaps(view)}"
            inside = QRect(0, 0, view.width(), view.height())
            assert all(inside.contains(label.geometry()) for label in view.corner.labels.values() if label.text())
    narrowest = min(window.area.views, key=lambda v: v.width())
    print(f"narrowest pane ({layout}): {narrowest.width()}x{narrowest.height()} px")
    # a shortened corner still says in full what it should (tests and the window read it)
    axial = window.area.panes[0].view
    assert "Im 200/200" in axial.corner_texts()["tr"] and axial.corner.labels["tr"].text() != axial.corner_texts()["tr"]
