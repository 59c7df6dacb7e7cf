"""`radview convert PATH OUT_DIR`: one NIfTI and JSON sidecar per series."""

from __future__ import annotations

import argparse
import sys

from radview.commands.terminal import end_progress, nothing_usable, print_progress


def cmd_convert(args: argparse.Namespace) -> int:
    from radview.dicom.convert import convert_path

    written, errors = convert_path(args.path, args.out_dir, progress=print_progress)
    end_progress()
    if not written:
        return nothing_usable(args.path, errors)  # each error is "<file>: <problem>"
    for path in written:
        print(f"wrote {path}")
    for error in errors:
        print(f"skipped {error}", file=sys.stderr)
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("convert", help="write one NIfTI + JSON sidecar per series (dcm2niix layout)")
    p.add_argument("path")
    p.add_argument("out_dir")
    p.set_defaults(func=cmd_convert)
