"""Key images as Secondary Capture: the report's pictures, with their burned-in marks declared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from radview.dicom.results.common import KEY_IMAGE_SERIES_NUMBER, MANUFACTURER, content_date_time, new_uid, save_dataset


def write_key_image(rgb: np.ndarray, source: Dataset, path: Path, instance_number: int, caption: str,
                    series_instance_uid: str, orientation: tuple[str, str] = ("", "")) -> Dataset:
    """An RGB (rows, cols, 3) uint8 picture as a Secondary Capture of `source`'s patient and study.

    orientation: PatientOrientation (along rows, down columns), e.g. ("L", "P") for an axial
    image; empty where unknown (a radiograph without geometry takes the source's, if it has one).
    BurnedInAnnotation is YES: the outlines, circles and rulers are drawn into the pixels.
    """
    import highdicom as hd

    if not all(orientation) and len(getattr(source, "PatientOrientation", []) or []) == 2:
        orientation = tuple(str(v) for v in source.PatientOrientation)
    known = all(orientation)

    sc = hd.sc.SCImage.from_ref_dataset(
        ref_dataset=source,
        pixel_array=np.ascontiguousarray(rgb, dtype=np.uint8),
        photometric_interpretation=hd.PhotometricInterpretationValues.RGB,
        bits_allocated=8,
        coordinate_system=hd.CoordinateSystemNames.PATIENT if known else None,
        patient_orientation=orientation if known else None,
        series_instance_uid=series_instance_uid,
        series_number=KEY_IMAGE_SERIES_NUMBER,
        sop_instance_uid=new_uid(),
        instance_number=instance_number,
        manufacturer=MANUFACTURER,
    )
    sc.BurnedInAnnotation = "YES"
    if "Laterality" not in sc:  # type 2C in General Series: present, empty = not a paired structure or unknown
        sc.Laterality = source.get("Laterality", "")
    sc.ImageComments = caption[:10240]
    sc.SeriesDescription = "RadView key images"
    sc.ContentDate, sc.ContentTime = content_date_time()
    save_dataset(sc, path)
    return sc
