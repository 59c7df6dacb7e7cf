"""`radview models`: the model packages found, with their cards and checksums."""

from __future__ import annotations

import argparse
import json
import sys

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


def register(sub) -> None:
    """Add the command to the command-line parser."""
    p = sub.add_parser("models", help="list the model packages found, with their cards and checksums")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_models)
