"""Query, retrieve, send and read back against a real Orthanc, over DIMSE and DICOMweb."""

from __future__ import annotations

import json
import threading

import pydicom
import pytest

from radview.core.pacs import DICOMWEB, DIMSE, PacsNode, StudyQuery
from radview.core.progress import CancelToken, Cancelled
from radview.pacs.client import find_studies, retrieve_study, send_files, check_connection
from radview.pacs.common import PacsError
from tests.conftest import radview_command
from tests.pacs import orthanc as peer


def dimse_node(**changes) -> PacsNode:
    node = PacsNode("Orthanc", DIMSE, peer.AE_TITLE, "127.0.0.1", peer.DICOM_PORT, peer.OUR_AE_TITLE)
    return PacsNode(**{**node.to_dict(), **changes})


def web_node(url: str, **changes) -> PacsNode:
    node = PacsNode("Web", DICOMWEB, url=url, username=peer.USER, password=peer.PASSWORD)
    return PacsNode(**{**node.to_dict(), **changes})


def _by_sop(paths) -> dict[str, pydicom.Dataset]:
    return {ds.SOPInstanceUID: ds for ds in (pydicom.dcmread(p) for p in paths)}


@pytest.fixture(scope="module")
def stored(orthanc, demo_study, analyzed_dicom):
    """The demo CT and RadView's results of it sent by C-STORE; the MR sent by STOW-RS."""
    ct_files = sorted((demo_study / "dicom" / "chest-ct").iterdir())
    ct_uid = pydicom.dcmread(ct_files[0], stop_before_pixels=True).StudyInstanceUID
    results = sorted((analyzed_dicom / ct_uid / "dicom").glob("*.dcm"))
    mr_files = sorted((demo_study / "dicom" / "brain-mr").iterdir())
    with peer.inside(orthanc):
        assert send_files(dimse_node(), ct_files + results) == len(ct_files) + len(results)
        assert send_files(web_node(orthanc.url), mr_files) == len(mr_files)
    return {"ct": ct_files + results, "mr": mr_files, "ct_uid": ct_uid,
            "mr_uid": pydicom.dcmread(mr_files[0], stop_before_pixels=True).StudyInstanceUID}


def test_test_connection_both_ways(in_pacs_network):
    assert "C-ECHO succeeded" in check_connection(dimse_node())
    assert "QIDO-RS answered" in check_connection(web_node(in_pacs_network.url))


@pytest.mark.parametrize("node, message", [
    (dimse_node(ae_title="WRONGAE"), "rejected the association: check the PACS's AE title ('WRONGAE')"),
    (dimse_node(port=peer.DICOM_PORT + 1), "connection refused, timed out or aborted"),
    (None, "password or token was refused (HTTP 401)"),
])
def test_wrong_settings_give_a_clear_error(in_pacs_network, node, message):
    node = node or web_node(in_pacs_network.url, password="not-the-password")
    with pytest.raises(PacsError, match=None) as error:
        check_connection(node)
    assert message in str(error.value) and node.name in str(error.value)


def test_dimse_query_and_c_get_read_back_what_was_sent(in_pacs_network, stored, tmp_path):
    ct = pydicom.dcmread(stored["ct"][0], stop_before_pixels=True)
    by_name = find_studies(dimse_node(), StudyQuery(patient_name=str(ct.PatientName).split("^")[0] + "*"))
    assert stored["ct_uid"] in {r.study_instance_uid for r in by_name}
    exact = find_studies(dimse_node(), StudyQuery(patient_id=ct.PatientID, date_from=ct.StudyDate, date_to=ct.StudyDate,
                                                  modality="CT", accession_number=ct.AccessionNumber))
    assert [r.study_instance_uid for r in exact] == [stored["ct_uid"]]
    assert {"CT", "SEG", "SR"} <= set(exact[0].modalities) and exact[0].instances == len(stored["ct"])
    assert find_studies(dimse_node(), StudyQuery(patient_id="NOBODY")) == []

    seen = []
    folder = retrieve_study(dimse_node(), stored["ct_uid"], tmp_path / "cache", progress=seen.append)
    got, sent = _by_sop(folder.rglob("*.dcm")), _by_sop(stored["ct"])
    assert set(got) == set(sent)
    for uid, ds in sent.items():
        assert got[uid].get("PixelData") == ds.get("PixelData") and got[uid].PatientName == ds.PatientName
    assert seen and seen[-1].done == len(sent)


def test_c_move_retrieves_through_our_storage_service(in_pacs_network, stored, tmp_path):
    node = dimse_node(retrieve_method="C-MOVE", our_port=peer.OUR_PORT)
    folder = retrieve_study(node, stored["mr_uid"], tmp_path / "cache")
    assert set(_by_sop(folder.rglob("*.dcm"))) == set(_by_sop(stored["mr"]))


def test_dicomweb_query_retrieve_and_send(in_pacs_network, stored, tmp_path):
    node = web_node(in_pacs_network.url)
    mr = pydicom.dcmread(stored["mr"][0], stop_before_pixels=True)
    found = find_studies(node, StudyQuery(patient_id=mr.PatientID, modality="MR"))
    assert [r.study_instance_uid for r in found] == [stored["mr_uid"]] and found[0].patient_name == str(mr.PatientName)
    folder = retrieve_study(node, stored["ct_uid"], tmp_path / "cache")  # sent by DIMSE, read back by WADO-RS
    got, sent = _by_sop(folder.rglob("*.dcm")), _by_sop(stored["ct"])
    assert set(got) == set(sent)
    seg = next(ds for ds in got.values() if ds.Modality == "SEG")
    assert seg.PixelData == sent[seg.SOPInstanceUID].PixelData


def test_cancel_stops_a_retrieve(in_pacs_network, stored, tmp_path):
    cancel = CancelToken()

    def cancel_after_a_few(progress):
        if progress.done >= 5:
            cancel.cancel()

    with pytest.raises(Cancelled):
        retrieve_study(dimse_node(), stored["ct_uid"], tmp_path / "cache", progress=cancel_after_a_few, cancel=cancel)
    assert len(list((tmp_path / "cache").rglob("*.dcm"))) < len(stored["ct"])


def test_the_command_line_adds_a_node_queries_retrieves_and_sends(in_pacs_network, stored, tmp_path):
    home = tmp_path / "home"
    ct = pydicom.dcmread(stored["ct"][0], stop_before_pixels=True)
    add = radview_command(home, "pacs", "add", "main", "--dimse", f"{peer.AE_TITLE}@127.0.0.1:{peer.DICOM_PORT}")
    assert add.returncode == 0, add.stderr
    assert "C-ECHO succeeded" in radview_command(home, "pacs", "echo", "main").stdout
    query = radview_command(home, "pacs", "query", "main", "--patient-id", ct.PatientID, "--modality", "CT", "--json", str(tmp_path / "q.json"))
    assert query.returncode == 0 and "1 study" in query.stdout
    assert json.loads((tmp_path / "q.json").read_text())[0]["study_instance_uid"] == stored["ct_uid"]
    got = radview_command(home, "pacs", "retrieve", "main", stored["ct_uid"], "--cache", str(tmp_path / "cache"))
    assert got.returncode == 0 and f"retrieved {len(stored['ct'])} instance(s)" in got.stdout
    sent = radview_command(home, "pacs", "send", "main", str(stored["mr"][0]))
    assert sent.returncode == 0 and "sent 1 file(s)" in sent.stdout
    wrong = radview_command(home, "pacs", "echo", "nosuchnode")
    assert wrong.returncode == 2 and "no PACS node called 'nosuchnode'" in wrong.stderr and "main" in wrong.stderr
    assert not list(home.rglob("settings.json"))[0].stat().st_mode & 0o077, "settings may hold passwords: user only"


def test_the_worker_thread_reaches_the_pacs_too(in_pacs_network):
    """Threads started inside the namespace inherit it (the bridge in tests/pacs/orthanc.py is for threads that do not)."""
    answer = []
    worker = threading.Thread(target=lambda: answer.append(check_connection(dimse_node())))
    worker.start()
    worker.join(30)
    assert answer and "succeeded" in answer[0]
