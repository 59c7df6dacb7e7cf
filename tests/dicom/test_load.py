import shutil

import numpy as np
import pydicom
import pytest

from radview.dicom.load import LoadError, iter_load, load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series
from tests.conftest import real_file


def _only_stack(path):
    series = scan_path(path, parallel=False).all_series()
    assert len(series) == 1
    stacks = split_series(series[0])
    assert len(stacks) == 1
    return stacks[0]


def _load(path):
    return load_stack(_only_stack(path))


def test_demo_ct_loads_in_hounsfield_units_where_the_truth_says(demo_study):
    import json

    truth = json.loads((demo_study / "ground-truth" / "ground-truth.json").read_text())["chest_ct"]
    v = _load(demo_study / "dicom" / "chest-ct")
    assert v.shape == (200, 512, 512) and v.voxels.dtype == np.int16
    assert v.value_unit == "HU"
    assert v.voxels[:, :5, :5].mean() == pytest.approx(-1000, abs=30)  # air in the corner
    assert v.pixel_spacing_mm == (truth["pixel_spacing_mm"],) * 2
    assert v.slice_spacing_mm == pytest.approx(truth["slice_spacing_mm"])
    for nodule in truth["nodules"]:
        if nodule["kind"] == "solid" and nodule["diameter_mm"] >= 6:
            k, r, c = np.round(v.patient_mm_to_voxel(nodule["centre_mm"])).astype(int)
            assert np.allclose((k, r, c), nodule["centre_voxel"], atol=0.6)
            assert -60 < v.voxels[k, r - 1 : r + 2, c - 1 : c + 2].mean() < 120  # soft tissue, not lung
    assert (v.window_center, v.window_width) == (-600, 1500)  # the first DICOM window: lung


def test_first_slice_is_ready_before_the_rest_and_equals_the_final_one(demo_study):
    stack = _only_stack(demo_study / "dicom" / "chest-ct")
    loads = iter_load(stack)
    first = next(loads)
    assert first.slices_loaded == 1
    slice0 = first.voxels[0].copy()
    for volume in loads:
        pass
    assert volume.slices_loaded == 200
    assert np.array_equal(volume.voxels[0], slice0)


def test_file_order_does_not_matter_positions_do(demo_study, tmp_path):
    folder = tmp_path / "shuffled"
    folder.mkdir()
    files = sorted((demo_study / "dicom" / "brain-mr").iterdir())
    rng = np.random.default_rng(1)
    for n, i in enumerate(rng.permutation(len(files))):
        shutil.copy(files[i], folder / f"x{n:03d}.dcm")
    a, b = _load(demo_study / "dicom" / "brain-mr"), _load(folder)
    assert np.array_equal(a.voxels, b.voxels)
    assert np.allclose(a.affine_lps, b.affine_lps)


def test_a_missing_slice_is_reported(demo_study, tmp_path):
    folder = tmp_path / "gap"
    shutil.copytree(demo_study / "dicom" / "brain-mr", folder)
    (folder / "IM0010").unlink()
    v = _load(folder)
    assert v.shape[0] == 35
    assert any("Irregular slice spacing" in w and "8.00 mm" in w for w in v.warnings)


def test_a_series_mixing_echoes_and_orientations_splits_into_stacks(demo_study, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for path in sorted((demo_study / "dicom" / "brain-mr").iterdir())[:10]:
        ds = pydicom.dcmread(path)
        ds.save_as(folder / path.name)
        ds.EchoNumbers = 2
        ds.SOPInstanceUID = ds.SOPInstanceUID + ".2"
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(folder / (path.name + "e2"))
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]  # a sagittal localiser in the same series
    ds.SOPInstanceUID = ds.SOPInstanceUID + ".3"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(folder / "localiser")
    stacks = split_series(scan_path(folder).all_series()[0])
    assert sorted(len(s.images) for s in stacks) == [1, 10, 10]
    assert {s.label for s in stacks if len(s.images) == 10} == {"echo 1", "echo 2"}


def test_repeated_acquisitions_split_by_acquisition_number(demo_study, tmp_path):
    folder = tmp_path / "dynamic"
    folder.mkdir()
    for path in sorted((demo_study / "dicom" / "brain-mr").iterdir())[:8]:
        for acquisition in (1, 2):
            ds = pydicom.dcmread(path)
            ds.AcquisitionNumber = acquisition
            ds.SOPInstanceUID = f"{ds.SOPInstanceUID}.{acquisition}"
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.save_as(folder / f"{path.name}_{acquisition}")
    stacks = split_series(scan_path(folder).all_series()[0])
    assert sorted(s.label for s in stacks) == ["acquisition 1", "acquisition 2"]
    assert all(len(s.images) == 8 for s in stacks)


def test_radiograph_spacing_and_monochrome1_from_a_real_philips_cr():
    v = _load(real_file("RG1_UNCI.dcm"))
    assert v.modality == "CR"
    assert v.photometric_interpretation == "MONOCHROME1" and v.display_inverted
    ds = pydicom.dcmread(real_file("RG1_UNCI.dcm"))
    assert np.array_equal(v.voxels[0], ds.pixel_array)
    assert v.is_2d and not v.has_patient_geometry


def test_demo_radiograph_uses_imager_pixel_spacing(demo_study):
    v = _load(demo_study / "dicom" / "chest-xray")
    assert v.shape == (1, 2000, 2000)
    assert v.pixel_spacing_source.startswith("ImagerPixelSpacing")
    assert any("detector" in w for w in v.warnings)


@pytest.mark.parametrize(
    "reference, variants",
    [
        ("MR_small.dcm", ["MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm",
                          "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm"]),
        # NEMA WG04 pairs: UNCR is the source of the reversible J2KR, UNCI the decoded lossy J2KI
        ("RG1_UNCR.dcm", ["RG1_J2KR.dcm"]),
        ("RG1_UNCI.dcm", ["RG1_J2KI.dcm"]),
        ("MR2_UNCR.dcm", ["MR2_J2KR.dcm"]),
        ("US1_UNCR.dcm", ["US1_J2KR.dcm"]),
        ("emri_small.dcm", ["emri_small_RLE.dcm", "emri_small_jpeg_2k_lossless.dcm", "emri_small_jpeg_ls_lossless.dcm",
                            "emri_small_big_endian.dcm"]),
    ],
)
def test_lossless_transfer_syntaxes_give_identical_voxels(reference, variants):
    expected = _load(real_file(reference))
    for name in variants:
        got = _load(real_file(name))
        assert np.array_equal(got.voxels, expected.voxels), name


def test_jpeg_lossless_baseline_and_deflate_decode():
    lossless = _load(real_file("JPGLosslessP14SV1_1s_1f_8b.dcm"))
    assert lossless.voxels.std() > 0
    rgb_jpeg = _load(real_file("SC_rgb_jpeg_dcmtk.dcm"))
    rgb_raw = _load(real_file("SC_rgb.dcm"))
    assert rgb_jpeg.is_rgb and rgb_jpeg.voxels.shape == rgb_raw.voxels.shape
    assert np.abs(rgb_jpeg.voxels.astype(int) - rgb_raw.voxels.astype(int)).mean() < 5  # lossy, close
    deflated = _load(real_file("image_dfl.dcm"))
    assert deflated.voxels.shape == (1, 512, 512)


def test_enhanced_multiframe_ct_frames_are_placed_by_their_functional_groups():
    v = _load(real_file("eCT_Supplemental.dcm"))
    ds = pydicom.dcmread(real_file("eCT_Supplemental.dcm"))
    positions = [f.PlanePositionSequence[0].ImagePositionPatient for f in ds.PerFrameFunctionalGroupsSequence]
    assert v.shape[0] == 2
    # rows run to -x here, so the normal (row x column) points to -z: slice 1 is the lower one
    assert np.allclose(v.normal, [0, 0, -1])
    upper, lower = sorted(positions, key=lambda p: -float(p[2]))
    assert np.allclose(v.voxel_to_patient_mm([0, 0, 0]), upper)  # z = -149
    assert np.allclose(v.voxel_to_patient_mm([1, 0, 0]), lower)  # z = -159
    assert v.slice_spacing_mm == pytest.approx(10.0)
    assert v.value_unit == "HU" and v.voxels.min() >= -1024


def test_a_truncated_pixel_file_is_skipped_by_the_scan_with_the_reason(demo_study, tmp_path):
    path = tmp_path / "cut"
    data = (demo_study / "dicom" / "brain-mr" / "IM0001").read_bytes()
    path.write_bytes(data[: len(data) - 5000])
    index = scan_path(path, parallel=False)
    assert not index.all_series() and index.skipped[0].path == str(path)
    assert "of pixel data but the file holds" in index.skipped[0].reason


def test_a_file_truncated_after_the_scan_is_a_clear_load_error(demo_study, tmp_path):
    path = tmp_path / "cut"
    data = (demo_study / "dicom" / "brain-mr" / "IM0001").read_bytes()
    path.write_bytes(data)
    stack = _only_stack(path)
    path.write_bytes(data[: len(data) - 5000])
    with pytest.raises(LoadError, match="cut: pixel data truncated"):
        load_stack(stack)
