"""What moves studies and results in and out, for the window and the command line: the PACS
(echo, find, retrieve), importing another system's SEG or SR, and de-identified copies.

The exports of an open study (PDF, DICOM results, send) are radview.workflow.exports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from radview.core.pacs import PacsNode, StudyQuery, StudyRecord
from radview.core.progress import CancelToken, ProgressCallback
from radview.core.volume import Volume


class ResultImportError(ValueError):
    """A SEG or SR that cannot be shown; the message names the file and the problem."""


@dataclass
class ImportedResult:
    """Another system's result: a SEG's label map on the shown series, or an SR's findings in words."""

    path: Path
    modality: str  # "SEG" or "SR"
    labels: np.ndarray | None = None  # SEG: (slices, rows, cols) on the volume's grid
    segment_names: dict[int, str] = field(default_factory=dict)  # SEG: label -> its name
    title: str = ""  # SR: completion / verification / observer
    lines: list[str] = field(default_factory=list)  # SR: one line per finding


def import_result(path: Path, volume: Volume | None) -> ImportedResult:
    """Read a DICOM SEG (onto `volume`'s grid) or a TID 1500 SR. Untrusted input: every failure
    is a ResultImportError naming the file; the file is only read."""
    import pydicom

    from radview.dicom.seg_read import SegReadError, read_segmentation
    from radview.dicom.sr_read import SrReadError, read_measurement_report

    try:
        modality = str(pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["Modality"]).get("Modality", ""))
    except Exception as error:  # pydicom raises many types on a broken file (docs/facts.md)
        raise ResultImportError(f"{path}: not a readable DICOM file ({error})") from error
    try:
        if modality == "SEG":
            if volume is None:
                raise ResultImportError(f"{path}: open the series the SEG belongs to first")
            labels, segments = read_segmentation(path, volume)
            return ImportedResult(path, modality, np.ascontiguousarray(labels),
                                  {s.number: s.label or f"segment {s.number}" for s in segments})
        if modality == "SR":
            document = read_measurement_report(path)
            lines = [f"{g.tracking_identifier or '(no identifier)'}: "
                     f"{g.finding_type.meaning if g.finding_type else 'finding'}"
                     + (f", {g.finding_site.meaning}" if g.finding_site else "")
                     + (f" ({g.laterality.meaning})" if g.laterality else "") + ": "
                     + ", ".join(f"{k} {v:g}" for k, v in {**g.measurements, **g.other_measurements}.items())
                     for g in document.groups]
            title = (f"{document.completion} / {document.verification}, observer "
                     f"{', '.join(document.observer_names) or 'unknown'}")
            return ImportedResult(path, modality, title=title, lines=lines)
    except (SegReadError, SrReadError) as error:
        raise ResultImportError(str(error)) from error
    raise ResultImportError(f"{path}: a {modality or 'non-SEG/SR'} object, not a SEG or SR")


def anonymize_folder(source: Path, out: Path, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None):
    """A de-identified copy of `source` in `out` (radview.dicom.anonymize.AnonymizeResult)."""
    from radview.dicom.anonymize import anonymize_folder as anonymize

    return anonymize(source, out, progress=progress, cancel=cancel)


def check_connection(node: PacsNode) -> str:
    """C-ECHO or a QIDO-RS probe: a line for the user, or radview.pacs.PacsError."""
    from radview.pacs.client import check_connection as echo

    return echo(node)


def find_studies(node: PacsNode, query: StudyQuery) -> list[StudyRecord]:
    """The node's studies that match `query`, newest first."""
    from radview.pacs.client import find_studies as find

    return find(node, query)


def retrieve_study(node: PacsNode, study_uid: str, cache: Path, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> Path:
    """Fetch a study into <cache>/<study uid>/; returns that folder."""
    from radview.pacs.client import retrieve_study as retrieve

    return retrieve(node, study_uid, cache, progress, cancel)
