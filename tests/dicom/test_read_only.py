import hashlib
import os

from radview.dicom.convert import convert_path
from radview.dicom.load import load_stack
from radview.dicom.scan import scan_path
from radview.dicom.stacks import split_series


def _fingerprint(folder):
    return {
        p: (hashlib.sha256(open(p, "rb").read()).hexdigest(), os.stat(p).st_mtime_ns)
        for p in sorted(str(f) for f in folder.rglob("*") if f.is_file())
    }


def test_scan_load_and_convert_never_modify_the_source(demo_study, tmp_path):
    source = demo_study / "dicom"
    before = _fingerprint(source)
    index = scan_path(source)
    for series in index.all_series():
        for stack in split_series(series):
            load_stack(stack)
    convert_path(source, tmp_path / "nifti")
    assert _fingerprint(source) == before
    assert not any((tmp_path / "nifti").glob("*.dcm"))
