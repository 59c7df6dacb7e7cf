"""The NIfTI layout dcm2niix writes, so RadView's NIfTI files line up with dcm2niix's.

dcm2niix stores columns as NIfTI i, rows flipped as j (its first row is the DICOM's last) and
slices as k, with an sform in RAS (x and y of LPS negated). Pure numpy: used by the converter
and by the phantoms' ground-truth masks alike.
"""

from __future__ import annotations

import numpy as np

LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def to_nifti_layout(voxels_krc: np.ndarray, affine_lps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(slices, rows, cols) voxels and their (i, j, k)->LPS affine -> NIfTI (i, j, k) data, RAS affine.

    The row axis is flipped (j' = rows - 1 - j), as dcm2niix does, and the affine follows.
    """
    rows = voxels_krc.shape[1]
    data = np.transpose(voxels_krc[:, ::-1, ...], (2, 1, 0) + tuple(range(3, voxels_krc.ndim)))
    flip = np.eye(4)
    flip[1, 1] = -1.0
    flip[1, 3] = rows - 1
    affine = LPS_TO_RAS @ affine_lps @ flip
    return data, affine


def from_nifti_layout(data_ijk: np.ndarray) -> np.ndarray:
    """Undo to_nifti_layout's array layout: NIfTI (i, j, k) data -> (slices, rows, cols).

    Only for data on the same grid as the DICOM series (a mask RadView or dcm2niix wrote);
    data on another grid must be resampled through its affine instead.
    """
    return np.ascontiguousarray(np.transpose(data_ijk, (2, 1, 0) + tuple(range(3, data_ijk.ndim)))[:, ::-1, ...])
