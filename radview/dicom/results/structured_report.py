"""A TID 1500 Measurement Report (Comprehensive 3D SR) of the accepted findings.

Each finding becomes one measurement group: its tracking identifier and UID (shared with the
SEG), finding type and category, finding site and laterality, its measurements with UCUM
units, the algorithm's name and version (AI findings), and either its SEG segment
(volumetric) or a circle on the source image (planar). The reader is the person observer.
Until the report is signed the SR is PARTIAL / UNVERIFIED / PRELIMINARY.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from radview.core.findings import Finding
from radview.core.review import MANUAL_MODEL_ID
from radview.core.volume import Volume
from radview.dicom.results.codes import (COMMENT, IMAGING_PROCEDURE, MORPHOLOGICALLY_ABNORMAL, QUALITATIVE_EVALUATIONS,
                                         finding_site, measurement_code)
from radview.dicom.results.common import (MANUFACTURER, SR_SERIES_NUMBER, ResultWriteError, coded, new_uid, person_name,
                                          save_dataset)
from radview.dicom.results.segmentation import tracking_uid


@dataclass
class ReportedFinding:
    """One accepted finding with what the SR points at: its SEG segment, else a region on an image."""

    finding: Finding
    source_image: Dataset  # the header of the image through the finding's centre
    frame_number: int | None  # 1-based, for a multi-frame source
    centre_col_row: tuple[float, float]  # pixel coordinates on that image
    radius_px: float
    segment: tuple[Dataset, int] | None = None  # (the SEG, segment number)


def reported_finding(finding: Finding, volume: Volume, sources: list[Dataset],
                     segment: tuple[Dataset, int] | None = None) -> ReportedFinding:
    """Where `finding` lies on its series: the image through its centre and a circle of its size."""
    # radiographs too: their finding centres went through the same (image-plane) affine
    k, row, col = volume.patient_mm_to_voxel(np.array([finding.centre_lps_mm]))[0]
    k = int(np.clip(round(k), 0, volume.shape[0] - 1))
    ref = volume.slices[k]
    source = next((s for s in sources if s.SOPInstanceUID == ref.sop_instance_uid), None)
    if source is None:
        raise ResultWriteError(f"finding {finding.id}: image {ref.sop_instance_uid} is not among the series' files")
    frame = ref.frame_index + 1 if int(getattr(source, "NumberOfFrames", 1) or 1) > 1 else None
    radius_px = max(finding.size_mm / 2 / min(volume.pixel_spacing_mm), 2.0)
    if ref.tile_origin is not None:  # a slice of a Siemens mosaic: the SR points into the stored mosaic
        row, col = row + ref.tile_origin[0], col + ref.tile_origin[1]
    return ReportedFinding(finding, source, frame, (float(col), float(row)), float(radius_px), segment)



def _measurements(finding: Finding, skipped: list[str]) -> list:
    import highdicom as hd

    items = []
    for key, value in finding.measurements.items():
        coding = measurement_code(key)
        if coding is None:
            skipped.append(f"{finding.id}: {key} has no SR code")
            continue
        items.append(hd.sr.Measurement(
            name=coded(coding.name), value=float(value), unit=coded(coding.unit),
            derivation=coded(coding.derivation) if coding.derivation else None))
    return items


def _group(item: ReportedFinding, study_uid: str, skipped: list[str], notices: dict[str, str]):
    import highdicom as hd

    finding = item.finding
    location, laterality = finding_site(finding)
    sites = [hd.sr.FindingSite(coded(location), laterality=coded(laterality) if laterality else None)] if location else None
    common = dict(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=tracking_uid(study_uid, finding), identifier=finding.id[:64]),
        finding_type=coded(finding.finding_type),
        finding_category=coded(MORPHOLOGICALLY_ABNORMAL),
        finding_sites=sites,
        measurements=_measurements(finding, skipped),
        # the model card's notice ("trained on synthetic phantoms...") travels as an algorithm parameter
        algorithm_id=None if finding.model_id == MANUAL_MODEL_ID else hd.sr.AlgorithmIdentification(
            name=finding.model_id, version=finding.model_version or "unknown",
            parameters=[notices[finding.model_id]] if notices.get(finding.model_id) else None),
    )
    if item.segment is not None:
        seg, number = item.segment
        return hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            referenced_segment=hd.sr.ReferencedSegment(
                sop_class_uid=seg.SOPClassUID, sop_instance_uid=seg.SOPInstanceUID, segment_number=number,
                source_series=hd.sr.SourceSeriesForSegmentation(item.source_image.SeriesInstanceUID)),
            **common)
    col, row = item.centre_col_row
    return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
        referenced_region=hd.sr.ImageRegion(
            graphic_type=hd.sr.GraphicTypeValues.CIRCLE,
            graphic_data=np.array([[col, row], [col + item.radius_px, row]]),
            source_image=hd.sr.SourceImageForRegion(
                item.source_image.SOPClassUID, item.source_image.SOPInstanceUID,
                [item.frame_number] if item.frame_number else None)),
        **common)


def _qualitative_evaluations(statements: list[str]):
    """TID 1500 row 12: CONTAINER (C0034375, UMLS, "Qualitative Evaluations") holding TEXT comments."""
    import highdicom as hd

    container = hd.sr.ContainerContentItem(name=coded(QUALITATIVE_EVALUATIONS),
                                           relationship_type=hd.sr.RelationshipTypeValues.CONTAINS)
    container.ContentSequence = [hd.sr.TextContentItem(name=coded(COMMENT), value=text[:1024],
                                                       relationship_type=hd.sr.RelationshipTypeValues.CONTAINS)
                                 for text in statements]
    return container


def write_measurement_report(findings: list[ReportedFinding], evidence: list[Dataset], reader: str, signed: bool,
                             path: Path, institution: str = "",
                             notices: dict[str, str] | None = None,
                             statements: list[str] | None = None) -> tuple[Dataset, list[str]]:
    """Write the SR; returns it and the measurements left out (keys without a code).

    evidence: the headers of every image and SEG the findings point at (same study).
    notices: model id -> its card's notice, written with the algorithm's identification.
    statements: why series have no AI findings (model not made for them, input unlike its
    training data), as TEXT items in TID 1500's Qualitative Evaluations container.
    """
    import highdicom as hd
    from pydicom.sr.codedict import codes

    if not evidence:
        raise ResultWriteError("an SR needs the images it reports on")
    study_uid = evidence[0].StudyInstanceUID
    reader_name = person_name(reader) or "Unnamed^Reader"
    skipped: list[str] = []
    groups = [_group(item, study_uid, skipped, notices or {}) for item in findings]
    observation = hd.sr.ObservationContext(
        observer_person_context=hd.sr.ObserverContext(
            observer_type=codes.DCM.Person,
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=reader_name)))
    if not groups:  # TID 1500 needs one measurement group: an empty image-level one (TID 1501) says none
        groups = [hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=new_uid(), identifier="No accepted finding"))]
    content = hd.sr.MeasurementReport(
        observation_context=observation, procedure_reported=coded(IMAGING_PROCEDURE), imaging_measurements=groups)
    if statements:
        content[0].ContentSequence.append(_qualitative_evaluations(statements))
    sr = hd.sr.Comprehensive3DSR(
        evidence=evidence, content=content,
        series_instance_uid=new_uid(), series_number=SR_SERIES_NUMBER, sop_instance_uid=new_uid(), instance_number=1,
        manufacturer=MANUFACTURER, institution_name=institution or None,
        is_complete=signed, is_final=signed, is_verified=signed,
        verifying_observer_name=reader_name if signed else None,
        verifying_organization=(institution or "Unknown") if signed else None,
    )
    sr.SeriesDescription = "RadView measurements (SR)" + ("" if signed else ", preliminary")
    save_dataset(sr, path)
    return sr, skipped
