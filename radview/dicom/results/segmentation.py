"""DICOM SEG of the accepted findings' masks: one segment per finding, on the source grid."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from radview.core.findings import Finding
from radview.core.review import MANUAL_MODEL_ID
from radview.core.volume import Volume
from radview.dicom.results.codes import MORPHOLOGICALLY_ABNORMAL, finding_site
from radview.dicom.results.common import (DEVICE_SERIAL_NUMBER, MANUFACTURER, MODEL_NAME, SEG_SERIES_NUMBER,
                                          SOFTWARE_VERSION, ResultWriteError, coded, hashed_uid, new_uid, save_dataset)


@dataclass
class SegmentMask:
    """One finding and its voxels (slices, rows, cols) bool on the finding's series grid."""

    finding: Finding
    mask: np.ndarray


def tracking_uid(study_instance_uid: str, finding: Finding) -> str:
    """The finding's TrackingUID: the same in the SEG and the SR, and in every later export."""
    return hashed_uid("finding", study_instance_uid, finding.id)



def _description(number: int, item: SegmentMask, study_uid: str):
    import highdicom as hd

    finding = item.finding
    manual = finding.model_id == MANUAL_MODEL_ID
    location, _laterality = finding_site(finding)
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=f"{finding.finding_type.meaning} {number}"[:64],
        segmented_property_category=coded(MORPHOLOGICALLY_ABNORMAL),
        segmented_property_type=coded(finding.finding_type),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL if manual else hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=None if manual else hd.AlgorithmIdentificationSequence(
            name=finding.model_id, version=finding.model_version or "unknown",
            family=codes.DCM.ArtificialIntelligence),  # CID 7162; (123109, DCM) is Manual Processing
        tracking_uid=tracking_uid(study_uid, finding),
        tracking_id=finding.id[:64],
        anatomic_regions=[coded(location)] if location else None,
    )


def _frame_label_map(volume: Volume, sources: list[Dataset], labels: np.ndarray) -> np.ndarray:
    """Reorder (slices, rows, cols) into the order of the source frames highdicom expects."""
    if any(ref.tile_origin is not None for ref in volume.slices):
        # the slices share one stored frame, and a SEG frame covers a whole source frame
        raise ResultWriteError(f"series {volume.series_instance_uid}: a SEG over the slices of a Siemens mosaic "
                               "is not supported")
    if len(sources) == volume.shape[0]:
        return labels  # one single-frame file per slice, already in slice order
    if len(sources) == 1:
        frames = np.zeros((int(getattr(sources[0], "NumberOfFrames", 1)), *labels.shape[1:]), labels.dtype)
        for k, ref in enumerate(volume.slices):
            frames[ref.frame_index] = labels[k]
        return frames
    raise ResultWriteError(f"series {volume.series_instance_uid}: a SEG over {len(sources)} multi-frame files "
                           "is not supported")


def write_segmentation(volume: Volume, sources: list[Dataset], masks: list[SegmentMask], path: Path,
                       series_instance_uid: str | None = None) -> Dataset:
    """Write a binary SEG with one segment per mask (segment n = masks[n-1]) and return it.

    Every frame is written, empty or not (omit_empty_frames=False: several viewers misplace
    SEGs with gaps, docs/facts.md). Overlapping masks: the later finding wins the voxel.
    """
    import highdicom as hd

    if not masks:
        raise ResultWriteError("no accepted finding has a mask: there is no SEG to write")
    labels = np.zeros(volume.shape[:3], np.uint8)
    for number, item in enumerate(masks, start=1):
        if item.mask.shape != labels.shape:
            raise ResultWriteError(f"finding {item.finding.id}: mask shape {item.mask.shape} is not the series' {labels.shape}")
        labels[item.mask] = number
    study_uid = volume.study_instance_uid
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=_frame_label_map(volume, sources, labels),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_description(n, item, study_uid) for n, item in enumerate(masks, start=1)],
        series_instance_uid=series_instance_uid or new_uid(),
        series_number=SEG_SERIES_NUMBER,
        sop_instance_uid=new_uid(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MODEL_NAME,
        software_versions=SOFTWARE_VERSION,
        device_serial_number=DEVICE_SERIAL_NUMBER,
        content_description="RadView reviewed findings",
        content_label="FINDINGS",
        omit_empty_frames=False,
    )
    seg.SeriesDescription = "RadView findings (SEG)"
    if "FrameOfReferenceUID" not in seg and "PatientOrientation" not in seg:
        # a projection radiograph: no patient frame, so General Image's PatientOrientation (type 2C)
        seg.PatientOrientation = sources[0].get("PatientOrientation", "")
    save_dataset(seg, path)
    return seg
