"""Series whose images repeat positions, split into named volumes: an enhanced MR file's b-values,
gradient directions, time points and dimension indices, and classic cardiac phases."""

import nibabel as nib
import numpy as np
import pydicom

from radview.dicom.convert import convert_path
from radview.dicom.load import load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series
from tests.dicom.synthetic_mr import write_enhanced_mr
from tests.dicom.test_reference_readers import _dcm2niix

STACK_ID, IN_STACK_POSITION, B_VALUE = 0x00209056, 0x00209057, 0x00189087
FRAME_CONTENT, DIFFUSION = 0x00209111, 0x00189117
# frames stored slice by slice, out of position order, each slice with every volume
SLICE_ORDER = (2, 0, 3, 1)


def _stacks(folder):
    index = scan_path(folder, parallel=False)
    assert index.skipped == [], index.skipped
    return split_series(index.all_series()[0])


def _frames_of(pixels, frames, keep):
    """The pixels of the frames `keep` picks, in slice order."""
    chosen = [(frame["slice"], n) for n, frame in enumerate(frames) if keep(frame)]
    return pixels[[n for _slice, n in sorted(chosen)]]


def test_two_b_values_make_two_named_stacks_of_four_slices(tmp_path):
    frames = [{"slice": k, "b": b, "index": (1, k + 1, n + 1)} for k in SLICE_ORDER for n, b in enumerate((0, 1000))]
    pixels = write_enhanced_mr(tmp_path / "dicom" / "DWI", frames,
                               dimensions=[(STACK_ID, FRAME_CONTENT), (IN_STACK_POSITION, FRAME_CONTENT), (B_VALUE, DIFFUSION)])
    stacks = _stacks(tmp_path / "dicom")
    assert [(s.label, len(s.images)) for s in stacks] == [("b=0", 4), ("b=1000", 4)]
    assert [s.description for s in stacks] == ["DWI (b=0)", "DWI (b=1000)"]
    for stack, b in zip(stacks, (0, 1000)):
        volume = load_stack(stack)
        assert volume.acquisition.diffusion_b_value == b
        assert np.array_equal(volume.voxels, _frames_of(pixels, frames, lambda f, b=b: f["b"] == b))
        assert np.allclose([volume.voxel_to_patient_mm([k, 0, 0])[2] for k in range(4)], [10, 13, 16, 19])
        assert not volume.warnings
    # dcm2niix writes one 4D image (b-values in its .bval); RadView one image per b-value
    reference = nib.load(_dcm2niix(tmp_path / "dicom", tmp_path / "dcm2niix"))
    assert reference.shape == (5, 6, 4, 2)
    assert next((tmp_path / "dcm2niix").glob("*.bval")).read_text().split() == ["0", "1000"]
    written, errors = convert_path(tmp_path / "dicom", tmp_path / "radview")
    assert errors == [] and "DWI_b_0_" in written[0].name and "DWI_b_1000_" in written[1].name
    for t, path in enumerate(written):
        ours = nib.load(path)
        assert ours.shape == (5, 6, 4)
        assert np.allclose(ours.affine, reference.affine, atol=1e-4)
        assert np.array_equal(ours.get_fdata(), reference.get_fdata()[..., t])


def test_gradient_directions_of_one_b_value_are_numbered(tmp_path):
    volumes = [{"b": 0}, {"b": 1000, "direction": (1.0, 0.0, 0.0)}, {"b": 1000, "direction": (0.0, 0.7071, 0.7071)}]
    frames = [{"slice": k, **v} for k in SLICE_ORDER for v in volumes]
    pixels = write_enhanced_mr(tmp_path / "DTI", frames)
    stacks = _stacks(tmp_path)
    assert [s.label for s in stacks] == ["b=0", "b=1000, direction 1 of 2", "b=1000, direction 2 of 2"]
    expected = _frames_of(pixels, frames, lambda f: f.get("direction") == (0.0, 0.7071, 0.7071))
    assert np.array_equal(load_stack(stacks[2]).voxels, expected)


def test_time_points_are_named_with_their_trigger_delay(tmp_path):
    frames = [{"slice": k, "time": t, "trigger": 600.0 * (t - 1)} for k in SLICE_ORDER for t in (1, 2, 3)]
    pixels = write_enhanced_mr(tmp_path / "CINE", frames, description="CINE")
    stacks = _stacks(tmp_path)
    assert [s.label for s in stacks] == ["time point 1 (0 ms)", "time point 2 (600 ms)", "time point 3 (1200 ms)"]
    assert stacks[2].description == "CINE (time point 3 (1200 ms))"
    assert np.array_equal(load_stack(stacks[1]).voxels, _frames_of(pixels, frames, lambda f: f["time"] == 2))


def test_dimension_indices_alone_tell_volumes_apart(tmp_path):
    """A dimension RadView does not know (here a private attribute) still separates the volumes."""
    frames = [{"slice": k, "index": (k + 1, v)} for k in SLICE_ORDER for v in (1, 2)]
    pixels = write_enhanced_mr(tmp_path / "MF", frames, dimensions=[(IN_STACK_POSITION, FRAME_CONTENT), (0x20011003, 0x2005140F)])
    stacks = _stacks(tmp_path)
    assert [s.label for s in stacks] == ["volume 1 of 2", "volume 2 of 2"]
    assert np.array_equal(load_stack(stacks[1]).voxels, _frames_of(pixels, frames, lambda f: f["index"][1] == 2))
    assert not stacks[0].warnings


def _classic_series(demo_study, folder, volumes, edit):
    folder.mkdir()
    for path in sorted((demo_study / "dicom" / "brain-mr").iterdir())[:4]:
        for volume in range(1, volumes + 1):
            ds = pydicom.dcmread(path)
            edit(ds, volume)
            ds.SOPInstanceUID = f"{ds.SOPInstanceUID}.{volume}"
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.save_as(folder / f"{path.name}_{volume}")


def test_classic_cardiac_phases_split_by_trigger_time(demo_study, tmp_path):
    def edit(ds, volume):
        ds.TriggerTime = 40.0 * (volume - 1)

    _classic_series(demo_study, tmp_path / "cine", 3, edit)
    stacks = _stacks(tmp_path / "cine")
    assert [s.label for s in stacks] == ["time point 1 (0 ms)", "time point 2 (40 ms)", "time point 3 (80 ms)"]
    assert all(len(s.images) == 4 for s in stacks)


def test_a_trigger_time_that_differs_per_slice_does_not_make_one_image_volumes(demo_study, tmp_path):
    """Each image has its own trigger time (the slices of a multi-slice acquisition are triggered
    one after another): the two acquisitions still make two volumes of four slices."""
    def edit(ds, volume):
        ds.AcquisitionNumber = volume
        ds.TriggerTime = 10.0 * int(ds.InstanceNumber) + volume

    _classic_series(demo_study, tmp_path / "two", 2, edit)
    stacks = _stacks(tmp_path / "two")
    assert [(s.label, len(s.images)) for s in stacks] == [("acquisition 1", 4), ("acquisition 2", 4)]
