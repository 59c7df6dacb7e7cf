"""From a reviewed study to DICOM objects for the PACS: SEG, SR, encapsulated PDF, key images.

Shared by the window (File > Export DICOM results) and `radview analyze --dicom`. New series
and SOP instance UIDs; the patient and study of the source. Nothing is written to the source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from radview.core.findings import Finding
from radview.core.measurements import Measurement
from radview.core.report import Report
from radview.core.review import Review
from radview.workflow.reporting import StudyContext, report_key_images


@dataclass
class DicomResults:
    """The files written, by kind, and what was left out (with why)."""

    folder: Path
    segmentations: list[Path] = field(default_factory=list)
    structured_report: Path | None = None
    pdf: Path | None = None
    key_images: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [*self.segmentations, *([self.structured_report] if self.structured_report else []),
                *([self.pdf] if self.pdf else []), *self.key_images]


def export_dicom_results(report: Report, context: StudyContext, review: Review, pdf_path: Path, out_dir: Path,
                         institution: str = "",
                         measurements: dict[str, list[Measurement]] | None = None) -> DicomResults:
    """Write SEG (one per series with masks), SR, encapsulated PDF and key images into `out_dir`."""
    from radview.dicom.results.common import ResultWriteError, new_uid, source_headers
    from radview.dicom.results.encapsulated_pdf import write_encapsulated_pdf
    from radview.dicom.results.key_image import write_key_image
    from radview.dicom.results.segmentation import SegmentMask, write_segmentation
    from radview.dicom.results.structured_report import reported_finding, write_measurement_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = DicomResults(out)
    accepted = review.accepted()
    by_series: dict[str, list[Finding]] = {}
    for finding in accepted:
        if finding.series_instance_uid in context.volumes:
            by_series.setdefault(finding.series_instance_uid, []).append(finding)
        else:
            results.notes.append(f"{finding.id}: its series is not loaded; left out of the SR")
    sources = {uid: source_headers(volume) for uid, volume in context.volumes.items()}
    if not sources:
        raise ResultWriteError("no series of this study is loaded: nothing to export")
    evidence, reported = [], []
    for n, (series_uid, findings) in enumerate(by_series.items(), start=1):
        volume, headers = context.volumes[series_uid], sources[series_uid]
        evidence += headers
        masks = []
        for finding in findings:
            labels = context.labels.get((series_uid, finding.model_id))
            if finding.mask_label and labels is not None:
                masks.append(SegmentMask(finding, labels == finding.mask_label))
        numbers = {item.finding.id: k for k, item in enumerate(masks, start=1)}
        seg = None
        if masks:
            path = out / f"seg-{n}.dcm"
            seg = write_segmentation(volume, headers, masks, path)
            results.segmentations.append(path)
            evidence.append(seg)
        reported += [reported_finding(f, volume, headers, (seg, numbers[f.id]) if f.id in numbers else None)
                     for f in findings]
    if not evidence:  # nothing accepted: the SR still says so, over the images read
        evidence = [h for headers in sources.values() for h in headers]
    reader = report.signed_by or report.header.get("reader", "")
    results.structured_report = out / "sr.dcm"
    notices = {model_id: used.notice for model_id, used in context.models.items()}
    statements = [run.statement() for run in review.withheld_runs()]
    _sr, skipped = write_measurement_report(reported, evidence, reader, report.signed, results.structured_report,
                                            institution, notices, statements)
    results.notes += [f"not in the SR: {s}" for s in skipped]
    first_source = evidence[0]  # any source image: the PDF takes its patient and study
    results.pdf = out / "report-pdf.dcm"
    title = "Report" if report.signed else "Preliminary report"
    write_encapsulated_pdf(pdf_path, first_source, results.pdf, title, report.signed)
    key_series = new_uid()
    for k, image in enumerate(report_key_images(context, accepted, measurements), start=1):
        finding = next(f for f in accepted if f.id == image.finding_id)
        source = sources[finding.series_instance_uid][0]
        path = out / f"key-image-{k}.dcm"
        write_key_image(image.rgb, source, path, k, image.caption, key_series, image.orientation)
        results.key_images.append(path)
    return results
