"""`radview evaluate MODEL_DIR DATA`: measure a model and write the metrics into its card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radview.commands.terminal import end_progress, model_cases, print_progress


def cmd_evaluate(args: argparse.Namespace) -> int:
    from radview.ai.card import load_card
    from radview.ai.evaluate import evaluate_model

    card = load_card(Path(args.model_dir) / "model.json")
    data = "held-out synthetic phantoms (test seeds)" if args.data == "phantoms" else str(args.data)
    summary = evaluate_model(Path(args.model_dir), model_cases(card, args.data, "test"), data,
                             on_test_phantoms=args.data == "phantoms", progress=print_progress)
    end_progress()
    if "auc" in summary:
        print(f"{summary['images']} images ({summary['with_nodules']} with nodules): AUC {summary['auc']} "
              f"(95% CI {summary['auc_95ci']}), sensitivity {summary['sensitivity']}, specificity "
              f"{summary['specificity']}, F1 {summary['f1']}, nodules flagged {summary['nodules_flagged_share']}")
    elif "cpm" in summary:
        print(f"{summary['scans']} scans, {summary['reference_nodules_4mm_or_more']} nodules >= 4 mm: sensitivity "
              f"{summary['sensitivity_at_1_fp']} at 1 FP/scan (95% CI {summary['sensitivity_at_1_fp_95ci']}), "
              f"CPM {summary['cpm']}, diameter error median {summary['diameter_error_mm_median_abs']} mm")
    else:
        print(f"{summary['patients']} patients ({summary['data']}): Dice {summary['dice_mean']} "
              f"(95% CI {summary['dice_95ci'][0]}-{summary['dice_95ci'][1]}), HD95 median {summary['hd95_mm_median']} mm, "
              f"volume error median {summary['volume_error_ml_median_abs']} mL")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
        print(f"wrote {args.json}")
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("evaluate", help="measure a model on held-out data and write the metrics into its card")
    p.add_argument("model_dir")
    p.add_argument("data", help="'phantoms' (the card's test seeds) or a folder of <patient>/dicom + mask.nii.gz")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(func=cmd_evaluate)
