"""Read a DICOM Segmentation (SEG) onto the grid of the series it segments.

A SEG from another system is untrusted input: every failure becomes a SegReadError that names
the file and the problem, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from radview.core.volume import Volume


class SegReadError(ValueError):
    """A SEG file that cannot be read or does not fit the series; the message names the file."""


@dataclass(frozen=True)
class SegmentInfo:
    """One segment of a SEG: its number, label and SegmentedPropertyType code (value, scheme, meaning)."""

    number: int
    label: str
    code: tuple[str, str, str]


def read_segmentation(path: Path, volume: Volume) -> tuple[np.ndarray, list[SegmentInfo]]:
    """Labels (slices, rows, cols) uint8 holding segment numbers (0 = none) on `volume`'s grid,
    matched frame by frame through ReferencedSOPInstanceUID (SourceImageSequence), and the segments.

    Overlapping segments: the higher segment number wins.
    """
    import highdicom as hd

    path = Path(path)
    try:
        seg = hd.seg.segread(path)
    except Exception as error:  # pydicom/highdicom raise many types on malformed files
        raise SegReadError(f"{path}: not a readable DICOM Segmentation ({error})") from error
    segments = []
    for number in seg.get_segment_numbers():
        description = seg.get_segment_description(number)
        prop = description.segmented_property_type
        segments.append(SegmentInfo(int(number), str(description.segment_label),
                                    (str(prop.value), str(prop.scheme_designator), str(prop.meaning))))
    if not segments:
        raise SegReadError(f"{path}: the SEG has no segments")
    if len(segments) > 255:
        raise SegReadError(f"{path}: {len(segments)} segments; at most 255 are supported")
    uids = [s.sop_instance_uid for s in volume.slices]
    referenced = {sop_uid for _study, _series, sop_uid in seg.get_source_image_uids()}
    if not referenced & set(uids):
        raise SegReadError(f"{path}: the SEG references none of the images of series {volume.series_instance_uid}")
    labels = np.zeros(volume.shape[:3], np.uint8)
    for k, uid in enumerate(uids):
        if uid not in referenced:
            continue
        try:
            frame = seg.get_pixels_by_source_instance([uid], combine_segments=True, skip_overlap_checks=True,
                                                      dtype=np.uint8)[0]
        except Exception as error:
            raise SegReadError(f"{path}: frames for image {uid} cannot be read ({error})") from error
        if frame.shape != labels.shape[1:]:
            raise SegReadError(f"{path}: frame size {frame.shape} differs from the image size {labels.shape[1:]}")
        labels[k] = frame
    return labels, segments
