"""A study session's exports: the report PDF, the DICOM results, sending them to a PACS.

Every driver (the window, `radview analyze`, a batch) writes them through these functions, so each
export is written the same way and leaves the same audit line: export-pdf, export-dicom,
send-results. The DICOM objects take seconds, so the window writes them in a worker: a
DicomExport is a snapshot of the session that a worker thread may write while the reader goes on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from radview.core.measurements import Measurement
from radview.core.pacs import PacsNode
from radview.core.progress import CancelToken, ProgressCallback
from radview.core.report import Report
from radview.core.review import Review
from radview.workflow.dicom_results import DicomResults, export_dicom_results
from radview.workflow.reporting import StudyContext
from radview.workflow.reporting import export_pdf as write_report_pdf
from radview.workflow.session import StudySession

Measurements = dict[str, list[Measurement]]


def export_pdf(session: StudySession, path: Path, institution: str = "", page_size: str = "A4",
               measurements: Measurements | None = None) -> int:
    """Write the report PDF (key images with the reader's rulers drawn in); returns its pages."""
    session.check_writable()
    session.save_report()
    pages = write_report_pdf(session.report, session.context, session.review, Path(path), institution, page_size,
                             measurements)
    session.record_action("export-pdf", str(path))
    return pages


@dataclass
class DicomExport:
    """A snapshot of a session's report and review for the DICOM writers (safe in a worker)."""

    report: Report
    review: Review
    context: StudyContext
    pdf: Path
    folder: Path
    institution: str
    measurements: Measurements

    def write(self) -> DicomResults:
        """SEG per series with masks, SR (TID 1500), encapsulated PDF and key images."""
        return export_dicom_results(self.report, self.context, self.review, self.pdf, self.folder, self.institution,
                                    self.measurements)


def dicom_export(session: StudySession, folder: Path, pdf: Path, institution: str = "",
                 measurements: Measurements | None = None) -> DicomExport:
    """The DICOM export of the session as it is now (its PDF written first, by export_pdf)."""
    session.check_writable()
    return DicomExport(copy.deepcopy(session.report), session.review.snapshot(), session.context, Path(pdf), Path(folder), institution,
                       dict(measurements or {}))


def record_dicom_export(session: StudySession, results: DicomResults) -> None:
    """The audit line of a written DICOM export."""
    session.record_action("export-dicom", f"{results.folder}: {', '.join(p.name for p in results.files)}")


def export_dicom(session: StudySession, folder: Path, pdf: Path, institution: str = "",
                 measurements: Measurements | None = None) -> DicomResults:
    """dicom_export, written here and audited (the headless drivers)."""
    results = dicom_export(session, folder, pdf, institution, measurements).write()
    record_dicom_export(session, results)
    return results


def send_results(session: StudySession, node: PacsNode, files: list[Path], progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> int:
    """Store the exported files on a PACS node (any thread); returns how many were stored, audited."""
    from radview.pacs.client import send_files

    count = send_files(node, files, progress, cancel)
    session.record_action("send-results", f"{count} object(s) to {node.describe()}")
    return count
