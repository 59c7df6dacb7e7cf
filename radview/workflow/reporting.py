"""From a study's review to its report: the draft input, the draft update, key images, the PDF.

Shared by the window and `radview analyze`, so both write the same report from the same state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from radview.core.findings import Finding
from radview.core.measurements import Measurement
from radview.core.report import NODULE_RISKS, Report
from radview.core.review import Review, ReviewStatus
from radview.core.study_index import Patient, Series, Study
from radview.core.volume import Volume
from radview.report.draft import DraftInput, ModelUsed, age_at_study, draft_sections, finding_name, image_reference, report_header
from radview.report.key_images import KeyImage, key_image


@dataclass
class StudyContext:
    """What the report of one study is written from, besides the review."""

    patient: Patient
    study: Study
    series: list[Series] = field(default_factory=list)  # the series read (Technique)
    models: dict[str, ModelUsed] = field(default_factory=dict)  # model id -> card summary
    volumes: dict[str, Volume] = field(default_factory=dict)  # series uid -> loaded volume
    labels: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)  # (series uid, model id) -> labels


def model_used(card) -> ModelUsed:
    """The report's view of a model card (radview.ai.card.ModelCard)."""
    return ModelUsed(card.id, card.version, card.notice)


def update_report(report: Report, context: StudyContext, review: Review, reader: str,
                  nodule_risk: str | None = None) -> list[str]:
    """Redraft `report` from the accepted findings; returns the sections whose new draft waits
    because the reader has edited them. nodule_risk: the reader's judgement, kept in the report
    (None keeps the report's own)."""
    if nodule_risk is not None:
        if nodule_risk not in NODULE_RISKS:
            raise ValueError(f"nodule risk must be one of {', '.join(NODULE_RISKS)}, not {nodule_risk!r}")
        report.nodule_risk = nodule_risk
    items = review.findings()
    used = {i.original.model_id for i in items if not i.is_manual}
    data = DraftInput(
        header=report_header(context.patient, context.study, reader),
        series=context.series,
        accepted=review.accepted(),
        unreviewed=sum(i.status is ReviewStatus.UNREVIEWED for i in items),
        rejected=sum(i.status is ReviewStatus.REJECTED for i in items),
        models=[m for model_id, m in context.models.items() if model_id in used],
        nodule_risk=report.nodule_risk,
        age_years=age_at_study(context.patient, context.study),
        model_runs=list(review.model_runs.values()),
        accepted_unseen=len(review.accepted_unseen()),
        accepted_unseen_by=sorted({i.accepted_unseen_by for i in review.accepted_unseen()}),
        identity_warnings=context.study.identity_warnings,
    )
    return report.update_draft(data.header, draft_sections(data))


def report_key_images(context: StudyContext, findings: list[Finding],
                      measurements: dict[str, list[Measurement]] | None = None) -> list[KeyImage]:
    """One key image per accepted finding whose series is loaded, captioned with its reference."""
    images = []
    for finding in findings:
        volume = context.volumes.get(finding.series_instance_uid)
        if volume is None:
            continue
        labels = context.labels.get((finding.series_instance_uid, finding.model_id))
        caption = f"{finding_name(finding)}, {image_reference(finding, context.series)}"
        images.append(key_image(volume, finding, labels, caption, (measurements or {}).get(finding.series_instance_uid, [])))
    return images


def export_pdf(report: Report, context: StudyContext, review: Review, path: Path, institution: str = "",
               page_size: str = "A4", measurements: dict[str, list[Measurement]] | None = None) -> int:
    """The report PDF with key images of the accepted findings; returns its page count."""
    from radview.report.pdf import write_pdf

    return write_pdf(report, path, report_key_images(context, review.accepted(), measurements), institution, page_size)
