"""`radview demo OUT_DIR`: write the synthetic phantom studies."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_demo(args: argparse.Namespace) -> int:
    from radview.demo.writer import write_demo_studies

    truth = write_demo_studies(args.out_dir, seed=args.seed)
    out = Path(args.out_dir)
    print(f"Wrote synthetic phantom studies for {truth['patient']['name']} ({truth['patient']['id']}):")
    print(f"  DICOM:        {out / 'dicom'}")
    print(f"  ground truth: {out / 'ground-truth'}")
    print("These are synthetic phantoms for testing and demonstration, not real patients.")
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("demo", help="write synthetic phantom studies (chest CT, chest X-ray, brain MR)")
    p.add_argument("out_dir")
    p.add_argument("--seed", type=int, default=0, help="which synthetic patient (default 0)")
    p.set_defaults(func=cmd_demo)
