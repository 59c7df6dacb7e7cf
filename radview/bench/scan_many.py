"""The header scan of a study of many files: 3,000 small CT images in 10 series, against `cat`.

Small images (64x64) keep the folder at about 30 MB, so the time is the per-file cost a scan
pays (open, parse, group), which is what grows with a study's file count.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np


def write_many_series(folder: Path, series: int = 10, slices: int = 300, size: int = 64) -> list[Path]:
    """`series` axial CT series of `slices` files each, one patient and study; returns the files."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    study_uid, frame_uid = generate_uid(), generate_uid()
    pixels = (np.arange(size * size, dtype=np.int16).reshape(size, size) % 400).tobytes()
    files = []
    for s in range(series):
        series_uid = generate_uid()
        target = folder / f"series-{s:02d}"
        target.mkdir(parents=True)
        for k in range(slices):
            meta = FileMetaDataset()
            meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
            ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = "Bench^Many", "BENCH-3000", "19600101", "O"
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
            ds.StudyDate, ds.StudyTime, ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "20260101", "120000", "CT", s + 1, k + 1
            ds.SeriesDescription = f"bench series {s + 1}"
            ds.ImagePositionPatient = [-160.0, -160.0, -k * 1.25]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.PixelSpacing, ds.SliceThickness = [5.0, 5.0], 1.25
            ds.Rows = ds.Columns = size
            ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
            ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
            ds.PixelData = pixels
            path = target / f"{k + 1:04d}.dcm"
            pydicom.dcmwrite(path, ds, enforce_file_format=True)
            files.append(path)
    return files


def scan_many_files(rounds: int = 3, series: int = 10, slices: int = 300) -> dict:
    """Median seconds to scan the folder with no header cache, with a warm one, and to `cat` it."""
    from radview.dicom.header_cache import HeaderCache
    from radview.dicom.scan import scan_path

    with tempfile.TemporaryDirectory(prefix="radview-bench-many-") as tmp:
        folder = Path(tmp) / "study"
        files = write_many_series(folder, series, slices)
        cache = HeaderCache(Path(tmp) / "headers.sqlite")

        def timed(fn) -> float:
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                fn()
                times.append(time.perf_counter() - start)
            return round(statistics.median(times), 3)

        cat = timed(lambda: subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True))
        found = scan_path(folder, cache=cache)  # also fills the cache
        result = {
            "files": len(files),
            "series": len(found.all_series()),
            "cat_s": cat,
            "scan_s": timed(lambda: scan_path(folder)),
            "scan_cached_s": timed(lambda: scan_path(folder, cache=cache)),
        }
        cache.close()
    return result
