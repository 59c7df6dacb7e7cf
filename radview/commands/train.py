"""`radview train MODEL_DIR`: train a model package (and its input check) from its card's recipe."""

from __future__ import annotations

import argparse
from pathlib import Path

from radview.commands.terminal import end_progress, model_cases, print_progress


def cmd_train(args: argparse.Namespace) -> int:
    from radview.ai.card import load_card
    from radview.ai.conformance_training import learn_conformance
    from radview.ai.train import split_by_patient, train_model
    from radview.workflow.training_data import conformance_cases

    card = load_card(Path(args.model_dir) / "model.json")
    if args.data:
        cases = split_by_patient(model_cases(card, args.data, "train"))
        print(f"site data: {len(cases['train'])} patients for training, {len(cases['validation'])} for validation")
    else:
        cases = {part: model_cases(card, None, part) for part in ("train", "validation")}
    if not (args.conformance_only or args.fp_reduction_only):
        run = train_model(Path(args.model_dir), cases, iterations=args.iterations, progress=print_progress,
                          init_from_card_weights=args.fine_tune)
        end_progress()
        print(f"trained {args.model_dir}: best validation Dice {run['best_validation_dice']} after "
              f"{run['steps_run']} steps in {run['seconds']} s; weights and card written")
    if args.fp_reduction_only:
        return _learn_fp_reduction(args, card, cases)
    # the input check is learned from the same split, for the weights just written
    held_out, checked, data = conformance_cases(card, cases, site=bool(args.data))
    section = learn_conformance(Path(args.model_dir), cases["train"], held_out, checked, data, progress=print_progress)
    end_progress()
    check = section["check_images"]
    print(f"input check of {card.id}: feature limit {section['threshold']}, intensity-profile limit "
          f"{section['profile_threshold']} (held-out images: {section['threshold_images']['passed']} of "
          f"{section['threshold_images']['images']} pass)"
          + (f"; test images: {check['passed']} of {check['images']} pass" if check["images"] else ""))
    if card.postprocessing == "lung_nodules_ct" and not args.conformance_only:
        # new weights make new candidates: their false-positive reduction is learned again
        return _learn_fp_reduction(args, card, cases)
    return 0


def _learn_fp_reduction(args: argparse.Namespace, card, cases: dict) -> int:
    """The nodule candidates' false-positive reduction, for the weights in the package."""
    from radview.ai.nodule_fp_training import learn_fp_reduction
    from radview.workflow.training_data import lazy_recipe_cases

    if card.postprocessing != "lung_nodules_ct":
        print(f"{card.id}: its findings have no false-positive reduction (only nodule detection has one)")
        return 2
    if args.data:  # a site's patients, training and validation
        scans, data = [*cases["train"], *cases["validation"]], f"site data {args.data}"
    else:  # the recipe's fp_train and fp_validation phantoms
        scans = lazy_recipe_cases(card, "fp_train", "fp_validation")
        data = "synthetic chest CT phantoms of the recipe's fp_train and fp_validation seeds"
    recipe_seed = card.training.get("recipe", {}).get("seed", 0)
    section = learn_fp_reduction(Path(args.model_dir), scans, data, recipe_seed, progress=print_progress)
    end_progress()
    chosen = section["threshold"]
    print(f"false-positive reduction of {card.id}: fitted on {section['fit']['candidates']} candidates of "
          f"{section['fit']['scans']} scans ({section['fit']['on_nodules']} on nodules); min_candidate_score "
          f"{chosen['min_candidate_score']} gives {chosen['false_positives_per_scan']} false positives per scan and keeps "
          f"{chosen['candidates_on_nodules_kept']} candidates on nodules ({chosen['method']})")
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("train", help="train a model package from its card's recipe (seeded)")
    p.add_argument("model_dir")
    p.add_argument("--iterations", type=int, help="override the recipe's number of steps")
    p.add_argument("--fine-tune", action="store_true", help="start from the package's current weights")
    p.add_argument("--data", metavar="DIR", help="a site's cases (<patient>/dicom + mask.nii.gz) instead of phantoms")
    p.add_argument("--conformance-only", action="store_true",
                   help="keep the weights; learn only the input check (images unlike the training data get no findings)")
    p.add_argument("--fp-reduction-only", action="store_true",
                   help="keep the weights and the input check; learn only the nodule candidates' false-positive reduction")
    p.set_defaults(func=cmd_train)
