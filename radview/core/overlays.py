"""Overlay layers drawn over a series: label masks and point/box markers (nodule flags).

This is the API the AI results and the review use: they build layers here, without Qt, and the
viewer draws them. A label mask lives on the series' voxel grid, so it is exact to the voxel in
every plane.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from radview.core.review import ReviewStatus

RGBA = tuple[int, int, int, int]


@dataclass(frozen=True)
class LabelStyle:
    """How one label value of a mask is named and coloured."""

    name: str
    color: RGBA


class MaskStyle(str, Enum):
    FILL = "fill"
    OUTLINE = "outline"


_layer_ids = itertools.count(1)


@dataclass
class LabelLayer:
    """A 3D label volume (slices, rows, cols) uint8 on the grid of one series; 0 is background."""

    name: str
    series_instance_uid: str
    labels: np.ndarray
    styles: dict[int, LabelStyle]
    opacity: float = 0.5
    style: MaskStyle = MaskStyle.FILL
    visible: bool = True
    id: int = field(default_factory=lambda: next(_layer_ids))

    def __post_init__(self) -> None:
        if self.labels.ndim != 3:
            raise ValueError(f"a label layer needs a 3D array, got shape {self.labels.shape}")
        if self.labels.dtype != np.uint8:
            raise ValueError(f"a label layer needs uint8 labels, got {self.labels.dtype}")

    def lookup_table(self) -> np.ndarray:
        """(256, 4) uint8 RGBA per label value, opacity applied; unlisted values are transparent."""
        lut = np.zeros((256, 4), np.uint8)
        for value, style in self.styles.items():
            r, g, b, a = style.color
            lut[value] = (r, g, b, round(a * self.opacity))
        return lut


def outline(mask2d: np.ndarray) -> np.ndarray:
    """Label pixels that touch a pixel with another label (4-neighbourhood); others become 0."""
    edge = np.zeros(mask2d.shape, bool)
    edge[1:, :] |= mask2d[1:, :] != mask2d[:-1, :]
    edge[:-1, :] |= mask2d[:-1, :] != mask2d[1:, :]
    edge[:, 1:] |= mask2d[:, 1:] != mask2d[:, :-1]
    edge[:, :-1] |= mask2d[:, :-1] != mask2d[:, 1:]
    return np.where(edge, mask2d, 0).astype(np.uint8)


class MarkerStatus(str, Enum):
    """Review state of a marker; its colour follows it."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    EDITED = "edited"  # accepted with the reader's changes
    REJECTED = "rejected"
    MANUAL = "manual"


STATUS_COLORS: dict[MarkerStatus, RGBA] = {
    MarkerStatus.PENDING: (255, 200, 0, 255),
    MarkerStatus.ACCEPTED: (0, 220, 90, 255),
    MarkerStatus.EDITED: (120, 235, 170, 255),  # an acceptance, a lighter green
    MarkerStatus.REJECTED: (150, 150, 150, 200),
    MarkerStatus.MANUAL: (80, 170, 255, 255),
}

# a finding's flag shows its review status (an edit is an acceptance, in a lighter green)
REVIEW_MARKER_STATUS = {ReviewStatus.UNREVIEWED: MarkerStatus.PENDING, ReviewStatus.ACCEPTED: MarkerStatus.ACCEPTED,
                        ReviewStatus.EDITED: MarkerStatus.EDITED, ReviewStatus.REJECTED: MarkerStatus.REJECTED}


@dataclass
class Marker:
    """A point or box flag: centre in patient mm, size (box edge or diameter) in mm."""

    id: str
    centre_lps_mm: np.ndarray
    size_mm: float
    label: str
    status: MarkerStatus = MarkerStatus.PENDING

    @property
    def color(self) -> RGBA:
        return STATUS_COLORS[self.status]

    @property
    def caption(self) -> str:
        """Its label with its review status in words, so the status never rests on colour alone."""
        return f"{self.label} ({self.status.value})"


@dataclass
class MarkerLayer:
    """A set of markers on one series (for example, the nodule flags of one model run)."""

    name: str
    series_instance_uid: str
    markers: list[Marker] = field(default_factory=list)
    visible: bool = True
    id: int = field(default_factory=lambda: next(_layer_ids))

    def find(self, marker_id: str) -> Marker:
        """The marker with this id; KeyError if there is none."""
        for marker in self.markers:
            if marker.id == marker_id:
                return marker
        raise KeyError(marker_id)
