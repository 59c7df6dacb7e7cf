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
    """`series` axial CT series of `slices` files each, one synthetic patient and study; returns the files."""
    from radview.demo.dicom_writer import ct_template, write_ct_slices
    from radview.demo.identity import synthetic_patient

    patient = synthetic_patient(3000)
    hu = np.broadcast_to((np.arange(size * size, dtype=np.int16).reshape(size, size) % 400) - 1024, (slices, size, size))
    files = []
    for s in range(series):
        template = ct_template(patient, "bench-many", s + 1, f"bench series {s + 1}", "CT CHEST", "CHEST", 5.0, 1.25)
        files += write_ct_slices(template, hu, (-160.0, -160.0, 0.0), 1.25, folder / f"series-{s + 1:02d}", patient,
                                 "bench-many")
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
