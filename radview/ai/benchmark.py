"""Timings for `radview bench infer`: a model's whole run on a study against its bare forward passes.

Both sides run in the same process on the same input: the end-to-end time is `run_model` (inputs,
inference, post-processing); the baseline feeds the same prepared batches straight to the network
(whole or in sliding windows, as the run does: network_pass), nothing else.
"""

from __future__ import annotations

import statistics
import time

from radview.ai.card import ModelCard
from radview.ai.card_grid import on_card_grid
from radview.ai.engine import _network, choose_device, run_model
from radview.ai.predict import SliceInputs, network_pass
from radview.core.volume import Volume

MIN_SECONDS = 4.0  # end-to-end time each model is timed over at least
MAX_ROUNDS = 60


def forward_only_s(card: ModelCard, volume: Volume, device: str, batch_size: int = 8) -> float:
    """Seconds for the network alone over every slice of `volume` (inputs prepared beforehand, at
    the card's pixel spacing as `run_model` prepares them)."""
    import torch

    network = _network(card, device)
    grid = on_card_grid(card, volume)
    inputs = SliceInputs(card, grid.voxels, grid.display_inverted)
    batches = [torch.from_numpy(inputs.batch(s, min(s + batch_size, len(inputs)))).to(device)
               for s in range(0, len(inputs), batch_size)]
    autocast = torch.float16 if device == "cuda" else None
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    with torch.inference_mode():
        for batch in batches:
            with torch.autocast(device_type=device, dtype=autocast, enabled=autocast is not None):
                network_pass(network, card, batch, batch_size)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def time_model(card: ModelCard, volume: Volume, rounds: int = 3, device_setting: str = "auto",
               min_seconds: float = MIN_SECONDS, max_rounds: int = MAX_ROUNDS) -> dict:
    """Median end-to-end and forward-only seconds of `rounds` runs each, or as many more (up to
    max_rounds) as fill min_seconds of end-to-end time, and the overhead: the median of each
    run's time over the bare pass timed right after it. Paired so, a machine whose speed drifts
    over minutes (this one: the CT's bare pass 10.6-15.9 s within an hour) slows both sides of a
    pair alike; timed in two blocks, the CT's ratio read 1.03x and 1.32x the same afternoon."""
    device = choose_device(device_setting)
    run_model(card, volume, device)  # warm-up: weights loaded, kernels chosen
    forward_only_s(card, volume, device)
    # a bare pass right after a run is not slowed by it: BLAS is held to one thread during a run
    # (radview.ai.blas_threads); before, its idle threads spun and a radiograph's next bare pass
    # took 0.11 s instead of 0.022 s
    ends, forwards, findings = [], [], 0
    while len(ends) < rounds or (sum(ends) < min_seconds and len(ends) < max_rounds):
        start = time.perf_counter()
        findings = len(run_model(card, volume, device).findings)
        ends.append(time.perf_counter() - start)
        forwards.append(forward_only_s(card, volume, device))
    ratios = [e / f for e, f in zip(ends, forwards)]
    return {"model": card.id, "device": device, "slices": volume.shape[0], "shape": list(volume.shape),
            "end_to_end_s": round(statistics.median(ends), 3), "forward_only_s": round(statistics.median(forwards), 3),
            "overhead_ratio": round(statistics.median(ratios), 2),
            "overhead_ratio_range": [round(min(ratios), 2), round(max(ratios), 2)], "findings": findings,
            "rounds": len(ends)}
