"""Volumes of one plane whose images repeat positions: what tells them apart, and their names.

A diffusion series repeats every position once per b-value and gradient direction, a dynamic or
cardiac series once per time point, an fMRI run of Siemens mosaics once per file. Each splitter
here groups the images by one such attribute and accepts the grouping only when it makes whole
volumes: as many groups as the most repeated position has images, none repeating a position.
The first that does names the volumes ("b=1000", "time point 3 (1200 ms)"); radview.dicom.stacks
falls back to splitting by order found.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable

from radview.core.study_index import ImageHeader

Split = tuple[list[list[ImageHeader]], list[str]]


def position_key(image: ImageHeader) -> tuple[float, ...] | None:
    """The image's position rounded to 0.01 mm, so equal positions compare equal."""
    return None if image.position_mm is None else tuple(round(v, 2) for v in image.position_mm)


def has_duplicate_positions(images: list[ImageHeader]) -> bool:
    """True when two images lie at the same position."""
    keys = [position_key(i) for i in images]
    return len(set(keys)) != len(keys)


def _found_order(image: ImageHeader) -> tuple:
    return (image.instance_number or 0, image.path, image.frame_index)


def _volumes_by(images: list[ImageHeader], key: Callable[[ImageHeader], Hashable]) -> list[list[ImageHeader]] | None:
    """Images grouped by key(image), in the order the groups were acquired, if that makes whole
    volumes; else None. Counting the repeats keeps an attribute that differs per slice (a
    per-slice trigger time) from making one-image volumes."""
    groups: dict[Hashable, list[ImageHeader]] = defaultdict(list)
    for image in images:
        groups[key(image)].append(image)
    repeats = Counter(position_key(i) for i in images).most_common(1)[0][1]
    if len(groups) < 2 or len(groups) != repeats or any(has_duplicate_positions(g) for g in groups.values()):
        return None
    return sorted(groups.values(), key=lambda part: min(map(_found_order, part)))


def _number(value: float) -> str:
    return f"{round(value, 1):g}"


def _common(part: list[ImageHeader], attribute: str) -> float | None:
    values = {getattr(i, attribute) for i in part}
    return values.pop() if len(values) == 1 else None


def _b_value(image: ImageHeader) -> float | None:
    return image.acquisition.diffusion_b_value


def by_diffusion(images: list[ImageHeader]) -> Split | None:
    """One volume per b-value, and per gradient direction where a b-value has several."""
    if all(_b_value(i) is None for i in images):
        return None
    parts = _volumes_by(images, lambda i: (_b_value(i), i.diffusion_direction))
    if parts is None:
        return None
    parts.sort(key=lambda part: (_b_value(part[0]) is None, _b_value(part[0]) or 0.0))  # stable: acquisition order within a b
    labels = []
    for part in parts:
        b = _b_value(part[0])
        name = "no b-value" if b is None else f"b={_number(b)}"
        same_b = [p for p in parts if _b_value(p[0]) == b]
        directional = [p for p in same_b if p[0].diffusion_direction is not None]
        if len(same_b) > 1:
            if part[0].diffusion_direction is None:
                name += ", no direction"
            else:
                name += f", direction {next(n for n, p in enumerate(directional, 1) if p is part)} of {len(directional)}"
        labels.append(name)
    return parts, labels


def _time_suffix(part: list[ImageHeader]) -> str:
    time = _common(part, "trigger_time_ms")
    return f" ({_number(time)} ms)" if time is not None else ""


def by_temporal_position(images: list[ImageHeader]) -> Split | None:
    """One volume per TemporalPositionIdentifier / TemporalPositionIndex, with its time if known."""
    if all(i.temporal_position is None for i in images):
        return None
    parts = _volumes_by(images, lambda i: i.temporal_position)
    if parts is None:
        return None
    parts.sort(key=lambda part: (part[0].temporal_position is None, part[0].temporal_position or 0))
    return parts, [f"time point {part[0].temporal_position}{_time_suffix(part)}" for part in parts]


def by_trigger_time(images: list[ImageHeader]) -> Split | None:
    """One volume per trigger time (cardiac phases), numbered in time order."""
    if all(i.trigger_time_ms is None for i in images):
        return None
    parts = _volumes_by(images, lambda i: i.trigger_time_ms)
    if parts is None:
        return None
    parts.sort(key=lambda part: (part[0].trigger_time_ms is None, part[0].trigger_time_ms or 0.0))
    return parts, [f"time point {n}{_time_suffix(part)}" for n, part in enumerate(parts, 1)]


def by_mosaic_file(images: list[ImageHeader]) -> Split | None:
    """Siemens mosaics: each file holds one volume (a time point of an fMRI or perfusion run, a
    diffusion volume), numbered in acquisition order."""
    if any(i.mosaic is None for i in images):
        return None
    parts = _volumes_by(images, lambda i: i.path)
    if parts is None:
        return None
    parts.sort(key=lambda part: (part[0].acquisition_number or 0, *_found_order(part[0])))
    count = len(parts)
    if all(_b_value(p[0]) is None for p in parts):
        return parts, [f"time point {n} of {count}" for n in range(1, count + 1)]
    return parts, [f"volume {n} of {count}" + ("" if _b_value(p[0]) is None else f", b={_number(_b_value(p[0]))}")  # type: ignore[arg-type]
                   for n, p in enumerate(parts, 1)]


def by_acquisition(images: list[ImageHeader]) -> Split | None:
    """One volume per AcquisitionNumber (repeated acquisitions)."""
    parts = _volumes_by(images, lambda i: i.acquisition_number)
    if parts is None:
        return None
    parts.sort(key=lambda part: (part[0].acquisition_number is None, part[0].acquisition_number or 0))
    return parts, [f"acquisition {part[0].acquisition_number}" for part in parts]


def by_dimension(images: list[ImageHeader]) -> Split | None:
    """Enhanced multi-frame: one volume per set of dimension indices (those not placing a frame
    within its stack), in index order."""
    if any(i.dimension_key is None for i in images):
        return None
    parts = _volumes_by(images, lambda i: i.dimension_key)
    if parts is None:
        return None
    parts.sort(key=lambda part: part[0].dimension_key)  # type: ignore[arg-type, return-value]
    return parts, [f"volume {n} of {len(parts)}" for n in range(1, len(parts) + 1)]


# The order they are tried in: the most telling name first.
VOLUME_SPLITTERS: tuple[Callable[[list[ImageHeader]], Split | None], ...] = (
    by_diffusion, by_temporal_position, by_trigger_time, by_mosaic_file, by_acquisition, by_dimension,
)
