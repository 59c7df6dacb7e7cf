"""Volume: the voxels of one stack of slices with their place in the patient.

Index order is (slice, row, column) = (k, j, i), matching `voxels[k, j, i]`. Patient coordinates
are DICOM LPS in mm (x to the patient's Left, y Posterior, z Superior).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radview.core.acquisition import Acquisition
from radview.core.geometry import slice_normal


@dataclass(frozen=True)
class SliceRef:
    """Where slice k of a volume came from: needed for image references in reports, SEG and SR."""

    sop_instance_uid: str
    sop_class_uid: str
    instance_number: int | None
    path: str
    frame_index: int = 0  # 0-based frame in a multi-frame file
    # a slice of a Siemens mosaic: (row, column) of its tile's first pixel in the stored image,
    # so references to the stored image (SR coordinates) can be made on it
    tile_origin: tuple[int, int] | None = None


@dataclass
class Volume:
    """Voxels (slices, rows, cols) — or (slices, rows, cols, 3) for RGB — with patient geometry.

    voxels: rescaled values (Modality LUT applied: HU on CT).
    pixel_spacing_mm: (row spacing, column spacing) = DICOM PixelSpacing order.
    slice_step_mm: vector from one slice's first pixel to the next (oblique under gantry tilt).
    row_direction / column_direction: ImageOrientationPatient, unit vectors along i and j.
    origin_mm: ImagePositionPatient of slice 0, the centre of voxel (0, 0, 0).
    """

    voxels: np.ndarray
    pixel_spacing_mm: tuple[float, float] = (1.0, 1.0)
    slice_spacing_mm: float = 1.0
    origin_mm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    row_direction: np.ndarray = field(default_factory=lambda: np.array([1.0, 0.0, 0.0]))
    column_direction: np.ndarray = field(default_factory=lambda: np.array([0.0, 1.0, 0.0]))
    slice_step_mm: np.ndarray | None = None
    modality: str = ""
    photometric_interpretation: str = "MONOCHROME2"
    value_unit: str = ""  # "HU" on CT; empty where values have no fixed scale
    window_center: float | None = None
    window_width: float | None = None
    slices: list[SliceRef] = field(default_factory=list)
    series_instance_uid: str = ""
    study_instance_uid: str = ""
    frame_of_reference_uid: str = ""
    series_description: str = ""
    series_number: int | None = None
    body_part: str = ""  # BodyPartExamined (0018,0015) of the series
    slice_thickness_mm: float | None = None  # SliceThickness (0018,0050): reconstructed, not the spacing
    acquisition: Acquisition = field(default_factory=Acquisition)
    has_patient_geometry: bool = True  # False for radiographs and images without positions
    pixel_spacing_source: str = ""
    gantry_tilt_deg: float = 0.0
    warnings: list[str] = field(default_factory=list)
    slices_loaded: int = 0  # grows while a progressive load fills `voxels`

    def __post_init__(self) -> None:
        if self.slice_step_mm is None:
            self.slice_step_mm = self.normal * self.slice_spacing_mm
        self.origin_mm = np.asarray(self.origin_mm, dtype=float)
        self.slice_step_mm = np.asarray(self.slice_step_mm, dtype=float)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(slices, rows, columns)."""
        s = self.voxels.shape
        return (s[0], s[1], s[2])

    @property
    def is_rgb(self) -> bool:
        return self.voxels.ndim == 4

    @property
    def is_2d(self) -> bool:
        return self.voxels.shape[0] == 1

    @property
    def known_pixel_spacing_mm(self) -> tuple[float, float] | None:
        """The in-plane pixel spacing where the files give one, else None (sizes in mm unknown)."""
        if self.pixel_spacing_source or self.has_patient_geometry:
            return (float(self.pixel_spacing_mm[0]), float(self.pixel_spacing_mm[1]))
        return None

    @property
    def display_inverted(self) -> bool:
        """MONOCHROME1: the lowest value is white (many CR/DX images), so the display inverts."""
        return self.photometric_interpretation == "MONOCHROME1"

    @property
    def normal(self) -> np.ndarray:
        return slice_normal(np.concatenate([self.row_direction, self.column_direction]))

    @property
    def spacing_mm(self) -> tuple[float, float, float]:
        """(slice, row, column) spacing in mm, the order of the voxel axes."""
        return (self.slice_spacing_mm, self.pixel_spacing_mm[0], self.pixel_spacing_mm[1])

    @property
    def affine_lps(self) -> np.ndarray:
        """4x4 matrix taking (i=column, j=row, k=slice, 1) to LPS mm (the NIfTI-like order)."""
        a = np.eye(4)
        a[:3, 0] = self.row_direction * self.pixel_spacing_mm[1]
        a[:3, 1] = self.column_direction * self.pixel_spacing_mm[0]
        a[:3, 2] = self.slice_step_mm if self.shape[0] > 1 else self.normal * self.slice_spacing_mm
        a[:3, 3] = self.origin_mm
        return a

    def voxel_to_patient_mm(self, slice_row_col: np.ndarray) -> np.ndarray:
        """(..., 3) voxel indices in (slice, row, column) order -> (..., 3) LPS mm."""
        krc = np.asarray(slice_row_col, dtype=float)
        ijk = krc[..., ::-1]
        return ijk @ self.affine_lps[:3, :3].T + self.affine_lps[:3, 3]

    def patient_mm_to_voxel(self, points_lps_mm: np.ndarray) -> np.ndarray:
        """(..., 3) LPS mm -> (..., 3) fractional voxel indices in (slice, row, column) order."""
        p = np.asarray(points_lps_mm, dtype=float) - self.affine_lps[:3, 3]
        ijk = p @ np.linalg.inv(self.affine_lps[:3, :3]).T
        return ijk[..., ::-1]

    @property
    def nbytes(self) -> int:
        return int(self.voxels.nbytes)
