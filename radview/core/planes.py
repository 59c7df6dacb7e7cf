"""How a volume is cut into the three viewing planes and laid on the screen.

A plane holds one voxel axis fixed; the other two become the screen's horizontal and vertical
axes. Which voxel axis a plane fixes comes from the direction cosines (ImageOrientationPatient),
so a sagittal MR acquisition still shows as sagittal in the "sagittal" view. Screens follow the
radiological convention: axial and coronal show the patient's left on the right of the screen,
sagittal shows anterior on the left; the head is up on coronal and sagittal, anterior up on axial.

Display coordinates (x, y) are continuous positions in the displayed 2D array: pixel (col, row)
covers [col, col+1) x [row, row+1), its centre at (col + 0.5, row + 0.5). The displayed array is a
numpy view of the volume (transposed or flipped, never copied).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import Enum

import numpy as np

from radview.core.volume import Volume


class Plane(str, Enum):
    AXIAL = "axial"
    CORONAL = "coronal"
    SAGITTAL = "sagittal"


# Patient (LPS) direction of the plane's normal, the screen's right, and the screen's down.
_LPS = {"L": (1, 0, 0), "R": (-1, 0, 0), "P": (0, 1, 0), "A": (0, -1, 0), "S": (0, 0, 1), "I": (0, 0, -1)}
_LAYOUT = {
    Plane.AXIAL: ("S", "L", "P"),
    Plane.CORONAL: ("P", "L", "I"),
    Plane.SAGITTAL: ("L", "P", "I"),
}


def orientation_label(direction_lps: np.ndarray, tolerance: float = 0.2) -> str:
    """Letters for a patient direction, strongest first: (0.9, -0.4, 0) -> "LA".

    Components under `tolerance` are left out, so a slightly oblique axis reads as one letter.
    """
    letters = []
    for axis in np.argsort(-np.abs(direction_lps)):
        value = direction_lps[axis]
        if abs(value) < tolerance:
            break
        letters.append("LPS"[axis] if value > 0 else "RAI"[axis])
    return "".join(letters)


@dataclass(frozen=True)
class PlaneLayout:
    """One plane of one volume: which voxel axes go where on the screen, and their geometry.

    Voxel axes are 0 slice (k), 1 row (j), 2 column (i). `flip_x`/`flip_y` reverse an axis so the
    screen follows the radiological convention.
    """

    plane: Plane
    fixed_axis: int
    x_axis: int
    y_axis: int
    flip_x: bool
    flip_y: bool
    shape: tuple[int, int, int]
    axis_vectors_mm: np.ndarray  # (3, 3): row a = LPS step of voxel axis a, (k, j, i) order

    @property
    def slice_count(self) -> int:
        return self.shape[self.fixed_axis]

    @property
    def display_shape(self) -> tuple[int, int]:
        """(rows, cols) of the displayed 2D array."""
        return self.shape[self.y_axis], self.shape[self.x_axis]

    def display_slice(self, voxels: np.ndarray, index: int) -> np.ndarray:
        """The 2D (rows, cols) image of slice `index` of this plane: a numpy view, no copy."""
        take = [slice(None)] * 3
        take[self.fixed_axis] = index
        image = voxels[tuple(take)]
        # the two remaining axes keep their voxel order; put y first
        if self.y_axis > self.x_axis:
            image = image.swapaxes(0, 1)
        if self.flip_y:
            image = image[::-1]
        if self.flip_x:
            image = image[:, ::-1]
        return image

    def display_to_voxel(self, x: float, y: float, index: float) -> np.ndarray:
        """Display position (x, y) on slice `index` -> fractional voxel (k, j, i) of the centre grid."""
        out = np.empty(3)
        col = x - 0.5
        row = y - 0.5
        out[self.x_axis] = (self.shape[self.x_axis] - 1 - col) if self.flip_x else col
        out[self.y_axis] = (self.shape[self.y_axis] - 1 - row) if self.flip_y else row
        out[self.fixed_axis] = index
        return out

    def voxel_to_display(self, voxel: np.ndarray) -> tuple[float, float, float]:
        """Fractional voxel (k, j, i) -> (x, y, slice index) of this plane."""
        v = np.asarray(voxel, dtype=float)
        col = (self.shape[self.x_axis] - 1 - v[self.x_axis]) if self.flip_x else v[self.x_axis]
        row = (self.shape[self.y_axis] - 1 - v[self.y_axis]) if self.flip_y else v[self.y_axis]
        return col + 0.5, row + 0.5, float(v[self.fixed_axis])

    def _screen_vectors_mm(self) -> tuple[np.ndarray, np.ndarray]:
        """LPS mm of one display step right (+x) and one step down (+y)."""
        vx = self.axis_vectors_mm[self.x_axis] * (-1 if self.flip_x else 1)
        vy = self.axis_vectors_mm[self.y_axis] * (-1 if self.flip_y else 1)
        return vx, vy

    def display_to_plane_mm(self) -> np.ndarray:
        """2x2 matrix taking a display step (dx, dy) to in-plane mm (right, down), exact in any plane.

        The plane basis is orthonormal: `right` along the displayed x axis, `down` the part of the
        y axis orthogonal to it. A gantry-tilted stack gives a shear; non-square pixels a scale.
        """
        vx, vy = self._screen_vectors_mm()
        right = vx / np.linalg.norm(vx)
        down = vy - (vy @ right) * right
        down_norm = np.linalg.norm(down)
        down = down / down_norm if down_norm > 0 else np.cross(self.normal, right)
        return np.array([[vx @ right, vy @ right], [vx @ down, vy @ down]])

    @property
    def normal(self) -> np.ndarray:
        n = self.axis_vectors_mm[self.fixed_axis]
        return n / np.linalg.norm(n)

    def edge_labels(self) -> dict[str, str]:
        """Orientation letters at the screen's left, right, top and bottom edges."""
        vx, vy = self._screen_vectors_mm()
        right = orientation_label(vx / np.linalg.norm(vx))
        down = orientation_label(vy / np.linalg.norm(vy))
        return {"right": right, "left": _opposite(right), "bottom": down, "top": _opposite(down)}


def _opposite(label: str) -> str:
    swap = {"L": "R", "R": "L", "A": "P", "P": "A", "S": "I", "I": "S"}
    return "".join(swap[c] for c in label)


def axis_vectors_mm(volume: Volume) -> np.ndarray:
    """(3, 3) LPS mm step of one voxel along the (slice, row, column) axes."""
    a = volume.affine_lps
    return np.array([a[:3, 2], a[:3, 1], a[:3, 0]])


def plane_layout(volume: Volume, plane: Plane) -> PlaneLayout:
    """Lay `plane` of `volume` out on the screen (see the module docstring for the convention).

    Images without patient geometry (most radiographs) show as stored, whatever the plane.
    """
    vectors = axis_vectors_mm(volume)
    if not volume.has_patient_geometry:
        return PlaneLayout(plane, 0, 2, 1, False, False, volume.shape, vectors)
    units = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    normal_dir, right_dir, down_dir = (np.array(_LPS[c], float) for c in _LAYOUT[plane])
    fixed = _fixed_axes(units)[plane]
    # of the two other axes, the one closest to the screen's right goes horizontal
    rest = [a for a in range(3) if a != fixed]
    x_axis = max(rest, key=lambda a: abs(units[a] @ right_dir))
    y_axis = rest[0] if rest[1] == x_axis else rest[1]
    return PlaneLayout(
        plane=plane,
        fixed_axis=fixed,
        x_axis=x_axis,
        y_axis=y_axis,
        flip_x=bool(units[x_axis] @ right_dir < 0),
        flip_y=bool(units[y_axis] @ down_dir < 0),
        shape=volume.shape,
        axis_vectors_mm=vectors,
    )


def _fixed_axes(units: np.ndarray) -> dict[Plane, int]:
    """Give each plane the voxel axis closest to its normal, each axis to one plane only.

    Choosing per plane could give two planes the same axis on a 45-degree oblique stack; the
    best one-to-one assignment cannot.
    """
    planes = list(Plane)
    normals = np.array([_LPS[_LAYOUT[p][0]] for p in planes], float)
    fit = np.abs(normals @ units.T)  # (plane, axis)
    best = max(itertools.permutations(range(3)), key=lambda axes: sum(fit[p, a] for p, a in enumerate(axes)))
    return dict(zip(planes, best, strict=True))

