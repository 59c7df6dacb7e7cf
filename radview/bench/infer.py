"""`radview bench infer`: each shipped model on its demo phantom, end to end against the bare
network in the same run (target: overhead at most 1.25x)."""

from __future__ import annotations

import os

TARGET_OVERHEAD = 1.25


def run_infer_bench(rounds: int = 3, device: str = "auto") -> dict:
    """Time every shipped model that has a demo phantom; seed 0 is held out from all training."""
    from radview.ai.datasets import case_volume
    from radview.workflow.training_data import phantom_case
    from radview.ai.registry import find_models
    from radview.ai.benchmark import time_model

    cards, _ = find_models()
    rows = []
    for card in sorted(cards, key=lambda c: c.id):
        case = phantom_case(card.id, 0)
        rows.append(time_model(card, case_volume(case, card.modalities[0]), rounds, device))
    return {"cpu_count": os.cpu_count(), "target_overhead": TARGET_OVERHEAD, "models": rows}


def format_infer_table(report: dict) -> str:
    lines = [f"{'model':16s} {'device':7s} {'input':>16s} {'end to end':>11s} {'forward only':>13s} {'overhead':>9s}"]
    for r in report["models"]:
        shape = "x".join(str(s) for s in r["shape"])
        lines.append(f"{r['model']:16s} {r['device']:7s} {shape:>16s} {r['end_to_end_s']:>10.2f}s "
                     f"{r['forward_only_s']:>12.2f}s {r['overhead_ratio']:>8.2f}x")
    rounds = ", ".join(f"{r['model']} {r['rounds']}" for r in report["models"])
    lines.append(f"target: overhead <= {report['target_overhead']}x (medians after a warm-up; runs: {rounds})")
    return "\n".join(lines)
