"""`radview inputs PATH`: which models were made for each series, and whether its images are like their training data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from radview.commands.terminal import end_progress, model_folders, nothing_usable, print_progress


def cmd_inputs(args: argparse.Namespace) -> int:
    from radview.workflow.input_report import input_report

    verdicts = input_report(Path(args.path), model_folders(), progress=print_progress)
    end_progress()
    if not verdicts:
        return _nothing_checked(args.path)
    if args.json:
        Path(args.json).write_text(json.dumps([v.to_dict() for v in verdicts], indent=2) + "\n", encoding="utf-8")
    for v in verdicts:
        print(f"{v.series}  {v.model}\n    rules: {v.rules}\n    check: {v.check}")
    return 0


def _nothing_checked(path: str) -> int:
    """Why no verdict came back: no image series (exit 2, each skipped file named) or no models (exit 1)."""
    from radview.dicom.scan import scan_path

    index = scan_path(path)  # headers only, and only when nothing was checked
    if not index.all_series():
        return nothing_usable(path, [f"{s.path}: {s.reason}" for s in index.skipped])
    print("radview: no usable models found (radview models lists the packages and why any was refused)",
          file=sys.stderr)
    return 1


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("inputs", help="for every series: was each model made for it, and are the images like its "
                                      "training data (measured; no findings are made)")
    p.add_argument("path", help="DICOM folder, file or DICOMDIR")
    p.add_argument("--json", metavar="FILE", help="also write the verdicts as JSON")
    p.set_defaults(func=cmd_inputs)
