"""GUI fixtures: a main window on a private RADVIEW_HOME, and opening a folder through the menu."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QFileDialog

from radview.core.settings import Settings
from radview.gui.main_window import MainWindow
from radview.gui.theme import apply_dark_theme


@pytest.fixture
def radview_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("RADVIEW_HOME", str(home))
    return home


@pytest.fixture
def window(qtbot, radview_home: Path):
    from PySide6.QtWidgets import QApplication

    apply_dark_theme(QApplication.instance())
    # the viewer tests do not need the models; tests/gui/test_ai_in_window.py turns them on
    w = MainWindow(Settings(run_models_on_open=False), radview_home / "config" / "settings.json")
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow)  # shortcuts only reach an active window
    yield w
    w.runner.cancel_all()
    # every worker must be gone before the window is: one still running would emit into it
    assert QThreadPool.globalInstance().waitForDone(120_000), "a worker did not stop within 120 s of cancel"


def open_via_menu(qtbot, window: MainWindow, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """File > Open Folder, with the folder dialog answered; waits until every slice is in."""
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    with qtbot.waitSignal(window.series_loaded, timeout=60_000):
        window.actions_["open_folder"].trigger()
    QThreadPool.globalInstance().waitForDone(20_000)  # thumbnails
    qtbot.wait(50)
