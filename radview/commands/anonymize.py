"""`radview anonymize SOURCE OUT`: a de-identified copy (PS3.15 Annex E)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from radview.commands.terminal import TerminalProgressBar, nothing_usable


def cmd_anonymize(args: argparse.Namespace) -> int:
    from radview.dicom.anonymize import AnonymizeError, anonymize_folder

    if not Path(args.source).exists():
        raise FileNotFoundError(f"{args.source}: no such file or folder")
    bar = TerminalProgressBar()
    try:
        result = anonymize_folder(Path(args.source), Path(args.out), key=args.key, progress=bar)
    except AnonymizeError as error:
        print(f"radview: {error}", file=sys.stderr)
        return 2
    finally:
        bar.end()
    if not result.written:
        return nothing_usable(args.source, [f"{path}: {reason}" for path, reason in result.left_out])
    print(f"{len(result.written)} file(s) de-identified into {args.out} "
          "(PS3.15 Annex E Basic Profile, Retain Longitudinal Temporal Information with Modified Dates)")
    for path, reason in result.left_out:
        print(f"  left out: {path}: {reason}")
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("anonymize", help="de-identify DICOM (PS3.15 Annex E Basic Profile, modified dates) into a new folder")
    p.add_argument("source", help="DICOM file or folder (only read)")
    p.add_argument("out", help="output folder: <study>/<series>/<instance>.dcm, all with new UIDs")
    p.add_argument("--key", help="secret that keeps pseudonyms, UIDs and date shifts the same across runs "
                                 "(default: a random one, nothing links back)")
    p.set_defaults(func=cmd_anonymize)
