"""`radview audit STUDY_UID`: verify a study's audit log."""

from __future__ import annotations

import argparse
import sys


def cmd_audit(args: argparse.Namespace) -> int:
    from radview.core.audit import verify_audit_log
    from radview.core.workspace import StudyWorkspace
    from radview.user_dirs import data_dir

    path = StudyWorkspace(data_dir(), args.study_uid).audit_path
    check = verify_audit_log(path)
    if check.intact:
        print(f"{path}: {check.entries} entries, chain intact" + ("" if check.verified else
                                                                 " as far as this account's key can tell"))
        for note in check.notes:
            print(f"  note: {note}")
        return 0 if check.verified else 3
    print(f"{path}: TAMPERED or damaged — {len(check.problems)} problem(s) in {check.entries} entries:", file=sys.stderr)
    for problem in check.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("audit", help="verify a study's audit log (HMAC chain under this account's key) and report "
                                     "tampering: exit 0 verified, 1 tampered, 3 entries of other accounts unverifiable")
    p.add_argument("study_uid", help="StudyInstanceUID (or the workspace name findings.json gives)")
    p.set_defaults(func=cmd_audit)
