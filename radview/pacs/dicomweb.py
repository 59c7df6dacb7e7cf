"""DICOMweb (dicomweb-client): a QIDO-RS probe, QIDO-RS study search, WADO-RS retrieve into the
cache, STOW-RS send; basic auth or a bearer token."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from radview.core.pacs import PacsNode, StudyQuery, StudyRecord
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.pacs.common import CONNECT_TIMEOUT_S, STUDY_FIELDS, PacsError, save_instance, study_record

MAX_STUDIES = 500
READ_TIMEOUT_S = 120
SEND_BATCH = 20


def _with_secrets(node: PacsNode) -> PacsNode:
    """The node with its password / token from PacsSecrets, where it came without (the settings
    file never has them); one already in the node (a form being tested) wins."""
    from radview.user_dirs import pacs_secrets

    try:
        return pacs_secrets().fill(node)
    except (OSError, ValueError) as error:
        raise PacsError(f"{node.describe()}: cannot read its password or token ({error})") from error


def _client(node: PacsNode):
    import requests
    from dicomweb_client.api import DICOMwebClient

    node = _with_secrets(node)

    class TimedSession(requests.Session):
        """dicomweb-client sets no timeout: a silent server would hang the worker for ever."""

        def request(self, *args, **kwargs):
            kwargs.setdefault("timeout", (CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
            return super().request(*args, **kwargs)

    session = TimedSession()
    if node.username:
        session.auth = (node.username, node.password)
    headers = {"Authorization": f"Bearer {node.token}"} if node.token else None
    return DICOMwebClient(node.url.rstrip("/"), session=session, headers=headers)


def _explain(node: PacsNode, error: Exception, doing: str) -> PacsError:
    import requests

    response = getattr(error, "response", None)
    code = getattr(response, "status_code", None)
    if code in (401, 403):
        return PacsError(f"{node.describe()}: the user name, password or token was refused (HTTP {code}) while {doing}")
    if code is not None:
        return PacsError(f"{node.describe()}: HTTP {code} while {doing}")
    if isinstance(error, requests.exceptions.Timeout):
        return PacsError(f"{node.describe()}: no answer within the time limit while {doing}")
    if isinstance(error, requests.exceptions.ConnectionError):
        return PacsError(f"{node.describe()}: cannot connect while {doing}: check the URL and that the server runs")
    return PacsError(f"{node.describe()}: {type(error).__name__} while {doing}: {error}")


def echo(node: PacsNode) -> str:
    """A QIDO-RS study search limited to one answer: the server is there and takes our credentials."""
    try:
        _client(node).search_for_studies(limit=1)
    except Exception as error:
        raise _explain(node, error, "testing the connection") from error
    return f"{node.describe()}: QIDO-RS answered"


def find_studies(node: PacsNode, query: StudyQuery) -> list[StudyRecord]:
    """QIDO-RS search for studies."""
    filters = {"PatientName": query.patient_name, "PatientID": query.patient_id, "StudyDate": query.date_range,
               "ModalitiesInStudy": query.modality, "AccessionNumber": query.accession_number}
    try:
        answers = _client(node).search_for_studies(
            search_filters={k: v for k, v in filters.items() if v}, fields=list(STUDY_FIELDS), limit=MAX_STUDIES,
            fuzzymatching=False)
    except Exception as error:
        raise _explain(node, error, "searching for studies") from error
    return [study_record(Dataset.from_json(answer), node.name) for answer in answers]


def retrieve_study(node: PacsNode, study_uid: str, cache: Path, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None, expected: int | None = None) -> list[Path]:
    """WADO-RS: every instance of the study, streamed one by one into `cache`."""
    received = []
    try:
        for ds in _client(node).iter_study(study_uid):
            if cancel is not None:
                cancel.raise_if_cancelled()
            buffer = BytesIO()
            ds.save_as(buffer, enforce_file_format=True)
            received.append(save_instance(cache, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                                          buffer.getvalue()))
            report(progress, len(received), expected or 0, f"retrieving from {node.name}: {len(received)}")
    except PacsError:
        raise
    except Exception as error:
        if type(error).__name__ == "Cancelled":
            raise
        raise _explain(node, error, f"retrieving study {study_uid}") from error
    return received


def send_files(node: PacsNode, paths: list[Path], progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> int:
    """STOW-RS in batches; returns how many the server stored."""
    client = _client(node)
    sent = 0
    for start in range(0, len(paths), SEND_BATCH):
        if cancel is not None:
            cancel.raise_if_cancelled()
        batch = paths[start:start + SEND_BATCH]
        try:
            datasets = [pydicom.dcmread(p) for p in batch]
        except Exception as error:  # pydicom raises many types on a broken file (docs/facts.md)
            raise PacsError(f"one of {', '.join(map(str, batch))}: not a DICOM file that can be sent ({error})") from error
        report(progress, start, len(paths), f"sending to {node.name}")
        try:
            answer = client.store_instances(datasets)
        except Exception as error:
            raise _explain(node, error, "sending instances") from error
        failed = answer.get("FailedSOPSequence", [])
        if failed:
            raise PacsError(f"{node.describe()} refused {len(failed)} instance(s) "
                            f"(first: {failed[0].get('ReferencedSOPInstanceUID', '?')})")
        sent += len(datasets)
    report(progress, len(paths), len(paths), f"{sent} sent to {node.name}")
    return sent
