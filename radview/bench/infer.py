"""`radview bench infer`: each shipped model on a series of a study it is made for, end to end
against the bare network in the same run (target: overhead at most 1.25x).

The series are read from DICOM files, as a reader opens them: the demo study (written to a
temporary folder) unless a folder is named. So the radiograph arrives at its detector's size
(2000 x 2000, 12-bit) and the run resamples it to the model's 0.7 mm grid, as in use; the
training phantom (512 x 512 floats on that grid already) would leave that cost out.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TARGET_OVERHEAD = 1.25


def run_infer_bench(rounds: int = 3, device: str = "auto", study: Path | None = None) -> dict:
    """Time every shipped model on the first series of `study` (default: the demo study, seed 0,
    which no training used) that meets its input rules; a model with none is listed as skipped."""
    from radview.ai.benchmark import time_model
    from radview.ai.input_spec import input_mismatches
    from radview.ai.registry import find_models

    cards, _ = find_models()
    with tempfile.TemporaryDirectory() as scratch:
        if study is None:
            from radview.demo.writer import write_demo_studies

            study_name = "the demo study (seed 0), written as DICOM"
            write_demo_studies(Path(scratch), seed=0)
            study = Path(scratch) / "dicom"
        else:
            study_name = str(study)
        volumes = _series_volumes(Path(study))
        rows = []
        for card in sorted((c for c in cards if not c.is_bundle), key=lambda c: c.id):
            volume = next((v for v in volumes if not input_mismatches(card, v)), None)
            if volume is None:
                rows.append({"model": card.id, "skipped": "no series of the study meets its input rules"})
                continue
            rows.append({**time_model(card, volume, rounds, device), "series": volume.series_description})
    return {"cpu_count": os.cpu_count(), "target_overhead": TARGET_OVERHEAD, "study": study_name, "models": rows}


def _series_volumes(folder: Path) -> list:
    """Every loadable stack of every series under `folder`, in the scanner's order."""
    from radview.dicom.load import load_stack
    from radview.dicom.scan import scan_path
    from radview.dicom.stacks import split_series

    return [load_stack(stack) for series in scan_path(folder).all_series() for stack in split_series(series)]


def format_infer_table(report: dict) -> str:
    lines = [f"{'model':16s} {'device':7s} {'input':>16s} {'end to end':>11s} {'forward only':>13s} {'overhead':>9s}"]
    for r in report["models"]:
        if "skipped" in r:
            lines.append(f"{r['model']:16s} skipped: {r['skipped']}")
            continue
        shape = "x".join(str(s) for s in r["shape"])
        lines.append(f"{r['model']:16s} {r['device']:7s} {shape:>16s} {r['end_to_end_s']:>10.2f}s "
                     f"{r['forward_only_s']:>12.2f}s {r['overhead_ratio']:>8.2f}x")
    rounds = ", ".join(f"{r['model']} {r['rounds']}" for r in report["models"] if "rounds" in r)
    lines.append(f"target: overhead <= {report['target_overhead']}x (each run over the bare pass timed right after it, median of the pairs after a warm-up; runs: {rounds}); "
                 f"on {report.get('study', 'phantoms')}")
    return "\n".join(lines)
