"""The window and `radview analyze` drive one StudySession: the same report state, the same audited
exports, and one writer per study. The models give a fixed result here (tests/fixed_results.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QThreadPool

from radview.core.audit import verify_audit_log
from radview.core.study_lock import StudyLock
from radview.user_dirs import data_dir
from radview.workflow.analyze import analyze
from tests.conftest import radview_command
from tests.gui.conftest import open_via_menu

EXPORT_ACTIONS = {"export-pdf", "export-dicom", "send-results"}


@pytest.fixture
def analyze_fixed(fixed_ct_model, monkeypatch):
    """analyze() in this process, its ct-nodule run giving the fixed result."""
    monkeypatch.setattr("radview.workflow.session.compute", lambda request, volume, *a, **k: fixed_ct_model)

    def run(demo_study: Path, out: Path, **options):
        return analyze(demo_study / "dicom" / "chest-ct", out, data_dir(), reader="Dr Test", **options)

    return run


def _run_models(qtbot, window) -> None:
    with qtbot.waitSignal(window.model_finished, timeout=60_000):
        window.actions_["run_models"].trigger()
    QThreadPool.globalInstance().waitForDone(10_000)


def _audit_actions(home: Path) -> list[str]:
    log = next(home.rglob("audit.jsonl"))
    assert verify_audit_log(log).intact
    return [json.loads(line)["action"] for line in log.read_text().splitlines()]


def test_the_risk_analyze_wrote_is_what_the_window_shows_and_back(qtbot, window, demo_study, monkeypatch,
                                                                   analyze_fixed, tmp_path):
    analyze_fixed(demo_study, tmp_path / "a", accept_all=True, nodule_risk="high")
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    editor = window.report_editor
    assert editor.risk.currentData() == "high"
    assert "high-risk" in editor.editors["impression"].toPlainText(), "opening the study must not redraft it as low risk"

    editor.risk.setCurrentIndex(editor.risk.findData("low"))  # the reader changes their judgement
    assert "low-risk" in editor.editors["impression"].toPlainText()
    window.session.close_study()
    analyze_fixed(demo_study, tmp_path / "b", accept_all=True)  # no --risk: the report's own
    assert "low-risk" in (tmp_path / "b" / "report.html").read_text()


def test_an_export_from_the_window_and_from_analyze_leaves_the_same_audit_lines(qtbot, window, demo_study, monkeypatch,
                                                                                fixed_ct_model, analyze_fixed,
                                                                                radview_home, tmp_path):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    _run_models(qtbot, window)
    for item in window.session.review.findings():
        window.session.accept(item.original.id)
    with qtbot.waitSignal(window.runner.task_finished, timeout=60_000):
        window.exchange._export(tmp_path / "window")
    QThreadPool.globalInstance().waitForDone(10_000)
    window.session.close_study()
    from_window = [a for a in _audit_actions(radview_home) if a in EXPORT_ACTIONS]
    assert (tmp_path / "window" / "report.pdf").exists() and from_window == ["export-pdf", "export-dicom"]

    monkeypatch.setenv("RADVIEW_HOME", str(tmp_path / "analyze-home"))
    analyze_fixed(demo_study, tmp_path / "analyze", accept_all=True, dicom=True)
    assert [a for a in _audit_actions(tmp_path / "analyze-home") if a in EXPORT_ACTIONS] == from_window


def test_a_study_open_in_the_window_is_not_written_by_another_program(qtbot, window, demo_study, monkeypatch,
                                                                      fixed_ct_model, radview_home, tmp_path):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    _run_models(qtbot, window)
    before = window.session.workspace.review_path.read_text()
    done = radview_command(radview_home, "analyze", str(demo_study / "dicom" / "chest-ct"), "--out",
                           str(tmp_path / "out"), "--accept-all", "--wait", "1")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "this study is open elsewhere: radview window (process" in done.stderr
    assert window.session.workspace.review_path.read_text() == before, "nothing was written behind the window's back"


def test_a_study_another_program_writes_opens_read_only(qtbot, window, demo_study, monkeypatch, planted_ct, radview_home):
    from radview.core.workspace import StudyWorkspace

    uid = planted_ct[0].patients[0].studies[0].study_instance_uid
    other = StudyLock(StudyWorkspace(data_dir(), uid).folder, "radview analyze")
    other.acquire()
    try:
        open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
        assert not window.session.study.writable
        assert "Read only: this study is open elsewhere: radview analyze" in window.statusBar().currentMessage()
        window.actions_["run_models"].trigger()
        assert "does not run on a read-only study" in window.statusBar().currentMessage()
    finally:
        other.release()
