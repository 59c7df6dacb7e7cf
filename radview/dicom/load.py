"""Load a stack of images into a Volume, progressively: slice 0 is ready before the rest.

Order and spacing come from the image positions (radview.core.geometry). Uncompressed slices are
read by two threads straight into the volume (reads and numpy arithmetic release the GIL);
compressed ones go through pydicom's decoders.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Iterator

import numpy as np

from radview.core.geometry import analyse_stack
from radview.core.progress import CancelToken, ProgressCallback, report
from radview.core.study_index import ImageHeader
from radview.core.volume import SliceRef, Volume
from radview.core.windowing import percentile_window
from radview.dicom.pixels import (
    DecodedFiles,
    PixelError,
    can_read_directly,
    check_declared_size,
    read_frame_decoded,
    read_frame_directly,
    volume_dtype,
)
from radview.dicom.stacks import Stack

READ_THREADS = 2
SLICES_PER_TASK = 16
# One volume in memory: four times the largest file (radview.dicom.limits.MAX_PIXEL_BYTES). A whole-body
# CT of 3000 x 512x512 slices (1.5 GiB) or a 100-slice 4096x4096 tomosynthesis (3.1 GiB) is well inside;
# a stack of many files, each within the file limit, can still ask for more than any workstation has.
MAX_VOLUME_BYTES = 16 * 1024**3


class LoadError(Exception):
    """A stack that cannot become a volume; the message names the file and the problem."""


def _label(image: ImageHeader) -> str:
    return f"image {image.instance_number}" if image.instance_number is not None else image.path


def stack_geometry(stack: Stack) -> tuple[list[ImageHeader], dict]:
    """Images in display order plus the Volume geometry fields (from headers alone, no pixels)."""
    images = stack.images
    first = images[0]
    warnings = list(stack.warnings)
    spacing = first.pixel_spacing_mm
    if spacing is None:
        warnings.append("No pixel spacing in the file: distances are in pixels, not mm")
        spacing = (1.0, 1.0)
    elif any(i.pixel_spacing_mm != first.pixel_spacing_mm for i in images):
        warnings.append("Pixel spacing differs between images; using the first image's")
    if first.pixel_spacing_source.startswith("ImagerPixelSpacing (at the detector)"):
        warnings.append("Distances are measured at the detector (ImagerPixelSpacing), not at the patient")
    fields: dict = {"pixel_spacing_mm": spacing, "pixel_spacing_source": first.pixel_spacing_source}
    fallback_spacing = first.spacing_between_slices_mm or first.slice_thickness_mm or 1.0
    if stack.has_positions:
        geometry = analyse_stack(
            np.array([i.position_mm for i in images]), first.orientation, [_label(i) for i in images]  # type: ignore[arg-type]
        )
        images = [images[k] for k in geometry.order]
        orientation = np.asarray(first.orientation, dtype=float)
        fields.update(
            origin_mm=np.asarray(images[0].position_mm, dtype=float),
            row_direction=orientation[:3],
            column_direction=orientation[3:],
            slice_spacing_mm=geometry.slice_spacing_mm or fallback_spacing,
            slice_step_mm=geometry.slice_step_mm if len(images) > 1 else None,
            gantry_tilt_deg=geometry.tilt_deg,
            has_patient_geometry=True,
        )
        warnings.extend(geometry.warnings)
    else:
        images = sorted(images, key=lambda i: (i.instance_number or 0, i.path, i.frame_index))
        fields.update(slice_spacing_mm=fallback_spacing, has_patient_geometry=False)
        if len(images) > 1:
            warnings.append("No image positions: frames are shown in stored order without 3D geometry")
    fields["warnings"] = warnings
    return images, fields


def _default_window(images: list[ImageHeader], voxels: np.ndarray) -> tuple[float | None, float | None]:
    """WindowCenter/WindowWidth (0028,1050/1051) of the middle image, else a 0.5-99.5 % window."""
    middle = images[len(images) // 2]
    if middle.window_center is not None and middle.window_width is not None and middle.window_width > 0:
        return middle.window_center, middle.window_width
    if voxels.ndim == 4:
        return 127.5, 255.0
    sample = voxels[min(len(voxels) - 1, len(images) // 2)]
    auto = percentile_window(sample)
    return auto.level, auto.width


def iter_load(stack: Stack, cancel: CancelToken | None = None) -> Iterator[Volume]:
    """Yield one Volume object as it fills: first once slice 0 is in, last when all are.

    `volume.slices_loaded` counts the slices in so far. Raises LoadError naming the failing file.
    """
    if not stack.images:
        raise LoadError("the stack has no images")
    try:
        images, geometry = stack_geometry(stack)
    except ValueError as exc:  # degenerate ImageOrientationPatient
        raise LoadError(f"{stack.images[0].path}: invalid image geometry: {exc}") from exc
    first = images[0]
    for image in images:
        try:
            check_declared_size(image)
        except PixelError as exc:
            raise LoadError(str(exc)) from exc
    dtype = volume_dtype(images)
    color = first.samples_per_pixel == 3 or first.photometric_interpretation == "PALETTE COLOR"
    shape = (len(images), first.rows, first.columns) + ((3,) if color else ())
    needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if needed > MAX_VOLUME_BYTES:
        raise LoadError(f"{first.path}: {len(images)} images of {first.rows}x{first.columns} need "
                        f"{needed / 1024**3:.1f} GiB, over the {MAX_VOLUME_BYTES // 1024**3} GiB limit for one volume")
    try:
        voxels = np.empty(shape, dtype)
    except MemoryError as exc:
        raise LoadError(f"{first.path}: not enough memory for a {shape} volume") from exc
    series = stack.series
    volume = Volume(
        voxels=voxels,
        modality=series.modality or first.modality,
        photometric_interpretation="RGB" if color else first.photometric_interpretation,
        value_unit="HU" if (series.modality or first.modality) == "CT" else "",
        slices=[
            SliceRef(i.sop_instance_uid, i.sop_class_uid, i.instance_number, i.path, i.frame_index,
                     (i.mosaic.row, i.mosaic.column) if i.mosaic is not None else None)
            for i in images
        ],
        series_instance_uid=series.series_instance_uid,
        study_instance_uid=series.study_instance_uid,
        frame_of_reference_uid=series.frame_of_reference_uid,
        series_description=stack.description,
        series_number=series.series_number,
        body_part=series.body_part,
        slice_thickness_mm=first.slice_thickness_mm,
        acquisition=first.acquisition,
        **geometry,
    )
    decoded = DecodedFiles()

    def read(k: int) -> None:
        image = images[k]
        try:
            if can_read_directly(image) and not color:
                read_frame_directly(image, voxels[k])
            else:
                read_frame_decoded(image, voxels[k], decoded)
        except PixelError as exc:
            raise LoadError(str(exc)) from exc
        except OSError as exc:
            raise LoadError(f"{image.path}: cannot read: {exc.strerror or exc}") from exc

    read(0)
    volume.slices_loaded = 1
    volume.window_center, volume.window_width = _default_window(images[:1], voxels[:1])
    yield volume

    direct = all(can_read_directly(i) for i in images) and not color
    rest = range(1, len(images))
    if direct and len(images) > SLICES_PER_TASK:
        yield from _read_in_threads(volume, rest, read, cancel)
    else:
        for k in rest:
            if cancel:
                cancel.raise_if_cancelled()
            read(k)
            volume.slices_loaded = k + 1
            if k % SLICES_PER_TASK == 0:
                yield volume
    volume.window_center, volume.window_width = _default_window(images, voxels)
    yield volume  # complete: slices_loaded == number of slices


def _read_in_threads(volume: Volume, slices: range, read, cancel: CancelToken | None) -> Iterator[Volume]:
    tasks = [slices[i : i + SLICES_PER_TASK] for i in range(0, len(slices), SLICES_PER_TASK)]

    def read_many(ks: range) -> int:
        for k in ks:
            if cancel is not None and cancel.is_cancelled:
                return 0
            read(k)
        return len(ks)

    with cf.ThreadPoolExecutor(READ_THREADS) as pool:
        futures = [pool.submit(read_many, ks) for ks in tasks]
        try:
            for future in cf.as_completed(futures):
                volume.slices_loaded += future.result()
                if cancel:
                    cancel.raise_if_cancelled()
                if volume.slices_loaded < volume.shape[0]:
                    yield volume
        finally:
            for future in futures:
                future.cancel()


def load_stack(
    stack: Stack, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> Volume:
    """Load a whole stack; progress gets (slices loaded, slices)."""
    volume = None
    for volume in iter_load(stack, cancel):
        report(progress, volume.slices_loaded, volume.shape[0], "Loading slices")
    assert volume is not None
    return volume
