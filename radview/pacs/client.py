"""One entry point for either protocol, and the local cache that retrieved studies land in."""

from __future__ import annotations

from pathlib import Path

from radview.core.pacs import DICOMWEB, PacsNode, StudyQuery, StudyRecord
from radview.core.progress import CancelToken, ProgressCallback
from radview.core.workspace import study_folder_name
from radview.pacs.common import PacsError


def _protocol(node: PacsNode):
    problems = node.problems()
    if problems:
        raise PacsError("; ".join(problems))
    if node.kind == DICOMWEB:
        from radview.pacs import dicomweb
        return dicomweb
    from radview.pacs import dimse
    return dimse


def check_connection(node: PacsNode) -> str:
    """C-ECHO or a QIDO-RS probe; a line for the user, or PacsError."""
    return _protocol(node).echo(node)


def find_studies(node: PacsNode, query: StudyQuery) -> list[StudyRecord]:
    """Studies matching `query`, newest first."""
    records = _protocol(node).find_studies(node, query)
    return sorted(records, key=lambda r: (r.study_date, r.study_time), reverse=True)


def retrieve_study(node: PacsNode, study_uid: str, cache: Path, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> Path:
    """Fetch the study into <cache>/<study uid>/ and return that folder."""
    received = _protocol(node).retrieve_study(node, study_uid, Path(cache), progress, cancel)
    if not received:
        raise PacsError(f"{node.describe()}: study {study_uid} returned no instances")
    return Path(cache) / study_folder_name(study_uid)


def send_files(node: PacsNode, paths: list[Path], progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> int:
    """Store files on the node (results: SEG, SR, PDF, key images); returns how many were stored."""
    if not paths:
        raise PacsError("nothing to send")
    return _protocol(node).send_files(node, [Path(p) for p in paths], progress, cancel)
