"""Read the measurement groups of a TID 1500 SR (ours or another system's) into plain records.

An SR from another system is untrusted input: every failure becomes an SrReadError naming the
file, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from radview.core.findings import Code
from radview.dicom.results.codes import measurement_key


class SrReadError(ValueError):
    """An SR that cannot be read as a measurement report; the message names the file."""


@dataclass
class SrMeasurementGroup:
    """One finding of an SR: what, where, its measurements under RadView's keys, what it points at."""

    tracking_identifier: str
    tracking_uid: str
    finding_type: Code | None
    finding_site: Code | None = None
    laterality: Code | None = None
    measurements: dict[str, float] = field(default_factory=dict)
    other_measurements: dict[str, float] = field(default_factory=dict)  # "<meaning> [unit]" -> value
    algorithm: tuple[str, str] | None = None  # (name, version)
    segment_number: int | None = None
    image_uid: str | None = None  # the image a planar region lies on


@dataclass
class SrDocument:
    """An SR's state and its groups."""

    path: Path
    completion: str
    verification: str
    observer_names: list[str]
    groups: list[SrMeasurementGroup]


def _code(concept) -> Code | None:
    return Code(str(concept.value), str(concept.scheme_designator), str(concept.meaning)) if concept is not None else None


def _group(group) -> SrMeasurementGroup:
    sites = group.finding_sites
    result = SrMeasurementGroup(
        tracking_identifier=str(group.tracking_identifier or ""),
        tracking_uid=str(group.tracking_uid or ""),
        finding_type=_code(group.finding_type),
        finding_site=_code(sites[0].value) if sites else None,
        laterality=_code(sites[0].laterality) if sites and sites[0].laterality is not None else None,
    )
    for m in group.get_measurements():
        name, unit, derivation = _code(m.name), _code(m.unit), _code(m.derivation)
        key = measurement_key(name, derivation, unit)
        if key:
            result.measurements[key] = float(m.value)
        else:
            result.other_measurements[f"{name.meaning} [{unit.value}]"] = float(m.value)
    result.algorithm = _algorithm(group)
    segment = getattr(group, "referenced_segment", None)
    if segment is not None:
        result.segment_number = int(segment.referenced_segment_numbers[0]) if segment.referenced_segment_numbers else None
    region = getattr(group, "roi", None)
    if region is not None:  # a SCOORD whose IMAGE child names the image it is drawn on
        images = [item for item in getattr(region, "ContentSequence", []) if "ReferencedSOPSequence" in item]
        if images:
            result.image_uid = str(images[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
    return result


def _algorithm(group) -> tuple[str, str] | None:
    """TID 4019 Algorithm Identification of a group: (name, version), read from its TEXT items."""
    from highdicom.sr.utils import find_content_items
    from pydicom.sr.codedict import codes

    def text(name) -> str | None:
        items = find_content_items(group[0], name=name)
        return str(items[0].TextValue) if items else None

    name = text(codes.DCM.AlgorithmName)
    return (name, text(codes.DCM.AlgorithmVersion) or "") if name else None


def read_measurement_report(path: Path) -> SrDocument:
    """The measurement groups (planar, then volumetric) of the TID 1500 SR at `path`."""
    import highdicom as hd
    from pydicom.sr.codedict import codes

    path = Path(path)
    try:
        sr = hd.sr.srread(path)
        report = sr.content
        if not isinstance(report, hd.sr.MeasurementReport):
            raise SrReadError(f"{path}: the SR is not a TID 1500 measurement report")
        groups = [_group(g) for g in report.get_planar_roi_measurement_groups()]
        groups += [_group(g) for g in report.get_volumetric_roi_measurement_groups()]
        observers = [str(o.observer_identifying_attributes.name)
                     for o in report.get_observer_contexts(codes.DCM.Person)]
        return SrDocument(path, str(getattr(sr, "CompletionFlag", "")), str(getattr(sr, "VerificationFlag", "")),
                          observers, groups)
    except SrReadError:
        raise
    except Exception as error:  # pydicom/highdicom raise many types on malformed content (docs/facts.md)
        raise SrReadError(f"{path}: not a readable measurement report SR ({type(error).__name__}: {error})") from error
