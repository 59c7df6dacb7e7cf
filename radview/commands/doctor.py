"""`radview doctor`: versions, the AI device, models and checksums, writable folders."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radview.commands.terminal import user_settings


def cmd_doctor(args: argparse.Namespace) -> int:
    from radview.workflow.doctor import doctor_report, format_report

    settings = user_settings()
    report = doctor_report(settings.device, settings.model_folders, check_model=not args.quick)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=1))
    return 1 if report.problems else 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("doctor", help="versions, AI device, models and checksums, writable folders, a model run")
    p.add_argument("--quick", action="store_true", help="skip the model run")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.set_defaults(func=cmd_doctor)
