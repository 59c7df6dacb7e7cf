"""Models run in the background when a study opens; results arrive as layers, flags and findings,
and the window keeps painting while they run."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QThreadPool, QTimer

from tests.gui.conftest import open_via_menu


def test_opening_an_mr_runs_the_brain_model_and_the_window_stays_responsive(qtbot, window, demo_study, monkeypatch):
    from radview.ai.warmup import warm_up

    warm_up()  # what the app does in the background right after the window shows (app.py)

    window.settings.run_models_on_open = True
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    with qtbot.waitSignal(window.model_finished, timeout=120_000) as finished:
        open_via_menu(qtbot, window, demo_study / "dicom" / "brain-mr", monkeypatch)
        timer.start()
    timer.stop()
    result = finished.args[0]
    assert result.card.id == "mr-brain-tumor" and result.findings
    # the findings list, the mask layer and the flags
    assert window.findings_panel.topLevelItemCount() == len(result.findings)
    row = window.findings_panel.topLevelItem(0)
    assert row.text(0) == "Neoplasm" and "mL" in row.text(2) and row.text(5) == "unreviewed"
    names = [layer.name for layer in window.area.layers()]
    assert names == ["mr-brain-tumor 1.0.0 mask", "mr-brain-tumor 1.0.0 flags"]
    # selecting the finding centres the views on it
    window.findings_panel.setCurrentItem(row)
    tumour = result.findings[0]
    assert window.area.panes[0].view.index == tumour.slice_index
    # the event loop kept running during inference
    gaps_ms = np.diff(ticks) * 1000
    assert len(ticks) > 10 and gaps_ms.max() < 100, f"the event loop stalled {gaps_ms.max():.0f} ms during inference"
    QThreadPool.globalInstance().waitForDone(10_000)


def test_a_series_the_model_was_not_made_for_says_why_and_runs_by_hand_after_a_warning(
        qtbot, window, demo_study, tmp_path, monkeypatch):
    """The demo MR relabelled as T1: not run on open; the review dock says why; AI > Run a Model
    by Hand warns with the mismatch, then runs it (the pixels are a phantom's, so the input check
    passes) and the run is recorded as the reader's."""
    from PySide6.QtWidgets import QMessageBox

    from radview.ai.warmup import warm_up
    from radview.gui import model_choice_dialog
    from tests.workflow.test_input_refusal import _as_t1, _relabelled

    warm_up()
    folder = _relabelled(demo_study, tmp_path / "t1", _as_t1)
    window.settings.run_models_on_open = True
    open_via_menu(qtbot, window, folder, monkeypatch)
    statements = window.review_dock.ai_statements
    qtbot.waitUntil(lambda: statements.isVisible(), timeout=60_000)
    assert "mr-brain-tumor" in statements.text() and "sequence T1" in statements.text()
    assert window.findings_panel.topLevelItemCount() == 0

    warnings: list[str] = []

    def answer(parent, title, text, *args):
        warnings.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(model_choice_dialog.QMessageBox, "warning", answer)
    monkeypatch.setattr(model_choice_dialog.ModelChoiceDialog, "exec", lambda self: (self._run(), self.result())[1])
    with qtbot.waitSignal(window.model_finished, timeout=120_000) as finished:
        window.action_run_model_by_hand()
    assert warnings and "sequence T1" in warnings[0] and "made for FLAIR" in warnings[0]
    result = finished.args[0]
    assert result.card.id == "mr-brain-tumor" and result.findings and not result.input_refused
    run = window.session.review.model_runs[f"mr-brain-tumor|{result.findings[0].series_instance_uid}"]
    assert run.by_hand and "sequence T1" in run.statement()
    assert window.findings_panel.topLevelItemCount() == len(result.findings)
    # running it again replaces its layers instead of adding a second set
    with qtbot.waitSignal(window.model_finished, timeout=120_000):
        window.action_run_model_by_hand()
    assert [layer.name for layer in window.area.layers()] == ["mr-brain-tumor 1.0.0 mask", "mr-brain-tumor 1.0.0 flags"]
    QThreadPool.globalInstance().waitForDone(10_000)
