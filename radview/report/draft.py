"""Draft the preliminary report from the study's metadata and the accepted findings.

Sections (radview.core.report.SECTION_TITLES): Technique, Findings (one sentence per accepted
finding with measurements and image reference "series 3, image 112"), Impression (for lung
nodules the Fleischner 2017 follow-up; for a brain tumour its volume and hemisphere), AI
assistance (models, versions, their notices). Wording describes, never diagnoses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from radview.core.dicom_text import dicom_date, display_name
from radview.core.ai_runs import ModelRun, RunOutcome
from radview.core.findings import NEOPLASM, NODULE, Finding, FindingKind
from radview.core.study_index import Patient, Series, Study
from radview.report.fleischner import GuidelineNodule, recommendation

NODULE_CODE, TUMOUR_CODE = NODULE.value, NEOPLASM.value


@dataclass
class ModelUsed:
    """A model whose findings the report draws on (from its card)."""

    id: str
    version: str
    notice: str = ""


@dataclass
class DraftInput:
    """Everything the draft is written from; plain data, filled by the workflow or the window."""

    header: dict[str, str]
    series: list[Series]
    accepted: list[Finding]
    unreviewed: int = 0
    rejected: int = 0
    models: list[ModelUsed] = field(default_factory=list)
    nodule_risk: str = "low"
    age_years: int | None = None
    model_runs: list[ModelRun] = field(default_factory=list)  # what each model did with each series
    accepted_unseen: int = 0  # accepted findings no reader saw
    accepted_unseen_by: list[str] = field(default_factory=list)  # who accepted them
    identity_warnings: list[str] = field(default_factory=list)  # another patient's images shared a UID


def report_header(patient: Patient, study: Study, reader: str) -> dict[str, str]:
    """The header fields (radview.core.report.HEADER_FIELDS) from the study's DICOM attributes."""
    return {"patient_name": display_name(patient.name), "patient_id": patient.patient_id,
            "birth_date": dicom_date(patient.birth_date), "sex": patient.sex, "study_date": dicom_date(study.date),
            "study_description": study.description, "accession_number": study.accession_number, "reader": reader}


def age_at_study(patient: Patient, study: Study) -> int | None:
    """Age in whole years on the study date (PatientBirthDate, StudyDate), when both are known."""
    b, s = patient.birth_date, study.date
    if not (len(b) == len(s) == 8 and b.isdigit() and s.isdigit()):
        return None
    return int(s[:4]) - int(b[:4]) - ((int(s[4:]) < int(b[4:])))


def image_reference(finding: Finding, series: list[Series]) -> str:
    """'series 3, image 112': SeriesNumber and InstanceNumber where known, else 1-based positions."""
    number = next((s.series_number for s in series if s.series_instance_uid == finding.series_instance_uid), None)
    image = finding.instance_number if finding.instance_number is not None else finding.slice_index + 1
    return f"series {number if number is not None else '?'}, image {image}"


def _where(finding: Finding) -> str:
    loc = finding.location
    if "lobe_region" in loc:
        return f"in the {loc['lobe_region']}"
    if "hemisphere" in loc:
        return f"in the {loc['hemisphere']} cerebral hemisphere"
    parts = [loc.get("side", ""), loc.get("zone", "")]
    return ("in the " + ", ".join(p for p in parts if p)) if any(parts) else ""


def _sizes(finding: Finding) -> str:
    m = finding.measurements
    parts = []
    if "mean_diameter_mm" in m:
        parts.append(f"{m['mean_diameter_mm']:.0f} mm (long axis {m.get('long_axis_mm', 0):.1f} mm, "
                     f"short axis {m.get('short_axis_mm', 0):.1f} mm)")
    elif "longest_diameter_mm" in m:
        parts.append(f"longest diameter {m['longest_diameter_mm']:.0f} mm")
    elif "approximate_diameter_mm" in m:
        parts.append(f"approximately {m['approximate_diameter_mm']:.0f} mm")
    if "volume_ml" in m:
        parts.append(f"volume {m['volume_ml']:.1f} mL")
    elif "volume_mm3" in m:
        parts.append(f"volume {m['volume_mm3']:.0f} mm³")
    if "mean_hu" in m:
        parts.append(f"mean {m['mean_hu']:.0f} HU")
    return ", ".join(parts)


def finding_name(finding: Finding) -> str:
    """What the finding is called in the report: descriptive words, not a diagnosis."""
    code = finding.finding_type.value
    if code == NODULE_CODE:
        return "Possible pulmonary nodule" if finding.kind is FindingKind.NODULE_RADIOGRAPH else "Pulmonary nodule"
    if code == TUMOUR_CODE:
        return "Intracranial mass lesion"
    return finding.finding_type.meaning


def finding_sentence(finding: Finding, series: list[Series]) -> str:
    """One plain-text sentence: what, where, how big, which image, and its source."""
    kind = finding_name(finding)
    composition = finding.attributes.get("composition")
    what = f"{composition.capitalize()} {kind[0].lower() + kind[1:]}" if composition else kind
    source = ("placed by the reader" if finding.kind is FindingKind.READER
              else f"AI {finding.model_id} {finding.model_version}, confidence {finding.confidence:.2f}")
    text = " ".join(p for p in (what, _where(finding)) if p)
    sizes = _sizes(finding)
    return f"{text}{', ' + sizes if sizes else ''}; {image_reference(finding, series)} ({source})."


def _impression(data: DraftInput) -> list[str]:
    lines = []
    nodules = [f for f in data.accepted if f.finding_type.value == NODULE_CODE]
    # Fleischner 2017 needs the two axial axes a CT segmentation (or the reader) measured
    ct_nodules = [f for f in nodules if f.kind is not FindingKind.NODULE_RADIOGRAPH
                  and {"long_axis_mm", "short_axis_mm"} <= f.measurements.keys()]
    if ct_nodules:
        guide = [GuidelineNodule(f.measurements["long_axis_mm"], f.measurements["short_axis_mm"],
                                 f.attributes.get("composition", "solid")) for f in ct_nodules]
        largest = max(guide, key=lambda g: g.size_mm)
        count = f"{len(ct_nodules)} pulmonary nodules" if len(ct_nodules) > 1 else "A pulmonary nodule"
        lines.append(f"{count}, largest {largest.size_mm} mm ({largest.composition}). Follow-up for "
                     f"{data.nodule_risk}-risk patient: " + recommendation(guide, data.nodule_risk, data.age_years))
    radiograph = [f for f in nodules if f not in ct_nodules]
    if radiograph:
        sides = sorted({f.location.get("side", "") for f in radiograph} - {""})
        lines.append(f"Possible pulmonary nodule{'s' if len(radiograph) > 1 else ''} on the radiograph"
                     f"{' (' + ' and '.join(sides) + ')' if sides else ''}, to be confirmed by the reader.")
    for tumour in (f for f in data.accepted if f.finding_type.value == TUMOUR_CODE):
        m = tumour.measurements
        lines.append(f"Intracranial mass lesion {_where(tumour)}, volume {m.get('volume_ml', 0):.1f} mL, longest "
                     f"diameter {m.get('longest_diameter_mm', 0):.0f} mm, to be characterised by the reader.")
    others = [f for f in data.accepted if f.finding_type.value not in (NODULE_CODE, TUMOUR_CODE)]
    lines += [f"{f.finding_type.meaning} {_where(f)}.".replace(" .", ".") for f in others]
    outcomes = {r.outcome for r in data.model_runs}
    if not lines and RunOutcome.INPUT_REFUSED in outcomes and RunOutcome.FINDINGS not in outcomes:
        return ["No finding accepted. The AI showed no findings because the images are unlike its training data; "
                "the images rest on the reader's own review."]
    return lines or ["No finding accepted."]


def _paragraphs(lines: list[str]) -> str:
    return "".join(f"<p>{escape(line)}</p>" for line in lines)


def draft_sections(data: DraftInput) -> dict[str, str]:
    """HTML of each section (keys of radview.core.report.SECTION_TITLES)."""
    technique = [f"{s.modality} {s.body_part.lower()}".strip() + f", series {s.series_number}"
                 f"{': ' + s.description if s.description else ''} ({s.image_count} images)." for s in data.series]
    findings = [finding_sentence(f, data.series) for f in data.accepted] or ["No finding accepted."]
    if data.unreviewed:
        findings.append(f"{data.unreviewed} AI finding{'s are' if data.unreviewed > 1 else ' is'} not yet reviewed "
                        "and not in this report.")
    if data.rejected:
        findings.append(f"{data.rejected} AI finding{'s were' if data.rejected > 1 else ' was'} rejected by the reader.")
    refused = [r for r in data.model_runs if r.outcome is RunOutcome.INPUT_REFUSED]
    findings += [f"No AI findings are shown for {r.series_label}: the images are unlike the data {r.model_id} was "
                 "trained on (see AI assistance); this is not a negative result." for r in refused]
    ai = [f"{m.id} version {m.version}. {m.notice}".strip() for m in data.models]
    ai += [r.statement() for r in data.model_runs if r.withheld or r.by_hand or not r.input_check]
    if data.accepted_unseen_by:
        who = " and ".join(data.accepted_unseen_by)
        share = "The AI findings above were" if data.accepted_unseen == len(data.accepted) else \
            f"{data.accepted_unseen} of the findings above {'were' if data.accepted_unseen > 1 else 'was'}"
        findings.append(f"{share} accepted without review by {who}: no reader has verified them.")
        ai.append(f"AI findings were accepted without review by {who}; they are unverified suggestions, not a diagnosis.")
    else:
        ai.append("AI findings are suggestions that the reader verified one by one; they are not a diagnosis.")
    technique = [*data.identity_warnings, *technique]  # first: the reader must see it before anything else
    return {"technique": _paragraphs(technique or ["No series recorded."]), "findings": _paragraphs(findings),
            "impression": _paragraphs(_impression(data)), "ai": _paragraphs(ai)}
