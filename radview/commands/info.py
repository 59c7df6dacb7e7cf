"""`radview info PATH`: the study tree, geometry, warnings and skipped files."""

from __future__ import annotations

import argparse
import json

from radview.commands.terminal import end_progress, nothing_usable, print_progress


def cmd_info(args: argparse.Namespace) -> int:
    from radview.dicom.info import describe_index, index_as_dict
    from radview.workflow.study_opening import scan

    index = scan(args.path, progress=print_progress)
    end_progress()
    if args.json:
        print(json.dumps(index_as_dict(index), indent=2))
    else:
        print(describe_index(index))
    if not index.all_series():
        return nothing_usable(args.path, [f"{s.path}: {s.reason}" for s in index.skipped])
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("info", help="show the study tree, geometry, warnings and skipped files")
    p.add_argument("path")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_info)
