"""`radview evaluate MODEL_DIR DATA`: measure a model and write the metrics into its card."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from radview.commands.terminal import end_progress, model_cases, print_progress

HARD = "phantoms-hard"
FROC_COLUMNS = ("0.125", "0.25", "0.5", "1", "2", "4", "8")


def cmd_evaluate(args: argparse.Namespace) -> int:
    from radview.ai.card import load_card
    from radview.ai.evaluate import evaluate_model

    card = load_card(Path(args.model_dir) / "model.json")
    if args.data == HARD:
        from radview.workflow.training_data import HARD_SEED_RANGE, hard_phantom_cases

        cases = hard_phantom_cases(card, args.scans)
        first = HARD_SEED_RANGE[0]
        data = (f"hard-case synthetic phantoms (seeds {first}-{first + len(cases) - 1}; never used for training, "
                "validation, the input check or the card's test)")
        summary = evaluate_model(Path(args.model_dir), cases, data, on_test_phantoms=False, progress=print_progress,
                                 hard_cases=True)
    else:
        data = "held-out synthetic phantoms (test seeds)" if args.data == "phantoms" else str(args.data)
        summary = evaluate_model(Path(args.model_dir), model_cases(card, args.data, "test"), data,
                                 on_test_phantoms=args.data == "phantoms", progress=print_progress)
    end_progress()
    if "strata" in summary:
        print(strata_table(summary))
    elif "auc" in summary:
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


def _number(value, places: int = 2) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _row(name: str, s: dict) -> str:
    """One stratum's line: nodules, FROC at 1/8..8 FP/scan, CPM with its interval, |diameter error|."""
    if not s.get("nodules"):
        return f"{name:<24}{0:>5}"
    froc = " ".join(f"{s[f'sensitivity_at_{r}_fp']:5.2f}" for r in FROC_COLUMNS)
    low, high = s["cpm_95ci"]
    return (f"{name:<24}{s['nodules']:>5} {froc}  {s['cpm']:.2f} ({_number(low)}-{_number(high)})"
            f"  {_number(s['diameter_error_mm_median_abs'], 1):>5} {_number(s['diameter_error_mm_p90_abs'], 1):>5}")


def strata_table(summary: dict) -> str:
    """The hard-case evaluation as a table: overall and each stratum, then the misses >= 10 mm and
    the scans that were not counted (outside the card's input rules, or refused by the input check)."""
    lines = [(f"{summary['scans']} scans ({summary['scans_without_nodules']} without nodules), "
              f"{summary['reference_nodules_4mm_or_more']} nodules >= 4 mm, "
              f"{summary['false_positives_per_scan']:.2f} false positives per scan; {summary['data']}"),
             f"{'stratum':<24}{'n':>5} " + " ".join(f"{'@' + r:>5}" for r in FROC_COLUMNS)
             + "  CPM (95% CI)       |d err| mm med   p90",
             _row("all", summary["overall"])]
    for key, values in summary["strata"].items():
        lines += [_row(f"{key.replace('_', ' ')}: {value}", s) for value, s in values.items()]
    lines.append("sensitivity at 1/8..8 false positives per scan (LUNA16); 95% CI by bootstrap over scans")
    if summary["missed_10mm_or_more"]:
        lines.append("missed nodules >= 10 mm:")
        lines += [f"  {m['patient']} #{m['label']}: {m['diameter_mm']} mm {m['composition']}, {m['location']}, "
                  f"{m['margin']}, {m['slice_spacing_mm']} mm slices, {m['dose']} dose: {m['why']}"
                  for m in summary["missed_10mm_or_more"]]
    for key, title, why in (("outside_input_rules", "outside the card's input rules (not run, not counted as misses)", "rules"),
                            ("refused_by_input_check", "refused by the input check (no AI result, not counted)", "reason")):
        if summary[key]:
            lines.append(f"{title}:")
            lines += [f"  {c['patient']}: {c['reference_nodules']} nodules >= 4 mm; {c[why]}" for c in summary[key]]
    return "\n".join(lines)


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("evaluate", help="measure a model on held-out data and write the metrics into its card")
    p.add_argument("model_dir")
    p.add_argument("data", help="'phantoms' (the card's test seeds), 'phantoms-hard' (hard-case chest CT phantoms, "
                                "per stratum) or a folder of <patient>/dicom + mask.nii.gz")
    p.add_argument("--scans", type=int, metavar="N", help="phantoms-hard: only the first N hard-case seeds")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(func=cmd_evaluate)
