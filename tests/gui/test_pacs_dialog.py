"""The PACS dialog against the real Orthanc: search, retrieve into the cache, open; the worklist sees it.

The dialog's workers run on Qt's pool, whose threads may predate the test: they reach Orthanc
through a loopback bridge, not by joining its network namespace."""

from __future__ import annotations

import pydicom

from radview.core.pacs import DIMSE, PacsNode
from radview.pacs.client import send_files
from tests.pacs import orthanc as peer
from tests.pacs.conftest import orthanc, orthanc_dicom_bridge  # noqa: F401 (the session fixtures)


def test_search_retrieve_and_open_from_the_dialog(qtbot, window, demo_study, orthanc_dicom_bridge):  # noqa: F811
    mr_files = sorted((demo_study / "dicom" / "brain-mr").iterdir())
    mr = pydicom.dcmread(mr_files[0], stop_before_pixels=True)
    node = PacsNode("Orthanc", DIMSE, peer.AE_TITLE, "127.0.0.1", orthanc_dicom_bridge, peer.OUR_AE_TITLE)
    window.settings.pacs_nodes = [node.to_dict()]
    send_files(node, mr_files)
    window.actions_["pacs"].trigger()
    dialog = window.exchange.pacs_dialog
    assert dialog.isVisible() and dialog.node_box.currentText() == "Orthanc"
    dialog.query_fields["patient_id"].setText(mr.PatientID)
    dialog.query_fields["modality"].setText("MR")
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1, timeout=30_000)
    assert dialog.table.item(0, 1).text() == str(mr.PatientName)
    assert window.worklist.table.rowCount() == 1 and window.worklist.table.item(0, 8).text() == "Orthanc"
    dialog.table.selectRow(0)
    with qtbot.waitSignal(window.series_loaded, timeout=60_000):
        dialog.retrieve_button.click()
    assert window.area.volume.study_instance_uid == mr.StudyInstanceUID
    cached = list((window.exchange.pacs_dialog.cache / mr.StudyInstanceUID).rglob("*.dcm"))
    assert len(cached) == len(mr_files)
    qtbot.waitUntil(lambda: window.worklist.table.rowCount() == 1 and window.worklist.table.item(0, 8).text() == "cache",
                    timeout=20_000)


def test_a_wrong_ae_title_is_reported_in_the_dialog(qtbot, window, orthanc_dicom_bridge, monkeypatch):  # noqa: F811
    from radview.gui import pacs_dialog

    shown = []
    monkeypatch.setattr(pacs_dialog, "show_error", lambda parent, title, message, advice="": shown.append(message))
    window.settings.pacs_nodes = [PacsNode("Bad", DIMSE, "NOTORTHANC", "127.0.0.1", orthanc_dicom_bridge).to_dict()]
    window.actions_["pacs"].trigger()
    window.exchange.pacs_dialog.test_connection(window.exchange.pacs_dialog.node())
    qtbot.waitUntil(lambda: bool(shown), timeout=30_000)
    assert "rejected the association" in shown[0] and "NOTORTHANC" in shown[0]
    assert "⚠" in window.exchange.pacs_dialog.message.text()
