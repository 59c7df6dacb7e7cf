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


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("train", help="train a model package from its card's recipe (seeded)")
    p.add_argument("model_dir")
    p.add_argument("--iterations", type=int, help="override the recipe's number of steps")
    p.add_argument("--fine-tune", action="store_true", help="start from the package's current weights")
    p.add_argument("--data", metavar="DIR", help="a site's cases (<patient>/dicom + mask.nii.gz) instead of phantoms")
    p.add_argument("--conformance-only", action="store_true",
                   help="keep the weights; learn only the input check (images unlike the training data get no findings)")
    p.set_defaults(func=cmd_train)
