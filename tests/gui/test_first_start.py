"""First start: the window runs one model and says which device the AI uses; Help > About shows it."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QMessageBox

from radview.core.settings import Settings
from radview.gui.main_window import MainWindow


def test_first_start_checks_a_model_and_names_the_device(qtbot, radview_home):
    window = MainWindow(Settings(run_models_on_open=True), radview_home / "config" / "settings.json")
    qtbot.addWidget(window)
    window.show()
    messages = []
    window.statusBar().messageChanged.connect(messages.append)
    window.warm_up_ai()
    qtbot.waitUntil(lambda: window.settings.ai_check != "", timeout=120_000)
    check = window.settings.ai_check
    assert check.startswith("AI check passed: ct-nodule ran on ")
    assert "CPU (no CUDA device)" in check or "GiB (CUDA" in check, check
    assert any(m.startswith("AI check passed") for m in messages)
    window.runner.cancel_all()


def test_help_about_shows_device_models_and_checksums(qtbot, window):
    window.actions_["about"].trigger()
    box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.objectName() == "aboutBox")
    qtbot.waitUntil(lambda: "sha256" in box.detailedText(), timeout=60_000)
    assert "AI device: " in box.text() and "ct-nodule 1.0.0" in box.detailedText()
    assert "writable" in box.detailedText()
    box.close()
