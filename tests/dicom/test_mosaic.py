"""Siemens mosaics: cut into slices at the positions nibabel's MosaicWrapper and dcm2niix give them,
a series of mosaics split into named time points, and a bounded CSA header reader."""

import gzip
import struct
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from radview.dicom.convert import convert_path
from radview.dicom.csa import MAX_CSA_BYTES, CsaError, parse_csa
from radview.dicom.limits import MAX_MOSAIC_IMAGES
from radview.dicom.load import load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series
from tests.dicom.synthetic_mr import AXIAL, SAGITTAL, csa2, series_uids, write_mosaic
from tests.dicom.test_reference_readers import _dcm2niix


# Real Siemens files that nibabel ships with its tests (a runtime dependency of RadView)
NIBABEL_DATA = Path(nib.__file__).parent / "nicom" / "tests" / "data"


def _nibabel_file(name: str) -> bytes:
    path = NIBABEL_DATA / name
    if not path.is_file():
        raise FileNotFoundError(f"{name} is not among nibabel's installed test files ({NIBABEL_DATA})")
    data = path.read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def _stacks(folder):
    index = scan_path(folder, parallel=False)
    assert index.skipped == [], index.skipped
    return split_series(index.all_series()[0])


def _expected_positions(count, position, orientation, spacing, stored, tile, step, normal):
    """nibabel's MosaicWrapper.image_position, written out: the first slice moves half the
    difference between the mosaic and a tile along each in-plane direction, then one slice
    spacing along the normal per slice."""
    row_dir, col_dir = np.array(orientation[:3]), np.array(orientation[3:])
    first = (np.array(position) + col_dir * spacing[0] * (stored[0] - tile[0]) / 2
             + row_dir * spacing[1] * (stored[1] - tile[1]) / 2)
    return [first + k * step * np.array(normal) for k in range(count)]


@pytest.mark.filterwarnings("ignore:The DICOM readers are highly experimental")
def test_mosaic_slices_are_its_tiles_in_order_at_nibabels_positions(tmp_path):
    tiles = write_mosaic(tmp_path / "MOS1", series_uids())  # 9 tiles of 8x10 in a 3x3 grid: 24x30
    (stack,) = _stacks(tmp_path)
    assert len(stack.images) == 9 and stack.label == ""
    volume = load_stack(stack)
    assert volume.shape == (9, 8, 10)
    assert np.array_equal(volume.voxels, tiles)  # the normal is row x column: tile order is slice order
    # hand computed: (-100, -80, 20) + column dir * 2.0 * (24 - 8) / 2 + row dir * 2.5 * (30 - 10) / 2
    assert np.allclose(volume.origin_mm, [-75.0, -64.0, 20.0])
    expected = _expected_positions(9, (-100, -80, 20), AXIAL, (2.0, 2.5), (24, 30), (8, 10), 3.0, (0, 0, 1))
    for k in range(9):
        assert np.allclose(volume.voxel_to_patient_mm([k, 0, 0]), expected[k])
    assert volume.slice_spacing_mm == pytest.approx(3.0) and volume.pixel_spacing_mm == (2.0, 2.5)
    # and nibabel's own MosaicWrapper agrees (its affine maps (row, column, slice) to LPS)
    from nibabel.nicom.dicomwrappers import wrapper_from_file

    wrapper = wrapper_from_file(str(tmp_path / "MOS1"))
    assert wrapper.is_mosaic
    assert np.allclose(wrapper.affine[:3, 3], expected[0])
    assert np.allclose(wrapper.affine[:3, 2], [0, 0, 3.0])


def test_a_csa_normal_against_row_x_column_reverses_the_slice_order(tmp_path):
    """Sagittal: row x column points to -x, the CSA slice normal to +x, so tile k lies k * 3 mm
    towards +x; the volume runs along row x column, so its first slice is the last tile."""
    tiles = write_mosaic(tmp_path / "MOS1", series_uids(), count=7, orientation=SAGITTAL, csa_normal=(1.0, 0.0, 0.0))
    volume = load_stack(_stacks(tmp_path)[0])
    assert np.array_equal(volume.voxels, tiles[::-1])
    expected = _expected_positions(7, (-100, -80, 20), SAGITTAL, (2.0, 2.5), (24, 30), (8, 10), 3.0, (1, 0, 0))
    for k in range(7):
        assert np.allclose(volume.voxel_to_patient_mm([6 - k, 0, 0]), expected[k])


@pytest.mark.parametrize("orientation, csa_normal, count", [
    (AXIAL, (0.0, 0.0, 1.0), 9),
    (SAGITTAL, (1.0, 0.0, 0.0), 7),  # the CSA normal against row x column
    (SAGITTAL, (-1.0, 0.0, 0.0), 7),
])
def test_converted_mosaics_match_dcm2niix(tmp_path, orientation, csa_normal, count):
    """Two mosaic files (two time points): dcm2niix writes one 4D NIfTI, RadView one NIfTI per time
    point. Where the CSA normal runs against row x column, dcm2niix keeps the tiles' order and RadView
    orders along row x column: the same voxels at the same places, so the images agree once both are
    in the closest canonical orientation."""
    uids = series_uids()
    for volume in (1, 2):
        write_mosaic(tmp_path / "dicom" / f"MOS{volume}", uids, count=count, orientation=orientation,
                     csa_normal=csa_normal, volume=volume)
    reference = nib.load(_dcm2niix(tmp_path / "dicom", tmp_path / "dcm2niix"))
    assert reference.shape == (10, 8, count, 2)
    written, errors = convert_path(tmp_path / "dicom", tmp_path / "radview")
    assert errors == [] and len(written) == 2
    agrees_directly = np.dot(np.cross(orientation[:3], orientation[3:]), csa_normal) > 0
    for t, path in enumerate(written):
        ours, theirs = nib.load(path), reference.slicer[..., t]
        assert "time_point_%d_of_2" % (t + 1) in path.name
        if agrees_directly:
            assert ours.shape == theirs.shape
            assert np.allclose(ours.affine, theirs.affine, atol=1e-4)
            assert np.array_equal(ours.get_fdata(), theirs.get_fdata())
        ours, theirs = nib.as_closest_canonical(ours), nib.as_closest_canonical(theirs)
        assert ours.shape == theirs.shape
        assert np.allclose(ours.affine, theirs.affine, atol=1e-4)
        assert np.array_equal(ours.get_fdata(), theirs.get_fdata())


def test_a_series_of_mosaics_is_one_named_stack_per_time_point(tmp_path):
    uids = series_uids()
    tiles = {v: write_mosaic(tmp_path / f"MOS{v}", uids, volume=v) for v in (3, 1, 2)}
    stacks = _stacks(tmp_path)
    assert [s.label for s in stacks] == ["time point 1 of 3", "time point 2 of 3", "time point 3 of 3"]
    assert stacks[1].description == "ep2d_bold (time point 2 of 3)"
    for n, stack in enumerate(stacks, 1):
        assert np.array_equal(load_stack(stack).voxels, tiles[n])
        assert not stack.warnings


def test_diffusion_mosaics_are_named_by_b_value_and_direction(tmp_path):
    uids = series_uids()
    write_mosaic(tmp_path / "MOS1", uids, volume=1, b_value=0)
    write_mosaic(tmp_path / "MOS2", uids, volume=2, b_value=1000, direction=(1.0, 0.0, 0.0))
    write_mosaic(tmp_path / "MOS3", uids, volume=3, b_value=1000, direction=(0.0, 1.0, 0.0))
    stacks = _stacks(tmp_path)
    assert [s.label for s in stacks] == ["b=0", "b=1000, direction 1 of 2", "b=1000, direction 2 of 2"]
    assert load_stack(stacks[2]).acquisition.diffusion_b_value == 1000


def test_the_private_count_serves_when_there_is_no_csa_header(tmp_path):
    """(0019,xx0A) NumberOfImagesInMosaic and no CSA header: the normal is row x column (as nibabel's
    wrapper falls back to); dcm2niix reads the same file the same way."""
    tiles = write_mosaic(tmp_path / "dicom" / "MOS1", series_uids(), csa=b"", private_count=9)
    volume = load_stack(_stacks(tmp_path / "dicom")[0])
    assert np.array_equal(volume.voxels, tiles)
    assert np.allclose(volume.origin_mm, [-75.0, -64.0, 20.0])
    reference = nib.load(_dcm2niix(tmp_path / "dicom", tmp_path / "dcm2niix"))
    written, errors = convert_path(tmp_path / "dicom", tmp_path / "radview")
    assert errors == []
    ours = nib.load(written[0])
    assert ours.shape == reference.shape == (10, 8, 9)
    assert np.allclose(ours.affine, reference.affine, atol=1e-4)
    assert np.array_equal(ours.get_fdata(), reference.get_fdata())


def _skipped_reason(folder):
    index = scan_path(folder, parallel=False)
    assert not index.all_series() and len(index.skipped) == 1
    return index.skipped[0].reason


@pytest.mark.parametrize("count, problem", [
    (MAX_MOSAIC_IMAGES + 1, f"1 to {MAX_MOSAIC_IMAGES} are supported"),
    (10, "needs a 4x4 grid of tiles, which does not divide its 24x30 pixels"),
])
def test_a_mosaic_beyond_the_limits_is_skipped_with_the_reason(tmp_path, count, problem):
    write_mosaic(tmp_path / "MOS1", series_uids(), csa=csa2({"NumberOfImagesInMosaic": ("US", [str(count)])}))
    assert problem in _skipped_reason(tmp_path)


def test_a_mosaic_whose_csa_normal_leaves_the_plane_is_skipped(tmp_path):
    write_mosaic(tmp_path / "MOS1", series_uids(), csa_normal=(1.0, 0.0, 0.0))
    assert "not perpendicular to the image plane" in _skipped_reason(tmp_path)


def _header(tags: int, items: int = 0, item_length: int = 4) -> bytes:
    blob = b"SV10\x04\x03\x02\x01" + struct.pack("<2I", tags, 77)
    blob += struct.pack("<64si4s3i", b"NumberOfImagesInMosaic", 1, b"US", 0, items, 77)
    return blob + struct.pack("<4i", item_length, item_length, 77, item_length) + b"9\x00\x00\x00"


@pytest.mark.parametrize("blob, problem", [
    (_header(tags=0xFFFFFFFF, items=1), "declares 4294967295 tags"),
    (_header(tags=1, items=0x7FFFFFFF), "declares 2147483647 items"),
    (_header(tags=1, items=1, item_length=0x7FFFFFF0), "truncated or corrupt"),
    (_header(tags=3, items=1), "ends inside tag 1"),
    (b"SV10\x04\x03", "ends inside the tag count"),
    (b"SV10" + bytes(MAX_CSA_BYTES), "over the 1048576 byte limit"),
])
def test_the_csa_reader_refuses_forged_counts_naming_the_file(blob, problem):
    with pytest.raises(CsaError, match="IM0001: Siemens CSA header") as error:
        parse_csa(blob, "/data/IM0001")
    assert problem in str(error.value)


def test_the_csa_reader_reads_what_it_is_given():
    header = parse_csa(csa2({"NumberOfImagesInMosaic": ("US", ["36"]), "SliceNormalVector": ("FD", ["0", "-0.5", "0.866"]),
                             "B_value": ("IS", [])}), "x")
    assert header.number("NumberOfImagesInMosaic") == 36
    assert header.numbers("SliceNormalVector", 3) == (0.0, -0.5, 0.866)
    assert header.number("B_value") is None and header.number("Missing") is None
    assert parse_csa(_header(tags=1, items=1), "x").number("NumberOfImagesInMosaic") == 9


@pytest.mark.parametrize("blob, reason", [
    (_header(tags=50, items=1), "Siemens mosaic: ends inside tag 1"),
    # refused from the element's length, before its value is read
    (b"SV10" + bytes(MAX_CSA_BYTES), f"Siemens mosaic: {MAX_CSA_BYTES + 4} bytes, over the {MAX_CSA_BYTES} byte limit"),
])
def test_a_corrupt_csa_header_skips_the_mosaic_with_the_reason(tmp_path, blob, reason):
    write_mosaic(tmp_path / "MOS1", series_uids(), csa=blob)
    assert _skipped_reason(tmp_path).startswith(reason)


def test_a_seg_over_mosaic_slices_is_refused_and_sr_points_into_the_mosaic(tmp_path):
    from radview.dicom.results.common import ResultWriteError, source_headers
    from radview.dicom.results.segmentation import _frame_label_map

    write_mosaic(tmp_path / "MOS1", series_uids())
    volume = load_stack(_stacks(tmp_path)[0])
    assert [s.tile_origin for s in volume.slices[:4]] == [(0, 0), (0, 10), (0, 20), (8, 0)]
    with pytest.raises(ResultWriteError, match="Siemens mosaic"):
        _frame_label_map(volume, source_headers(volume), np.zeros(volume.shape, np.uint8))


@pytest.mark.parametrize("name", ["csa2_b0.bin", "csa2_b1000.bin", "csa_str_valid.bin", "csa2_zero_len.bin.gz"])
def test_the_csa_reader_agrees_with_nibabels_on_real_siemens_headers(name):
    from nibabel.nicom import csareader

    blob = _nibabel_file(name)
    reference, ours = csareader.read(blob), parse_csa(blob, name)
    assert set(ours.tags) == set(reference["tags"])
    for tag, value in reference["tags"].items():
        items = [str(v).strip() for v in value["items"] if str(v).strip()]
        try:
            assert np.allclose([float(v) for v in items], [float(v) for v in ours.values(tag)]), tag
        except ValueError:
            assert list(ours.values(tag)) == items, tag
    if name.startswith("csa2_b"):
        assert ours.number("NumberOfImagesInMosaic") == 48
        assert ours.numbers("SliceNormalVector", 3) == pytest.approx((0.0, 0.00523632, 0.99998629))


def test_the_csa_reader_refuses_a_real_header_with_too_many_items():
    with pytest.raises(CsaError, match="declares 1001 items"):  # nibabel refuses it too
        parse_csa(_nibabel_file("csa_str_1001n_items.bin"), "csa_str_1001n_items.bin")


def test_real_siemens_dti_mosaics_match_dcm2niix(tmp_path):
    """Two real Siemens DTI mosaics (48 slices of 128x128 in 896x896, b=0 and b=1000, slightly oblique):
    the same volumes, geometry and voxels as dcm2niix's 4D image, one named stack per b-value."""
    for name in ("siemens_dwi_0", "siemens_dwi_1000"):
        (tmp_path / "dicom").mkdir(exist_ok=True)
        (tmp_path / "dicom" / f"{name}.dcm").write_bytes(_nibabel_file(f"{name}.dcm.gz"))
    assert [(s.label, len(s.images)) for s in _stacks(tmp_path / "dicom")] == [("b=0", 48), ("b=1000", 48)]
    reference = nib.load(_dcm2niix(tmp_path / "dicom", tmp_path / "dcm2niix"))
    assert reference.shape == (128, 128, 48, 2)
    written, errors = convert_path(tmp_path / "dicom", tmp_path / "radview")
    assert errors == [] and len(written) == 2
    for t, path in enumerate(written):
        ours = nib.load(path)
        assert ours.shape == (128, 128, 48)
        assert np.allclose(ours.affine, reference.affine, atol=1e-3)  # dcm2niix computes in single precision
        assert np.array_equal(ours.get_fdata(), reference.get_fdata()[..., t])
