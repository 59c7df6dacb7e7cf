"""File menu exchange: DICOM export from the window, untrusted SEG/SR import, PACS dialog, worklist."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from radview.dicom.sr_read import read_measurement_report
from radview.gui import exchange as exchange_module
from tests.conftest import copy_into_cache
from tests.gui.conftest import open_via_menu


@pytest.fixture
def errors(monkeypatch):
    shown: list[str] = []
    monkeypatch.setattr(exchange_module, "show_error", lambda parent, title, message, advice="": shown.append(message))
    return shown


@pytest.fixture
def ct_results(demo_study, analyzed_dicom):
    ct_uid = pydicom.dcmread(next((demo_study / "dicom" / "chest-ct").iterdir()), stop_before_pixels=True).StudyInstanceUID
    return analyzed_dicom / ct_uid / "dicom"


def _broken_files(folder: Path, ct_results: Path) -> dict[str, Path]:
    folder.mkdir()
    seg_bytes = (ct_results / "seg-1.dcm").read_bytes()
    files = {"truncated SEG": seg_bytes[: len(seg_bytes) // 3], "random bytes": b"\x00DICM" * 100}
    paths = {name: folder / f"{n}.dcm" for n, name in enumerate(files)}
    for name, data in files.items():
        paths[name].write_bytes(data)
    sr = pydicom.dcmread(ct_results / "sr.dcm")
    sr.ContentSequence[0].ConceptNameCodeSequence = []  # an SR item without its concept name
    sr.ContentTemplateSequence[0].TemplateIdentifier = "1500"
    paths["SR with a broken item"] = folder / "bad-sr.dcm"
    sr.save_as(paths["SR with a broken item"])
    seg = pydicom.dcmread(ct_results / "seg-1.dcm")
    for n, item in enumerate(seg.ReferencedSeriesSequence[0].ReferencedInstanceSequence):
        item.ReferencedSOPInstanceUID = f"1.2.3.{n}"
    for n, item in enumerate(seg.SourceImageSequence):
        item.ReferencedSOPInstanceUID = f"1.2.3.{n}"
    for n, item in enumerate(seg.PerFrameFunctionalGroupsSequence):
        item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID = f"1.2.3.{n % 200}"
    paths["SEG of another series"] = folder / "foreign-seg.dcm"
    seg.save_as(paths["SEG of another series"])
    return paths


def test_malformed_seg_and_sr_give_a_message_and_never_crash(qtbot, window, demo_study, ct_results, errors,
                                                             monkeypatch, tmp_path):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    layers_before = len(window.area.label_layers.get(window.area.series_uid, []))
    for name, path in _broken_files(tmp_path / "bad", ct_results).items():
        errors.clear()
        window.exchange.import_file(path)
        assert len(errors) == 1 and path.name in errors[0], (name, errors)
    assert len(window.area.label_layers.get(window.area.series_uid, [])) == layers_before and window.isVisible()
    errors.clear()
    window.exchange.import_file(ct_results / "seg-1.dcm")  # a good one still works afterwards
    layer = window.area.label_layers[window.area.series_uid][-1]
    assert layer.name == "SEG seg-1.dcm" and layer.labels.max() >= 1 and not errors
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text: shown.append(text))
    window.exchange.import_file(ct_results / "sr.dcm")
    assert shown and "Nodule" in shown[0] and "PARTIAL / UNVERIFIED" in shown[0]


def test_export_dicom_results_from_the_window(qtbot, window, demo_study, monkeypatch, tmp_path):
    open_via_menu(qtbot, window, demo_study / "dicom" / "chest-ct", monkeypatch)
    window.session.add_manual(window.session.manual_finding(window.area.volume, window.area.volume.origin_mm + [100, 100, 50],
                                                            {"length_mm": 8.0}))
    out = tmp_path / "export"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    window.actions_["export_dicom"].trigger()
    audit = window.session.workspace.audit_path
    qtbot.waitUntil(lambda: '"export-dicom"' in audit.read_text(), timeout=60_000)
    sr = pydicom.dcmread(out / "sr.dcm")
    assert sr.StudyInstanceUID == window.area.volume.study_instance_uid
    assert [g.measurements for g in read_measurement_report(out / "sr.dcm").groups] == [{"length_mm": 8.0}]
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF") and (out / "report-pdf.dcm").exists()


def test_the_worklist_lists_cached_studies_in_triage_order(qtbot, window, demo_study, radview_home):
    cache = radview_home / "data" / "cache"
    copy_into_cache(demo_study, ("brain-mr", "chest-xray"), cache)
    window.worklist.refresh()
    qtbot.waitUntil(lambda: window.worklist.table.rowCount() == 2, timeout=20_000)
    assert {window.worklist.table.item(r, 4).text() for r in range(2)} == {"MR", "DX"}
    assert all(window.worklist.table.item(r, 6).text() == "not run" for r in range(2))


def test_the_worklist_shows_triage_order_and_a_column_sort_can_be_undone(qtbot, window):
    from datetime import datetime, timedelta, timezone

    from radview.core.pacs import StudyRecord
    from radview.core.worklist import WorklistEntry

    now = datetime.now(timezone.utc)
    entries = [WorklistEntry(StudyRecord("1", "OLD^NEGATIVE"), now - timedelta(minutes=30), False),
               WorklistEntry(StudyRecord("2", "NEW^POSITIVE"), now - timedelta(minutes=5), True, 2),
               WorklistEntry(StudyRecord("3", "OVERDUE^NEGATIVE"), now - timedelta(minutes=120), False)]
    dock = window.worklist
    dock._local_read(entries)
    names = lambda: [dock.table.item(r, 1).text() for r in range(dock.table.rowCount())]  # noqa: E731
    assert names() == ["OVERDUE^NEGATIVE", "NEW^POSITIVE", "OLD^NEGATIVE"]
    assert dock.table.item(0, 0).toolTip().startswith("Waited past 60 min")
    dock.table.sortItems(0, Qt.SortOrder.AscendingOrder)  # the reader sorts by waiting time
    assert names() == ["NEW^POSITIVE", "OLD^NEGATIVE", "OVERDUE^NEGATIVE"], "minutes sort as numbers"
    dock.show_entries()  # "Triage order"
    assert names() == ["OVERDUE^NEGATIVE", "NEW^POSITIVE", "OLD^NEGATIVE"]
