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
        from radview.workflow.training_data import HARD_SEED_RANGES, hard_phantom_cases

        cases = hard_phantom_cases(card, args.scans)
        first = HARD_SEED_RANGES[card.id][0]
        data = (f"hard-case synthetic phantoms (seeds {first}-{first + len(cases) - 1}; never used for training, "
                "validation, the input check or the card's test)")
        summary = evaluate_model(Path(args.model_dir), cases, data, on_test_phantoms=False, progress=print_progress,
                                 hard_cases=True)
    else:
        data = "held-out synthetic phantoms (test seeds)" if args.data == "phantoms" else str(args.data)
        summary = evaluate_model(Path(args.model_dir), model_cases(card, args.data, "test"), data,
                                 on_test_phantoms=args.data == "phantoms", progress=print_progress)
    end_progress()
    if args.data == HARD:
        tables = {"nodule_detection": strata_table, "presence_classification": radiograph_table,
                  "segmentation": tumour_table}
        print(tables[card.raw.get("evaluation", "segmentation")](summary))
    elif "auc" in summary:
        print(f"{summary['images']} images ({summary['with_nodules']} with nodules): AUC {summary['auc']} "
              f"(95% CI {summary['auc_95ci']}), sensitivity {summary['sensitivity']}, specificity "
              f"{summary['specificity']}, F1 {summary['f1']}, nodules flagged {summary['nodules_flagged_share']}")
    elif "cpm" in summary:
        print(f"{summary['scans']} scans, {summary['reference_nodules_4mm_or_more']} nodules >= 4 mm: sensitivity "
              f"{summary['sensitivity_at_1_fp']} at 1 FP/scan (95% CI {summary['sensitivity_at_1_fp_95ci']}), "
              f"CPM {summary['cpm']}, diameter error median {summary['diameter_error_mm_median_abs']} mm; at the card's "
              f"threshold: sensitivity {summary['sensitivity_at_threshold']}, "
              f"{summary['false_positives_per_scan_at_threshold']} false positives per scan")
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
    """The hard-case evaluation as a table: overall and each stratum, then every miss and
    the scans that were not counted (outside the card's input rules, or refused by the input check)."""
    lines = [(f"{summary['scans']} scans ({summary['scans_without_nodules']} without nodules), "
              f"{summary['reference_nodules_4mm_or_more']} nodules >= 4 mm, "
              f"{summary['found_at_threshold']} found and {summary['false_positives_per_scan']:.2f} false positives per "
              f"scan at the card's threshold; {summary['data']}"),
             f"{'stratum':<24}{'n':>5} " + " ".join(f"{'@' + r:>5}" for r in FROC_COLUMNS)
             + "  CPM (95% CI)       |d err| mm med   p90",
             _row("all", summary["overall"])]
    for key, values in summary["strata"].items():
        lines += [_row(f"{key.replace('_', ' ')}: {value}", s) for value, s in values.items()]
    lines.append("sensitivity at 1/8..8 false positives per scan (LUNA16: every candidate ranked by its score); 95% CI by bootstrap over scans")
    if summary["missed"]:
        large = sum(1 for m in summary["missed"] if m["diameter_mm"] >= 10)
        lines.append(f"missed nodules at the card's threshold ({large} of 10 mm or more), largest first:")
        lines += [f"  {m['patient']} #{m['label']}: {m['diameter_mm']} mm {m['composition']}, {m['location']}, "
                  f"{m['margin']}, {m['slice_spacing_mm']} mm slices, {m['dose']} dose: {m['why']}"
                  for m in summary["missed"]]
    for key, title, why in (("outside_input_rules", "outside the card's input rules (not run, not counted as misses)", "rules"),
                            ("refused_by_input_check", "refused by the input check (no AI result, not counted)", "reason")):
        if summary[key]:
            lines.append(f"{title}:")
            lines += [f"  {c['patient']}: {c['reference_nodules']} nodules >= 4 mm; {c[why]}" for c in summary[key]]
    return "\n".join(lines)


def _interval(values: list | None, places: int = 2) -> str:
    return "-" if not values else f"{_number(values[0], places)}-{_number(values[1], places)}"


def radiograph_table(summary: dict) -> str:
    """The radiographs' hard-case evaluation: the image-level call, the share of nodules flagged
    per size band and zone, and the false flags per image on the negatives."""
    negatives = summary["negative_images"]
    lines = [f"{summary['images']} radiographs ({summary['with_nodules']} with nodules, {summary['negatives']} negative); "
             f"{summary['data']}"]
    if summary["images"]:
        lines.append(f"image level at the operating point {summary['threshold']}: AUC {_number(summary['auc'], 3)} "
                     f"(95% CI {_interval(summary['auc_95ci'], 3)}), sensitivity {_number(summary['sensitivity'], 3)}, "
                     f"specificity {_number(summary['specificity'], 3)}, F1 {_number(summary['f1'], 3)}")
    lines.append(f"{'nodules flagged':<24}{'n':>5}{'found':>7}  sensitivity (95% CI)  median mm")
    rows = [("all", summary["overall"])] + [(f"{key.replace('_', ' ')}: {value}", s)
                                            for key, values in summary["strata"].items() for value, s in values.items()]
    for name, s in rows:
        if not s.get("nodules"):
            lines.append(f"{name:<24}{0:>5}")
            continue
        lines.append(f"{name:<24}{s['nodules']:>5}{s['found']:>7}  {s['sensitivity']:.2f} ({_interval(s['sensitivity_95ci'])})"
                     f"      {_number(s['diameter_mm_median'], 1):>5}")
    lines.append("a nodule is found when a flag's centre lies within its radius + 5 mm; 95% CI by bootstrap over images")
    for name, flags in (("negative radiograph", negatives), ("radiograph with nodules", summary["images_with_nodules"])):
        if flags.get("images"):
            lines.append(f"false flags per {name}: mean {flags['false_flags_per_image_mean']:.2f} (95% CI "
                         f"{_interval(flags['false_flags_per_image_95ci'])}), max {flags['false_flags_per_image_max']}, "
                         f"{flags['share_with_any_false_flag']:.0%} of {flags['images']} with any")
            lines += [f"  {i['patient']}: {i['false_flags']} false flag(s), image score {i['score']}"
                      for i in flags["images_with_false_flags"]]
    if summary["missed"]:
        missed = (f"{m['patient']} {m['diameter_mm']} mm ({m['zone']})" for m in summary["missed"])
        lines.append("missed nodules: " + ", ".join(missed))
    if summary.get("refused_by_input_check"):
        lines.append("refused by the input check (no AI result, not counted):")
        lines += [f"  {c['patient']}: {c['nodules']} nodules; {c['reason']}" for c in summary["refused_by_input_check"]]
    return "\n".join(lines)


def _tumour_row(name: str, s: dict) -> str:
    if not s.get("cases"):
        return f"{name:<30}{0:>4}"
    absolute = f"{_number(s['volume_error_ml_median_abs']):>6} {_number(s['volume_error_ml_p90_abs']):>6}"
    relative = f"{s['volume_error_relative_median_abs']:>5.0%} {s['volume_error_relative_p90_abs']:>5.0%}"
    return (f"{name:<30}{s['cases']:>4}  {s['dice_mean']:.3f} ({_interval(s['dice_95ci'], 3)})  {s['dice_min']:.3f}"
            f"  {s['detected_share']:>5.0%}   {absolute}  {relative}")


def tumour_table(summary: dict) -> str:
    """The brain MRs' hard-case evaluation: Dice and volume error overall and per stratum, the
    false-positive volume on brains without a tumour, and each case's Dice."""
    free = summary["no_tumour"]
    lines = [f"{summary['cases']} brain MRs ({summary['with_tumour']} with a tumour, {summary['without_tumour']} without); "
             f"{summary['data']}",
             f"{'stratum':<30}{'n':>4}  Dice mean (95% CI)   min    found  |vol err| mL med    p90  rel med  p90",
             _tumour_row("all", summary["overall"])]
    lines += [_tumour_row(f"{key.replace('_', ' ')}: {value}", s)
              for key, values in summary["strata"].items() for value, s in values.items()]
    lines.append("size band of the tumour core; Dice and volumes of the whole tumour (core and oedema); found: any "
                 "overlap; 95% CI by bootstrap over cases")
    if free.get("cases"):
        lines.append(f"brains without a tumour: false-positive volume per case mean {free['false_positive_ml_mean']:.2f} mL, "
                     f"max {free['false_positive_ml_max']:.2f} mL; {free['share_with_any_false_positive']:.0%} of "
                     f"{free['cases']} with any; {free['findings_per_case_mean']:.2f} findings per case")
        lines += [f"  {c['patient']}: {c['false_positive_ml']} mL in {c['findings']} finding(s)"
                  for c in free["cases_with_false_positive"]]
    if summary.get("missed_or_cut_short"):
        lines.append("tumours missed or cut short (Dice under 0.5):")
        lines += [f"  {m['patient']} ({m['size_band']}, {m['location']}, {m['reference_ml']:.2f} mL): Dice {m['dice']:.3f}; "
                  f"{m['why']}" for m in summary["missed_or_cut_short"]]
    lines.append("per case:")
    for r in summary["per_case"]:
        if "dice" in r:
            lines.append(f"  {r['patient']:<10} {r['size_band']:<12} {r['location']:<18} Dice {r['dice']:.3f}  reference "
                         f"{r['reference_ml']:7.2f} mL, error {r['volume_error_ml']:+7.2f} mL "
                         f"({r['volume_error_relative']:+.0%})")
        else:
            lines.append(f"  {r['patient']:<10} {'no tumour':<31} false positive {r['false_positive_ml']:.2f} mL")
    if summary.get("refused_by_input_check"):
        lines.append("refused by the input check (no AI result, not counted):")
        lines += [f"  {c['patient']} ({c['size_band']}, {c['location']}): {c['reason']}"
                  for c in summary["refused_by_input_check"]]
    return "\n".join(lines)


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("evaluate", help="measure a model on held-out data and write the metrics into its card")
    p.add_argument("model_dir")
    p.add_argument("data", help="'phantoms' (the card's test seeds), 'phantoms-hard' (hard-case phantoms of the "
                                "chest CT, radiograph or brain MR model, per stratum) or a folder of <patient>/dicom + "
                                "mask.nii.gz")
    p.add_argument("--scans", type=int, metavar="N", help="phantoms-hard: only the first N hard-case seeds (scans, "
                                                          "radiographs or MRs)")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(func=cmd_evaluate)
