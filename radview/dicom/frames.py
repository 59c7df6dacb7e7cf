"""The frames of a multi-frame file, one ImageHeader each.

Enhanced objects (PS3.3 C.7.6.16) describe every frame in functional groups: its plane, pixel
measures, rescale, and what sets it apart from frames at the same place (time point, diffusion
b-value and direction, dimension indices), which radview.dicom.stacks splits volumes by.
Classic multi-frame files (RT dose, NM, US, XA cine) only have GridFrameOffsetVector.
"""

from __future__ import annotations

from dataclasses import replace

from pydicom.dataset import Dataset

from radview.core.study_index import ImageHeader
from radview.dicom.values import ds_float, ds_floats, ds_int, ds_item, ds_text

# Dimension indices that place a frame within its stack, not a volume within the series
# (PS3.3 C.7.6.17: stack ID, in-stack position, or the position itself; slice location).
POSITION_DIMENSIONS = {0x00209056, 0x00209057, 0x00200032, 0x00201041}


def _dimension_positions(ds: Dataset) -> list[bool] | None:
    """For each index of DimensionIndexValues, whether it places a frame within its stack; None when
    the file declares no dimensions."""
    dimensions = ds.get("DimensionIndexSequence") or []
    pointers = [item.get("DimensionIndexPointer") for item in dimensions]
    if not pointers or any(p is None for p in pointers):
        return None
    return [int(p) in POSITION_DIMENSIONS for p in pointers]


def _dimension_key(content: Dataset, positional: list[bool] | None) -> tuple[int, ...] | None:
    """The frame's DimensionIndexValues less those that place it within its stack."""
    values = content.get("DimensionIndexValues")
    if positional is None or values is None:
        return None
    values = [values] if isinstance(values, int) else list(values)
    if len(values) != len(positional):
        return None
    try:
        return tuple(int(v) for v, place in zip(values, positional) if not place)
    except (TypeError, ValueError):
        return None


def _diffusion(image: ImageHeader, diffusion: Dataset) -> None:
    """The frame's b-value (MR Diffusion Macro, C.8.13.5.9) and gradient direction."""
    b_value = ds_float(diffusion, "DiffusionBValue")
    if b_value is not None and b_value != image.acquisition.diffusion_b_value:
        image.acquisition = replace(image.acquisition, diffusion_b_value=b_value)
    gradient = ds_item(diffusion, "DiffusionGradientDirectionSequence")
    if gradient is not None:
        image.diffusion_direction = ds_floats(gradient, "DiffusionGradientOrientation", 3)  # type: ignore[assignment]


def _trigger_time_ms(cardiac: Dataset | None, temporal: Dataset | None) -> float | None:
    """When the frame was taken: its nominal cardiac trigger delay (ms, C.7.6.16.2.7), else its
    temporal position time offset (s, C.7.6.16.2.23)."""
    delay = ds_float(cardiac, "NominalCardiacTriggerDelayTime") if cardiac is not None else None
    if delay is not None:
        return delay
    offset = ds_float(temporal, "TemporalPositionTimeOffset") if temporal is not None else None
    return None if offset is None else offset * 1000.0


def frames_of_enhanced(ds: Dataset, base: ImageHeader) -> list[ImageHeader]:
    """One ImageHeader per frame from the shared and per-frame functional groups (PS3.3 C.7.6.16)."""
    shared = ds_item(ds, "SharedFunctionalGroupsSequence")
    per_frame = ds.get("PerFrameFunctionalGroupsSequence") or []
    positional = _dimension_positions(ds)
    images = []
    for index in range(base.number_of_frames):
        frame = per_frame[index] if index < len(per_frame) else None

        def find(sequence: str) -> Dataset | None:
            return ds_item(frame, sequence) or ds_item(shared, sequence)

        plane_position = find("PlanePositionSequence")
        plane_orientation = find("PlaneOrientationSequence")
        measures = find("PixelMeasuresSequence")
        transform = find("PixelValueTransformationSequence")
        voi = find("FrameVOILUTSequence")
        content = find("FrameContentSequence")
        echo = find("MREchoSequence")
        diffusion = find("MRDiffusionSequence")
        spacing = ds_floats(measures, "PixelSpacing", 2) if measures else None
        image = replace(base)
        image.frame_index = index
        image.position_mm = ds_floats(plane_position, "ImagePositionPatient", 3) if plane_position else None  # type: ignore[assignment]
        image.orientation = (  # type: ignore[assignment]
            ds_floats(plane_orientation, "ImageOrientationPatient", 6) if plane_orientation else base.orientation
        )
        if spacing:
            image.pixel_spacing_mm = (spacing[0], spacing[1])
            image.pixel_spacing_source = "PixelSpacing"
        if measures is not None:
            image.slice_thickness_mm = ds_float(measures, "SliceThickness")
            image.spacing_between_slices_mm = ds_float(measures, "SpacingBetweenSlices")
        if transform is not None:
            image.rescale_slope = ds_float(transform, "RescaleSlope") or 1.0
            image.rescale_intercept = ds_float(transform, "RescaleIntercept") or 0.0
            image.rescale_type = ds_text(transform, "RescaleType")
        if voi is not None:
            image.window_center = ds_float(voi, "WindowCenter")
            image.window_width = ds_float(voi, "WindowWidth")
        if content is not None:
            image.stack_id = ds_text(content, "StackID") or None
            image.temporal_position = ds_int(content, "TemporalPositionIndex")
            image.acquisition_number = ds_int(content, "FrameAcquisitionNumber")
            image.dimension_key = _dimension_key(content, positional)
        if echo is not None:
            te = ds_float(echo, "EffectiveEchoTime")
            image.echo_number = None if te is None else int(round(te * 1000))
        if diffusion is not None:
            _diffusion(image, diffusion)
        trigger = _trigger_time_ms(find("CardiacSynchronizationSequence"), find("TemporalPositionSequence"))
        image.trigger_time_ms = trigger if trigger is not None else base.trigger_time_ms
        images.append(image)
    return images


def frames_of_classic(ds: Dataset, base: ImageHeader) -> list[ImageHeader]:
    """Frames of a multi-frame file without functional groups (RT dose, NM, US, XA cine).

    Only GridFrameOffsetVector (3004,000C) places such frames in space (RT Dose, PS3.3
    C.8.8.3.2); otherwise they are a sequence in stored order with no 3D position.
    """
    offsets = ds.get("GridFrameOffsetVector")
    positioned = (
        base.position_mm is not None
        and base.orientation is not None
        and offsets is not None
        and len(offsets) == base.number_of_frames
    )
    images = []
    normal = None
    if positioned:
        o = base.orientation
        normal = (o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3])  # type: ignore[index]
    for index in range(base.number_of_frames):
        position = None
        if positioned and normal is not None:
            d = float(offsets[index])
            position = tuple(p + d * n for p, n in zip(base.position_mm, normal))  # type: ignore[arg-type]
        images.append(
            replace(base, frame_index=index, position_mm=position, orientation=base.orientation if positioned else None)
        )
    return images
