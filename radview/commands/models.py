"""`radview models`: the model packages found, with their cards and checksums;
`radview models import BUNDLE_DIR`: a MONAI bundle imported safely (radview.ai.bundle_import)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from radview.commands.terminal import model_folders


def cmd_models(args: argparse.Namespace) -> int:
    from radview.ai.input_spec import RANGES
    from radview.ai.registry import find_models

    cards, refused = find_models(model_folders())
    if args.json:
        print(json.dumps({
            "models": [{"id": c.id, "version": c.version, "task": c.task, "modalities": c.modalities,
                        "dimensions": c.dimensions, "folder": str(c.folder), "sha256": c.weights_sha256,
                        "metrics": c.metrics.get("headline", {}), "notice": c.notice,
                        "made_for": {k: v for k, v in c.raw["applies_to"].items() if k != "note"},
                        "input_check": {k: c.conformance.get(k) for k in ("method", "threshold", "profile_threshold",
                                                                          "check_images", "reason")},
                        "publisher_claim": c.metrics.get("publisher_claim")} for c in cards],
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
        if not card.has_input_check:
            claim = card.metrics.get("publisher_claim", {})
            print(f"    input check: none ({card.conformance.get('reason', '')})")
            print(f"    publisher's claim, not measured here: {_claims(claim.get('values', {}))}")
            continue
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


def _claims(values: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "none given"


def cmd_import(args: argparse.Namespace) -> int:
    """Import a MONAI bundle folder as a model package under the user data dir."""
    from radview.ai.bundle_import import BundleRefused, import_bundle
    from radview.ai.card import CardError
    from radview.ai.registry import find_models, imported_models_folder

    cards, _refused = find_models(model_folders())
    try:
        result = import_bundle(Path(args.bundle_dir), imported_models_folder(), args.id, args.modality,
                               {c.id for c in cards})
    except (BundleRefused, CardError) as exc:
        print(f"radview: refused {args.bundle_dir}: {exc}", file=sys.stderr)
        print("radview: nothing was imported and nothing from the bundle was run", file=sys.stderr)
        return 2
    card = result.card
    print(f"imported {card.id} {card.version} ({card.task}, {card.architecture_args['class']}) into {result.folder}")
    print(f"    weights.safetensors sha256 {card.weights_sha256}")
    print(f"    outputs: {', '.join(f'{o.value} {o.name}' for o in card.outputs)}; made for {'/'.join(card.modalities)}")
    print(f"    publisher's claim, not measured here: {_claims(card.metrics.get('publisher_claim', {}).get('values', {}))}")
    print(f"    input check: none ({card.conformance.get('reason')})")
    for note in result.notes:
        print(f"    not used: {note}")
    print(f"measure it on your labelled data: radview evaluate {result.folder} DATA")
    return 0


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("models", help="list the model packages found, with their cards and checksums; "
                                      "'models import BUNDLE_DIR' imports a MONAI bundle")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_models)
    actions = p.add_subparsers(dest="models_action", metavar="{import}")
    imp = actions.add_parser("import", help="import a MONAI Model Zoo bundle safely (its configs are read as data, "
                                            "never run)")
    imp.add_argument("bundle_dir", help="the bundle folder (configs/metadata.json, configs/inference.json, models/model.pt)")
    imp.add_argument("--id", help="the model id (default: from the bundle's name)")
    imp.add_argument("--modality", help="the modality (CT, MR, ...) when metadata.json names none")
    imp.set_defaults(func=cmd_import)
