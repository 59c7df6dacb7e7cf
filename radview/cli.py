"""The `radview` command line: headless drivers of the same flow the window uses."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from radview import __version__
from radview.core.study_lock import StudyInUse
from radview.commands.pacs import register as register_pacs
from radview.commands.pacs import run as run_pacs
from radview.commands.terminal import TerminalProgressBar, end_progress, print_progress, user_settings


def cmd_analyze(args: argparse.Namespace) -> int:
    from radview.user_dirs import data_dir
    from radview.workflow.analyze import analyze

    settings = user_settings()
    bar = TerminalProgressBar()
    try:
        outputs = analyze(Path(args.path), Path(args.out), data_dir(), accept_all=args.accept_all,
                          reader=args.reader or settings.reader_name, nodule_risk=args.risk, device=settings.device,
                          model_folders=settings.model_folders, institution=settings.institution,
                          page_size=settings.page_size, dicom=args.dicom, progress=bar, lock_wait_s=args.wait)
    finally:
        bar.end()
    for o in outputs:
        print(f"study {o.study_instance_uid}: {o.findings} finding(s), {o.accepted} accepted; wrote "
              f"{o.folder / 'findings.json'}, {o.folder / 'report.html'}, {o.folder / 'report.pdf'} ({o.pdf_pages} page(s))")
        if o.dicom_files:
            print(f"  DICOM results in {o.folder / 'dicom'}: " + ", ".join(p.name for p in o.dicom_files))
        for note in o.notes:
            print(f"  note: {note}")
    if any(o.skipped for o in outputs):
        print(f"{sum(o.skipped for o in outputs)} stud(ies) open in another program were left out: run analyze again later.")
        return 3
    if not args.accept_all and any(o.findings for o in outputs):
        print("Findings are unreviewed and not in the report: review them in the window, or pass --accept-all.")
    return 0


def cmd_anonymize(args: argparse.Namespace) -> int:
    from radview.dicom.anonymize import AnonymizeError, anonymize_folder

    bar = TerminalProgressBar()
    try:
        result = anonymize_folder(Path(args.source), Path(args.out), key=args.key, progress=bar)
    except AnonymizeError as error:
        print(f"radview: {error}", file=sys.stderr)
        return 2
    finally:
        bar.end()
    print(f"{len(result.written)} file(s) de-identified into {args.out} "
          "(PS3.15 Annex E Basic Profile, Retain Longitudinal Temporal Information with Modified Dates)")
    for path, reason in result.left_out:
        print(f"  left out: {path}: {reason}")
    return 0 if result.written else 1


def cmd_doctor(args: argparse.Namespace) -> int:
    from radview.workflow.doctor import doctor_report, format_report

    settings = user_settings()
    report = doctor_report(settings.device, settings.model_folders, check_model=not args.quick)
    print(format_report(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=1))
    return 1 if report.problems else 0


def cmd_inputs(args: argparse.Namespace) -> int:
    from radview.workflow.input_report import input_report

    verdicts = input_report(Path(args.path), _model_folders(), progress=print_progress)
    end_progress()
    if args.json:
        Path(args.json).write_text(json.dumps([v.to_dict() for v in verdicts], indent=2) + "\n", encoding="utf-8")
    for v in verdicts:
        print(f"{v.series}  {v.model}\n    rules: {v.rules}\n    check: {v.check}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from radview.core.audit import verify_audit_log
    from radview.core.workspace import StudyWorkspace
    from radview.user_dirs import data_dir

    path = StudyWorkspace(data_dir(), args.study_uid).audit_path
    check = verify_audit_log(path)
    if check.intact:
        print(f"{path}: {check.entries} entries, chain intact")
        return 0
    print(f"{path}: TAMPERED or damaged — {len(check.problems)} problem(s) in {check.entries} entries:", file=sys.stderr)
    for problem in check.problems:
        print(f"  {problem}", file=sys.stderr)
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from radview.demo.writer import write_demo_studies

    truth = write_demo_studies(args.out_dir, seed=args.seed)
    out = Path(args.out_dir)
    print(f"Wrote synthetic phantom studies for {truth['patient']['name']} ({truth['patient']['id']}):")
    print(f"  DICOM:        {out / 'dicom'}")
    print(f"  ground truth: {out / 'ground-truth'}")
    print("These are synthetic phantoms for testing and demonstration, not real patients.")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from radview.dicom.info import describe_index, index_as_dict
    from radview.dicom.scan import scan_path

    index = scan_path(args.path, progress=print_progress)
    end_progress()
    if args.json:
        print(json.dumps(index_as_dict(index), indent=2))
    else:
        print(describe_index(index))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    from radview.dicom.convert import convert_path

    written, errors = convert_path(args.path, args.out_dir, progress=print_progress)
    end_progress()
    for path in written:
        print(f"wrote {path}")
    for error in errors:
        print(f"skipped {error}", file=sys.stderr)
    if not written:
        print("No image series could be converted.", file=sys.stderr)
        return 1
    return 0


def _model_folders() -> list[str]:
    from radview.core.settings import load_settings
    from radview.user_dirs import settings_path

    return load_settings(settings_path())[0].model_folders


def cmd_models(args: argparse.Namespace) -> int:
    from radview.ai.input_spec import RANGES
    from radview.ai.registry import find_models

    cards, refused = find_models(_model_folders())
    if args.json:
        print(json.dumps({
            "models": [{"id": c.id, "version": c.version, "task": c.task, "modalities": c.modalities,
                        "dimensions": c.dimensions, "folder": str(c.folder), "sha256": c.weights_sha256,
                        "metrics": c.metrics.get("headline", {}), "notice": c.notice,
                        "made_for": {k: v for k, v in c.raw["applies_to"].items() if k != "note"},
                        "input_check": {k: c.conformance.get(k) for k in ("method", "threshold", "profile_threshold",
                                                                          "check_images")}} for c in cards],
            "refused": [{"folder": str(r.folder), "reason": r.reason} for r in refused],
        }, indent=2))
        return 0
    for card in cards:
        print(card.summary())
        print(f"    {card.folder}  sha256 {card.weights_sha256[:16]}...  {card.notice}")
        rules = {k: v for k, v in card.raw["applies_to"].items() if k not in ("note", "modalities", "dimensions")}
        print("    made for: " + "; ".join(
            f"{k} {v[0]}-{v[1]}" if k in RANGES else f"{k} {'/'.join(map(str, v)) if isinstance(v, list) else v}"
            for k, v in rules.items()))
        checked = card.conformance.get("check_images", {})
        print(f"    input check: feature limit {card.conformance.get('threshold')}, intensity-profile limit "
              f"{card.conformance.get('profile_threshold')}; held-out test images passing: "
              f"{checked.get('passed')} of {checked.get('images')}")
    for r in refused:
        print(f"refused {r.folder}: {r.reason}", file=sys.stderr)
    if not cards:
        print("No usable models found.", file=sys.stderr)
        return 1
    return 0


def _cases(card, data: str | None, part: str):
    """The card's phantom cases of `part`, or a site folder's cases."""
    from radview.workflow.training_data import recipe_cases, site_cases

    return recipe_cases(card, part) if data in (None, "phantoms") else site_cases(Path(data), card)


def cmd_train(args: argparse.Namespace) -> int:
    from radview.ai.card import load_card
    from radview.ai.conformance_training import learn_conformance
    from radview.ai.train import split_by_patient, train_model
    from radview.workflow.training_data import conformance_cases

    card = load_card(Path(args.model_dir) / "model.json")
    if args.data:
        cases = split_by_patient(_cases(card, args.data, "train"))
        print(f"site data: {len(cases['train'])} patients for training, {len(cases['validation'])} for validation")
    else:
        cases = {part: _cases(card, None, part) for part in ("train", "validation")}
    if not args.conformance_only:
        run = train_model(Path(args.model_dir), cases, iterations=args.iterations, progress=print_progress,
                          init_from_card_weights=args.fine_tune)
        end_progress()
        print(f"trained {args.model_dir}: best validation Dice {run['best_validation_dice']} after "
              f"{run['steps_run']} steps in {run['seconds']} s; weights and card written")
    # the input check is learned from the same split, for the weights just written
    held_out, checked, data = conformance_cases(card, cases, site=bool(args.data))
    section = learn_conformance(Path(args.model_dir), cases["train"], held_out, checked, data, progress=print_progress)
    end_progress()
    check = section["check_images"]
    print(f"input check of {card.id}: feature limit {section['threshold']}, intensity-profile limit "
          f"{section['profile_threshold']} (held-out images: {section['threshold_images']['passed']} of "
          f"{section['threshold_images']['images']} pass)"
          + (f"; test images: {check['passed']} of {check['images']} pass" if check["images"] else ""))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from radview.ai.card import load_card
    from radview.ai.evaluate import evaluate_model

    card = load_card(Path(args.model_dir) / "model.json")
    data = "held-out synthetic phantoms (test seeds)" if args.data == "phantoms" else str(args.data)
    summary = evaluate_model(Path(args.model_dir), _cases(card, args.data, "test"), data,
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


def cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "load":
        from radview.bench.load import format_table, run_load_bench

        report = run_load_bench(rounds=args.rounds)
        print(format_table(report))
    elif args.what == "infer":
        from radview.bench.infer import format_infer_table, run_infer_bench

        report = run_infer_bench(rounds=min(args.rounds, 3))
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="radview", description="RadView radiology review workstation")
    parser.add_argument("--version", action="version", version=f"radview {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="write synthetic phantom studies (chest CT, chest X-ray, brain MR)")
    p.add_argument("out_dir")
    p.add_argument("--seed", type=int, default=0, help="which synthetic patient (default 0)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("info", help="show the study tree, geometry, warnings and skipped files")
    p.add_argument("path")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("convert", help="write one NIfTI + JSON sidecar per series (dcm2niix layout)")
    p.add_argument("path")
    p.add_argument("out_dir")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("models", help="list the model packages found, with their cards and checksums")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("train", help="train a model package from its card's recipe (seeded)")
    p.add_argument("model_dir")
    p.add_argument("--iterations", type=int, help="override the recipe's number of steps")
    p.add_argument("--fine-tune", action="store_true", help="start from the package's current weights")
    p.add_argument("--data", metavar="DIR", help="a site's cases (<patient>/dicom + mask.nii.gz) instead of phantoms")
    p.add_argument("--conformance-only", action="store_true",
                   help="keep the weights; learn only the input check (images unlike the training data get no findings)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="measure a model on held-out data and write the metrics into its card")
    p.add_argument("model_dir")
    p.add_argument("data", help="'phantoms' (the card's test seeds) or a folder of <patient>/dicom + mask.nii.gz")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("analyze", help="load, run the models, draft the report; write findings.json, report.html and report.pdf")
    p.add_argument("path", help="DICOM folder, file or DICOMDIR")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (one sub-folder per study when there are several)")
    p.add_argument("--accept-all", action="store_true", help="accept every AI finding (else they stay unreviewed)")
    p.add_argument("--reader", default="", help="reader name (default: the settings' reader_name)")
    p.add_argument("--risk", choices=["low", "high"], default=None,
                   help="the patient's nodule risk, for Fleischner 2017 (default: as the study's saved report, else low)")
    p.add_argument("--dicom", action="store_true",
                   help="also write DICOM SEG, SR (TID 1500), encapsulated PDF and key images into OUT/dicom")
    p.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                   help="how long to wait for a study another RadView program has open (default 120)")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("anonymize", help="de-identify DICOM (PS3.15 Annex E Basic Profile, modified dates) into a new folder")
    p.add_argument("source", help="DICOM file or folder (only read)")
    p.add_argument("out", help="output folder: <study>/<series>/<instance>.dcm, all with new UIDs")
    p.add_argument("--key", help="secret that keeps pseudonyms, UIDs and date shifts the same across runs "
                                 "(default: a random one, nothing links back)")
    p.set_defaults(func=cmd_anonymize)

    register_pacs(sub)

    p = sub.add_parser("doctor", help="versions, AI device, models and checksums, writable folders, a model run")
    p.add_argument("--quick", action="store_true", help="skip the model run")
    p.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("inputs", help="for every series: was each model made for it, and are the images like its "
                                      "training data (measured; no findings are made)")
    p.add_argument("path", help="DICOM folder, file or DICOMDIR")
    p.add_argument("--json", metavar="FILE", help="also write the verdicts as JSON")
    p.set_defaults(func=cmd_inputs)

    p = sub.add_parser("audit", help="verify a study's audit log (hash chain) and report tampering")
    p.add_argument("study_uid", help="StudyInstanceUID")
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("bench", help="speed benchmarks against named baselines")
    p.add_argument("what", choices=["load", "view", "infer"])
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.add_argument("--rounds", type=int, default=5, help="load: rounds per contender")
    p.add_argument("--frames", type=int, default=300, help="view: painted frames per case")
    p.set_defaults(func=cmd_bench)
    return parser


def build_gui_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radview",
        description="RadView radiology review workstation. With no command, opens the window "
        "(on PATH if given). Commands: " + ", ".join(sorted(COMMANDS)) + " (radview COMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"radview {__version__}")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="DICOM folder(s), file(s) or DICOMDIR to open")
    parser.add_argument("--screenshot", metavar="PNG", help="save the window once the first series shows")
    parser.add_argument("--quit-after-shown", action="store_true", help="exit once the first series shows")
    parser.add_argument("--self-test", action="store_true",
                        help="open the demo study in a real window, run the AI, export a PDF to a temporary folder; "
                             "exit 0 when all worked (the packaged build's smoke test)")
    parser.add_argument("--self-test-keep", metavar="DIR", help="with --self-test: leave the demo study and PDF in DIR")
    return parser


COMMANDS = {"demo", "info", "convert", "models", "train", "evaluate", "analyze", "inputs", "anonymize", "pacs", "doctor", "audit", "bench"}


def main(argv: list[str] | None = None) -> int:
    """Run the command line (or the window when no command is given); returns the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        gui_args = build_gui_parser().parse_args(argv)
        if gui_args.self_test:
            from radview.gui.self_test import run_self_test

            return run_self_test(gui_args.self_test_keep)
        from radview.gui.app import run_app

        return run_app(gui_args.paths, gui_args.screenshot, gui_args.quit_after_shown)
    args = build_parser().parse_args(argv)
    try:
        if args.command == "pacs":
            return run_pacs(args)
        return int(args.func(args))
    except (FileNotFoundError, ValueError) as exc:
        print(f"radview: {exc}", file=sys.stderr)
        return 2
    except StudyInUse as exc:
        print(f"radview: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130
