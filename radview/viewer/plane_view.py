"""One plane of a volume as a view shows it, without Qt: the slice shown, the slab MIP, and the
maps between view mm (the screen's right and down, in mm), display pixels, voxels and patient mm.

A SliceView (radview.gui.slice_view) draws a PlaneView; tests and tools use the same math headless.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from radview.core.measurements import Measurement
from radview.core.overlays import Marker, MarkerLayer
from radview.core.planes import Plane, PlaneLayout, plane_layout
from radview.core.volume import Volume


@dataclass
class PlaneView:
    """The plane a view shows (slab_mm > 0: a maximum intensity projection that thick)."""

    plane: Plane = Plane.AXIAL
    slab_mm: float = 0.0
    volume: Volume | None = None
    layout: PlaneLayout | None = None
    index: int = 0
    to_mm: np.ndarray = field(default_factory=lambda: np.eye(2))  # display pixels -> view mm
    from_mm: np.ndarray = field(default_factory=lambda: np.eye(2))

    def set_volume(self, volume: Volume) -> None:
        """Show `volume`; starts on its first axial slice, or the middle of a reformat."""
        self.volume = volume
        self.layout = plane_layout(volume, self.plane)
        self.to_mm = self.layout.display_to_plane_mm()
        self.from_mm = np.linalg.inv(self.to_mm)
        self.index = 0 if self.plane is Plane.AXIAL else self.layout.slice_count // 2

    @property
    def slice_count(self) -> int:
        return self.layout.slice_count if self.layout else 0

    def clipped(self, index: int) -> int:
        """`index` within the plane's slices."""
        return int(np.clip(index, 0, max(self.slice_count - 1, 0)))

    # ----- coordinates ----------------------------------------------------------------------------
    def view_to_voxel(self, x_mm: float, y_mm: float, index: float | None = None) -> np.ndarray:
        """View mm (x, y) on this plane's slice -> fractional voxel (k, j, i)."""
        dx, dy = self.from_mm @ np.array([x_mm, y_mm])
        return self.layout.display_to_voxel(dx, dy, self.index if index is None else index)

    def view_to_lps(self, x_mm: float, y_mm: float) -> np.ndarray:
        return self.volume.voxel_to_patient_mm(self.view_to_voxel(x_mm, y_mm))

    def lps_to_view(self, point_lps_mm: np.ndarray) -> tuple[float, float, float]:
        """LPS mm -> (x mm, y mm, fractional slice index) in this view."""
        dx, dy, depth = self.layout.voxel_to_display(self.volume.patient_mm_to_voxel(point_lps_mm))
        x, y = self.to_mm @ np.array([dx, dy])
        return float(x), float(y), depth

    def slice_through(self, point_lps_mm: np.ndarray) -> int:
        """The index of this plane's slice through a patient point."""
        voxel = self.volume.patient_mm_to_voxel(np.asarray(point_lps_mm, float))
        return self.clipped(int(np.rint(voxel[self.layout.fixed_axis])))

    def in_plane(self, depth: float, tolerance_slices: float = 0.5) -> bool:
        return abs(depth - self.index) <= tolerance_slices

    def fit_range_mm(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The view mm x and y ranges that hold the whole slice."""
        rows, cols = self.layout.display_shape
        corners = self.to_mm @ np.array([[0, cols, 0, cols], [0, 0, rows, rows]], float)
        return (corners[0].min(), corners[0].max()), (corners[1].min(), corners[1].max())

    def mm_per_image_pixel(self) -> float:
        """In-plane mm of one displayed image pixel along the screen's x."""
        return float(np.linalg.norm(self.to_mm[:, 0]))

    def location_mm(self) -> float | None:
        """The slice's position along the plane's normal (the "Loc" a scanner prints), or None."""
        if not self.volume.has_patient_geometry:
            return None
        centre = self.volume.voxel_to_patient_mm(self.layout.display_to_voxel(0.5, 0.5, self.index))
        return float(centre @ self.layout.normal)

    def cursor_readout(self, x_mm: float, y_mm: float, unit: str = "") -> str | None:
        """The voxel under a view point, its value and patient position; None outside the volume."""
        k, j, i = (int(np.floor(c + 0.5)) for c in self.view_to_voxel(x_mm, y_mm))
        volume = self.volume
        if not (0 <= k < volume.shape[0] and 0 <= j < volume.shape[1] and 0 <= i < volume.shape[2]):
            return None
        value = volume.voxels[k, j, i]
        value_text = f"{value.tolist()}" if volume.is_rgb else f"{float(value):.0f}{' ' + unit if unit else ''}"
        text = f"[{i}, {j}, {k}]  {value_text}"
        if volume.has_patient_geometry:
            x, y, z = volume.voxel_to_patient_mm(np.array([k, j, i], float))
            text += f"\n({x:.1f}, {y:.1f}, {z:.1f}) mm LPS"
        return text

    # ----- what the slice shows -------------------------------------------------------------------
    def display_image(self) -> np.ndarray:
        """The 2D array now shown (rows, cols): a view of the volume, or a slab MIP."""
        voxels = self.volume.voxels
        if self.slab_mm <= 0 or self.slice_count < 2:
            return self.layout.display_slice(voxels, self.index)
        half = int(round(self.slab_mm / 2 / self.volume.spacing_mm[self.layout.fixed_axis]))
        lo, hi = max(0, self.index - half), min(self.slice_count, self.index + half + 1)
        slab = np.take(voxels, np.arange(lo, hi), axis=self.layout.fixed_axis)
        single = PlaneLayout(**{**self.layout.__dict__, "shape": slab.shape[:3]})
        return np.max(np.stack([single.display_slice(slab, k) for k in range(hi - lo)]), axis=0)

    def markers_shown(self, layers: list[MarkerLayer]) -> list[tuple[Marker, float, float]]:
        """The visible layers' markers within their size of this slice, with their view mm."""
        shown = []
        slice_mm = self.volume.spacing_mm[self.layout.fixed_axis]
        for layer in layers:
            if not layer.visible:
                continue
            for marker in layer.markers:
                x, y, depth = self.lps_to_view(marker.centre_lps_mm)
                if self.in_plane(depth, marker.size_mm / 2 / slice_mm + 0.5):
                    shown.append((marker, x, y))
        return shown

    def measurements_shown(self, measurements: list[Measurement]) -> dict[int, tuple[Measurement, np.ndarray]]:
        """The measurements drawn on this slice, with their points in view mm."""
        shown = {}
        for m in measurements:
            view = np.array([self.lps_to_view(p) for p in m.points_lps_mm])
            if all(self.in_plane(d) for d in view[:, 2]):
                shown[m.id] = (m, view[:, :2])
        return shown
