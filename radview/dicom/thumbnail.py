"""A small grey image of a stack's middle slice for the study browser."""

from __future__ import annotations

import numpy as np

from radview.core.windowing import WindowLevel, percentile_window, to_uint8
from radview.dicom.load import stack_geometry
from radview.dicom.pixels import DecodedFiles, can_read_directly, read_frame_decoded, read_frame_directly, volume_dtype
from radview.dicom.stacks import Stack


def stack_thumbnail(stack: Stack, size: int = 64) -> np.ndarray:
    """(h, w) uint8 (or (h, w, 3) for colour) of the middle image, longest side <= size.

    Windowed with the image's WindowCenter/WindowWidth (0028,1050/1051) or its percentiles;
    MONOCHROME1 is inverted so the thumbnail looks like the view. Raises PixelError/OSError.
    """
    images, _ = stack_geometry(stack)
    image = images[len(images) // 2]
    color = image.samples_per_pixel == 3 or image.photometric_interpretation == "PALETTE COLOR"
    shape = (image.rows, image.columns) + ((3,) if color else ())
    out = np.empty(shape, volume_dtype([image]))
    if can_read_directly(image) and not color:
        read_frame_directly(image, out)
    else:
        read_frame_decoded(image, out, DecodedFiles())
    step = max(1, int(np.ceil(max(image.rows, image.columns) / size)))
    small = out[::step, ::step]
    if color:
        return np.ascontiguousarray(small.astype(np.uint8))
    if image.window_center is not None and image.window_width:
        window = WindowLevel(image.window_width, image.window_center)
    else:
        window = percentile_window(small)
    return to_uint8(small, window, inverted=image.photometric_interpretation == "MONOCHROME1")
