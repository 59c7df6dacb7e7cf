"""Split one series into stacks that each make one volume (or one 2D image).

A series may mix orientations (localisers), matrix sizes, echoes, time points, diffusion b-values
or repeated acquisitions (radview.dicom.volumes names them). Each stack holds images that share orientation and size and that have one image
per position along the normal.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

from radview.core.study_index import ImageHeader, Series
from radview.dicom.volumes import VOLUME_SPLITTERS, has_duplicate_positions, position_key

PROJECTION_MODALITIES = {"CR", "DX", "MG", "IO", "PX", "RG", "XA", "RF", "US", "ES", "XC", "OP", "SM"}


@dataclass
class Stack:
    """Images that form one volume, in the order they were found (the loader sorts them)."""

    series: Series
    images: list[ImageHeader]
    label: str = ""  # what sets it apart within its series ("echo 2", "orientation 2 of 3")
    warnings: list[str] = field(default_factory=list)

    @property
    def has_positions(self) -> bool:
        return all(i.position_mm is not None and i.orientation is not None for i in self.images)

    @property
    def description(self) -> str:
        base = self.series.description or self.series.modality
        return f"{base} ({self.label})" if self.label else base


def _orientation_key(image: ImageHeader) -> tuple[float, ...] | None:
    return None if image.orientation is None else tuple(round(v, 3) for v in image.orientation)


def _finite_geometry(image: ImageHeader) -> bool:
    """Position, orientation and pixel spacing hold only finite numbers (or are absent)."""
    values = [*(image.position_mm or ()), *(image.orientation or ()), *(image.pixel_spacing_mm or ())]
    return all(math.isfinite(v) for v in values)


def _without_geometry(images: list[ImageHeader]) -> tuple[list[ImageHeader], list[str]]:
    """Images whose geometry holds NaN or infinity lose it (they cannot be placed in a volume) and
    are named; they are shown as single images without patient geometry."""
    kept, named = [], []
    for image in images:
        if _finite_geometry(image):
            kept.append(image)
            continue
        named.append(Path(image.path).name + (f" frame {image.frame_index + 1}" if image.number_of_frames > 1 else ""))
        kept.append(replace(image, position_mm=None, orientation=None, pixel_spacing_mm=None,
                            pixel_spacing_source="not a finite number in the file"))
    warnings = [f"{', '.join(named[:10])}{' and others' if len(named) > 10 else ''}: position, orientation or "
                f"pixel spacing is not a finite number (NaN or infinity); kept out of the volume and its "
                f"measurements, shown as single images"] if named else []
    return kept, warnings


def split_series(series: Series) -> list[Stack]:
    """The stacks of one series, largest first for 3D series; one stack per 2D projection image.
    Images with non-finite geometry are named and kept out of the volumes (single images)."""
    if not series.images:
        return []
    images, geometry_warnings = _without_geometry(series.images)
    groups: dict[tuple, list[ImageHeader]] = defaultdict(list)
    for image in images:
        positioned = image.position_mm is not None and image.orientation is not None
        if not positioned and (image.number_of_frames == 1 or series.modality in PROJECTION_MODALITIES):
            # A radiograph (or any image without a plane): its own stack, frames kept together.
            key: tuple = ("file", image.path)
        else:
            key = (
                "plane" if positioned else "frames",
                _orientation_key(image) if positioned else image.path,
                image.rows, image.columns, image.samples_per_pixel,
                image.echo_number, image.stack_id,
            )
        groups[key].append(image)

    stacks: list[Stack] = []
    for key, images in groups.items():
        parts = [images]
        warnings: list[str] = []
        labels = [""]
        if key[0] == "plane" and has_duplicate_positions(images):
            split = split_volumes(images)
            if split is not None:
                parts, labels = split
            else:
                parts, labels = _split_by_repeat(images)
                warnings.append("Images repeat positions with nothing to tell them apart; split by order found")
        for part, label in zip(parts, labels):
            stacks.append(Stack(series, part, label, list(warnings)))

    if len(stacks) > 1:
        _label_stacks(stacks)
    stacks.sort(key=lambda s: -len(s.images))
    for stack in stacks:
        stack.warnings.extend(geometry_warnings)
    return stacks


def split_volumes(images: list[ImageHeader]) -> tuple[list[list[ImageHeader]], list[str]] | None:
    """Images of one plane that repeat positions, split into volumes by what tells them apart,
    with a label for each: the diffusion b-value (and gradient direction), the time point, the
    file of a Siemens mosaic, the acquisition number, or the enhanced file's dimension indices.
    None when none of these makes whole volumes."""
    for splitter in VOLUME_SPLITTERS:
        split = splitter(images)
        if split is not None:
            return split
    return None


def _split_by_repeat(images: list[ImageHeader]) -> tuple[list[list[ImageHeader]], list[str]]:
    """The n-th image found at each position goes to volume n (e.g. repeated dynamic phases)."""
    by_position: dict[tuple | None, int] = defaultdict(int)
    parts: dict[int, list[ImageHeader]] = defaultdict(list)
    for image in sorted(images, key=lambda i: (i.instance_number or 0, i.path, i.frame_index)):
        n = by_position[position_key(image)]
        by_position[position_key(image)] += 1
        parts[n].append(image)
    return [parts[n] for n in sorted(parts)], [f"repeat {n + 1}" for n in sorted(parts)]


def _label_stacks(stacks: list[Stack]) -> None:
    """Give stacks that have no label yet one a person can tell apart."""
    echoes = {s.images[0].echo_number for s in stacks}
    unlabeled = [s for s in stacks if not s.label]
    for n, stack in enumerate(unlabeled, start=1):
        first = stack.images[0]
        if len(echoes) > 1 and first.echo_number is not None:
            stack.label = f"echo {first.echo_number}"
        elif first.position_mm is None:
            stack.label = f"image {first.instance_number if first.instance_number is not None else n}"
        else:
            stack.label = f"stack {n} of {len(unlabeled)}, {first.rows}x{first.columns}"
