"""`radview bench load|view|infer`: speed benchmarks against named baselines."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "load":
        from radview.bench.load import format_table, run_load_bench

        report = run_load_bench(rounds=args.rounds)
        print(format_table(report))
    elif args.what == "infer":
        from radview.bench.infer import format_infer_table, run_infer_bench

        report = run_infer_bench(rounds=min(args.rounds, 3), study=Path(args.study) if args.study else None)
        print(format_infer_table(report))
    elif args.what == "view":
        from radview.gui.view_bench import format_view_table, run_view_bench

        report = run_view_bench(frames=args.frames)
        print(format_view_table(report))
    else:  # argparse limits the choices
        raise AssertionError(args.what)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("bench", help="speed benchmarks against named baselines")
    p.add_argument("what", choices=["load", "view", "infer"])
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--rounds", type=int, default=5, help="load: rounds per contender")
    p.add_argument("--frames", type=int, default=300, help="view: painted frames per case")
    p.add_argument("--study", metavar="DIR", help="infer: time each model on this folder's series it is made for "
                                                  "(default: the demo study, written to a temporary folder)")
    p.set_defaults(func=cmd_bench)
