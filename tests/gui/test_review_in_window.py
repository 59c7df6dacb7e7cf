"""The review in the window: accept with A, reject with R, undo/redo, edit, a manual finding, the
draft following the findings without losing the reader's text, the audit log, PDF, sign-off."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
from PySide6.QtCore import QThreadPool, Qt
from PySide6.QtWidgets import QFileDialog

from radview.core.audit import verify_audit_log
from radview.gui.finding_dialog import FindingDialog
from tests.gui.conftest import open_via_menu


@pytest.fixture
def reviewed_ct(qtbot, window, demo_study, monkeypatch, fixed_ct_model):
    """The demo CT opened, ct-nodule run (Ctrl+R's action) with a fixed result, its findings listed."""
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    with qtbot.waitSignal(window.model_finished, timeout=180_000) as finished:
        window.actions_["run_models"].trigger()
    QThreadPool.globalInstance().waitForDone(10_000)
    result = finished.args[0]
    assert result.card.id == "ct-nodule" and len(result.findings) >= 3
    return window, result


def _press(qtbot, window, key) -> None:
    qtbot.keyClick(window.findings_panel, key)
    qtbot.wait(20)


def test_accept_reject_undo_and_the_draft_and_audit_follow(qtbot, reviewed_ct, radview_home):
    window, result = reviewed_ct
    panel, session = window.findings_panel, window.session
    total = len(result.findings)
    assert window.review_dock.progress.text() == f"0 of {total} reviewed"
    undo, redo = window.actions_["undo_review"], window.actions_["redo_review"]
    assert not undo.isEnabled() and not redo.isEnabled(), "nothing to undo yet: Undo is greyed out"
    first, second = result.findings[0], result.findings[1]
    panel.setFocus()
    panel.select(first.id)
    assert window.area.panes[0].view.index == first.slice_index  # selecting centres the views
    _press(qtbot, window, Qt.Key.Key_A)
    assert session.review.items[first.id].status.value == "accepted"
    assert panel.selected_id() == second.id  # moved on to the next one to review
    _press(qtbot, window, Qt.Key.Key_R)
    assert session.review.items[second.id].status.value == "rejected"
    assert window.review_dock.progress.text() == f"2 of {total} reviewed"
    assert undo.isEnabled() and not redo.isEnabled()

    findings_text = window.report_editor.editors["findings"].toPlainText()
    assert f"{first.measurements['mean_diameter_mm']:.0f} mm (long axis" in findings_text
    assert f"series 3, image {first.instance_number}" in findings_text
    assert f"image {second.instance_number} " not in findings_text.replace(")", " ")
    assert "1 AI finding was rejected" in findings_text and f"{total - 2} AI finding" in findings_text
    impression = window.report_editor.editors["impression"].toPlainText()
    assert "Fleischner Society 2017" in impression

    qtbot.keyClick(window.findings_panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert session.review.items[second.id].status.value == "unreviewed"
    qtbot.keyClick(window.findings_panel, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert session.review.items[second.id].status.value == "rejected"

    log = next(radview_home.rglob("audit.jsonl"))
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["action"] for e in entries if e["finding_id"] in (first.id, second.id) and e["action"] != "ai-finding"] == [
        "accept", "reject", "undo-reject", "redo-reject"]
    accepted = next(e for e in entries if e["action"] == "accept")
    assert accepted["before"]["status"] == "unreviewed" and accepted["after"]["status"] == "accepted"
    assert accepted["model_version"] == result.card.version
    assert verify_audit_log(log).intact
    # the flags show the decisions
    flags = {m.id: m.status.value for layer in window.area.marker_layers[first.series_instance_uid] for m in layer.markers}
    assert flags[first.id] == "accepted" and flags[second.id] == "rejected"


def test_edit_keeps_the_ai_original_and_the_readers_text_survives_a_redraft(qtbot, reviewed_ct, monkeypatch, tmp_path):
    window, result = reviewed_ct
    session, editor = window.session, window.report_editor
    target = result.findings[0]

    def answer(dialog: FindingDialog) -> int:
        dialog.sizes["long_axis_mm"].setValue(14.0)
        dialog.note.setText("measured again")
        return 1

    monkeypatch.setattr(FindingDialog, "exec", answer)
    window.findings_panel.select(target.id)
    window.actions_["edit_finding"].trigger()
    item = session.review.items[target.id]
    assert item.status.value == "edited" and item.current.measurements["long_axis_mm"] == 14.0
    assert item.original.measurements["long_axis_mm"] == target.measurements["long_axis_mm"]
    assert "long axis 14.0 mm" in editor.editors["findings"].toPlainText()

    impression = editor.editors["impression"]
    impression.moveCursor(impression.textCursor().MoveOperation.End)
    qtbot.keyClicks(impression, " Compare with prior CT.")
    window.findings_panel.select(result.findings[1].id)
    window.actions_["accept_finding"].trigger()  # the findings change after the reader typed
    assert "Compare with prior CT." in impression.toPlainText()
    assert editor.pending["impression"].isVisibleTo(editor)  # the new draft waits behind a button
    assert f"image {result.findings[1].instance_number}" in editor.editors["findings"].toPlainText()  # untouched: follows

    # a manual finding from a ruler
    from radview.core.measurements import Measurement, MeasurementKind

    volume = window.area.volume
    a = volume.voxel_to_patient_mm(np.array([60.0, 200.0, 200.0]))
    b = volume.voxel_to_patient_mm(np.array([60.0, 200.0, 220.0]))
    ruler = Measurement(MeasurementKind.DISTANCE, volume.series_instance_uid, np.array([a, b]),
                        {"length_mm": float(np.linalg.norm(b - a))})
    window.area._add_measurement(ruler)  # what a finished mouse-drawn ruler does (tests/gui/test_measurements.py)
    monkeypatch.setattr(FindingDialog, "exec", lambda dialog: 1)
    window.actions_["add_finding"].trigger()
    manual = [i for i in session.review.items.values() if i.is_manual]
    assert len(manual) == 1 and manual[0].status.value in ("accepted", "edited")
    assert abs(manual[0].current.measurements["length_mm"] - ruler.values["length_mm"]) < 0.1
    assert "placed by the reader" in editor.editors["findings"].toPlainText()

    # export: the PDF carries the reader's words and the accepted findings
    pdf = tmp_path / "report.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(pdf), "PDF (*.pdf)"))
    window.actions_["export_pdf"].trigger()
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext (poppler-utils) is needed: packaging/debian-packages.sh installs it")
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout.split())
    assert "Compare with prior CT." in text and "long axis 14.0 mm" in text and "page 1 of" in text


def test_a_signed_report_is_locked_and_an_amendment_is_version_2(qtbot, reviewed_ct):
    window, result = reviewed_ct
    session, editor = window.session, window.report_editor
    window.settings.reader_name = "Dr Q"
    window.findings_panel.select(result.findings[0].id)
    window.actions_["accept_finding"].trigger()
    window.actions_["sign_report"].trigger()
    assert session.report.signed and "Signed by Dr Q" in editor.status.text()
    assert all(e.isReadOnly() for e in editor.editors.values())
    window.findings_panel.select(result.findings[1].id)
    window.actions_["accept_finding"].trigger()  # refused while signed
    assert session.review.items[result.findings[1].id].status.value == "unreviewed"
    assert session.workspace.signed_version_path(1).exists()
    window.actions_["amend_report"].trigger()
    assert session.report.version == 2 and not session.report.signed and not editor.editors["findings"].isReadOnly()
    assert "amend" in [json.loads(x)["action"] for x in session.workspace.audit_path.read_text().splitlines()]
