"""AI > AI Monitoring opens a dialog with the summary and the figures of `radview monitor`."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDialog

from radview.core.audit import AuditKey
from tests.workflow.monitor_logs import build_monitor_logs


def test_the_monitoring_dialog_shows_each_model_versions_figures(qtbot, window, radview_home, tmp_path, monkeypatch):
    build_monitor_logs(radview_home / "data", AuditKey(tmp_path / "key"), monkeypatch)
    monkeypatch.setattr("radview.core.audit.datetime", datetime)  # the audit's clock is real again
    window.findChild(QAction, "monitoring").trigger()
    dialog = window.findChild(QDialog, "monitorDialog")
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: len(dialog.figures) == 6, timeout=30_000)
    assert not dialog.figures[0].pixmap().isNull()
    text = dialog.summary.text()
    assert "11 stud(ies) with audit logs; 0 left out" in text
    assert "cxr-nodule 1.0.0: 6 decided (accepted 33 %, edited 17 %, rejected 50 %)" in text
    assert "kappa 0.25 (95 % CI -0.42 to 0.92, n=8)" in text
    dialog.close()
