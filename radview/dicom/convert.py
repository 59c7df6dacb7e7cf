"""`radview convert`: one NIfTI per stack plus a JSON sidecar, laid out as dcm2niix does."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nibabel as nib
import numpy as np

from radview import __version__
from radview.core.nifti_layout import to_nifti_layout
from radview.core.progress import CancelToken, ProgressCallback
from radview.core.volume import Volume
from radview.dicom.load import LoadError, load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series


def save_nifti(volume: Volume, path: Path) -> None:
    """Write `volume` as NIfTI-1 (gzip if the name ends .gz) with the dcm2niix layout and sform."""
    data, affine = to_nifti_layout(volume.voxels, volume.affine_lps)
    image = nib.Nifti1Image(np.ascontiguousarray(data), affine)
    image.set_sform(affine, code=1)
    # A sheared (gantry-tilted) affine cannot be a quaternion: leave the qform unset then.
    image.set_qform(affine if volume.gantry_tilt_deg == 0 else None, code=1 if volume.gantry_tilt_deg == 0 else 0)
    image.header.set_xyzt_units("mm", "sec")
    nib.save(image, path)


def sidecar(volume: Volume) -> dict:
    """BIDS-style JSON fields of a converted volume (a subset of what dcm2niix writes)."""
    return {
        "Modality": volume.modality,
        "SeriesDescription": volume.series_description,
        "SeriesNumber": volume.series_number,
        "SeriesInstanceUID": volume.series_instance_uid,
        "StudyInstanceUID": volume.study_instance_uid,
        "ImageOrientationPatientDICOM": [*map(float, volume.row_direction), *map(float, volume.column_direction)],
        "PixelSpacing": list(map(float, volume.pixel_spacing_mm)),
        "SpacingBetweenSlices": float(volume.slice_spacing_mm),
        "GantryTilt": float(volume.gantry_tilt_deg),
        "PhotometricInterpretation": volume.photometric_interpretation,
        "Warnings": volume.warnings,
        "SourceImages": [s.sop_instance_uid for s in volume.slices],
        "ConversionSoftware": "RadView",
        "ConversionSoftwareVersion": __version__,
    }


def _file_name(volume: Volume, index: int) -> str:
    label = re.sub(r"[^A-Za-z0-9]+", "_", volume.series_description).strip("_") or volume.modality or "series"
    number = volume.series_number if volume.series_number is not None else 0
    return f"{number:03d}_{label}_{index}"


def convert_path(
    source: str | Path, out_dir: str | Path, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> tuple[list[Path], list[str]]:
    """Convert every stack under `source`; return the NIfTI files written and the errors met."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index = scan_path(source, progress, cancel)
    written: list[Path] = []
    errors = [f"{s.path}: {s.reason}" for s in index.skipped]
    count = 0
    for series in index.all_series():
        for stack in split_series(series):
            try:
                volume = load_stack(stack, cancel=cancel)
            except LoadError as exc:
                errors.append(str(exc))
                continue
            count += 1
            name = _file_name(volume, count)
            path = out / f"{name}.nii.gz"
            save_nifti(volume, path)
            (out / f"{name}.json").write_text(json.dumps(sidecar(volume), indent=2))
            written.append(path)
    return written, errors
