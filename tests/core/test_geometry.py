import numpy as np
import pytest

from radview.core.geometry import analyse_stack, slice_normal
from radview.core.volume import Volume

AXIAL = (1, 0, 0, 0, 1, 0)


def _positions(z):
    return np.array([[-100.0, -120.0, zz] for zz in z])


def test_slices_sort_along_the_normal_whatever_the_file_order():
    z = np.array([10.0, 2.5, 5.0, 0.0, 7.5])
    g = analyse_stack(_positions(z), AXIAL)
    assert list(z[g.order]) == [0.0, 2.5, 5.0, 7.5, 10.0]
    assert g.slice_spacing_mm == pytest.approx(2.5)
    assert not g.warnings


def test_spacing_comes_from_positions_and_a_gap_is_reported():
    z = [0.0, 1.5, 3.0, 6.0, 7.5]  # one slice missing between 3.0 and 6.0
    g = analyse_stack(_positions(z), AXIAL, labels=[f"image {i + 1}" for i in range(5)])
    assert g.slice_spacing_mm == pytest.approx(1.5)
    assert g.irregular
    assert "3.00 mm between image 3 and image 4" in g.warnings[0]


def test_gantry_tilt_is_measured_from_the_positions():
    tilt = 15.0
    z = np.arange(10) * 2.0
    pos = np.stack([np.zeros(10), np.tan(np.radians(tilt)) * z, z], axis=1)
    g = analyse_stack(pos, AXIAL)
    assert g.tilt_deg == pytest.approx(tilt, abs=0.01)
    assert np.allclose(g.slice_step_mm, [0, np.tan(np.radians(tilt)) * 2, 2])
    assert any("Gantry tilt of 15.0 degrees" in w for w in g.warnings)


def test_sagittal_normal_follows_dicom_row_times_column():
    # rows along -y (anterior), columns along -z (inferior): normal = row x col
    assert np.allclose(slice_normal((0, 1, 0, 0, 0, -1)), [-1, 0, 0])
    with pytest.raises(ValueError):
        slice_normal((1, 0, 0, 1, 0, 0))


def test_voxel_and_patient_coordinates_round_trip_on_an_oblique_anisotropic_volume():
    c, s = np.cos(0.3), np.sin(0.3)
    v = Volume(
        voxels=np.zeros((4, 5, 6), np.int16), pixel_spacing_mm=(0.7, 0.9), slice_spacing_mm=3.0,
        origin_mm=np.array([10.0, -20.0, 30.0]), row_direction=np.array([c, s, 0.0]),
        column_direction=np.array([0.0, 0.0, -1.0]),
    )
    # voxel (slice 0, row 1, col 0) lies one row spacing along the column direction
    assert np.allclose(v.voxel_to_patient_mm([0, 1, 0]), [10, -20, 30 - 0.7])
    assert np.allclose(v.voxel_to_patient_mm([0, 0, 1]), [10 + 0.9 * c, -20 + 0.9 * s, 30])
    pts = np.array([[1.5, 2.0, 3.25], [3, 4, 5]])
    assert np.allclose(v.patient_mm_to_voxel(v.voxel_to_patient_mm(pts)), pts)
