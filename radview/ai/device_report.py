"""What the AI runs on here, and a check that a model really runs (first start, `radview doctor`)."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from radview.ai.card import ModelCard


@dataclass
class ComputeDevice:
    """The device models run on with the current setting, in the words shown to the user."""

    device: str  # "cuda" or "cpu"
    description: str  # "NVIDIA H100 80GB HBM3, 79.1 GiB" or "CPU (no CUDA device): 16 threads"
    torch_version: str
    cuda_version: str | None


def compute_device(setting: str = "auto") -> ComputeDevice:
    """The device `setting` resolves to, with its name and memory (CUDA) or the CPU fallback."""
    import torch

    from radview.ai.engine import choose_device

    device = choose_device(setting)
    if device == "cuda":
        properties = torch.cuda.get_device_properties(0)
        description = f"{properties.name}, {properties.total_memory / 2**30:.1f} GiB (CUDA {torch.version.cuda})"
    else:
        why = "CPU chosen in the settings" if setting == "cpu" else "no CUDA device"
        description = f"CPU ({why}): {torch.get_num_threads()} threads of {os.cpu_count()} cores"
    return ComputeDevice(device, description, torch.__version__, torch.version.cuda)


def check_model_runs(card: ModelCard, setting: str = "auto") -> tuple[str, float]:
    """Load `card`'s weights (checksum verified) and run one forward pass on an empty input of
    the card's size; returns (device, seconds). Raises on any failure."""
    from radview.ai.warmup import warm_up

    warm_up()
    import torch

    from radview.ai.engine import choose_device
    from radview.ai.registry import load_network

    device = choose_device(setting)
    start = time.perf_counter()
    network = load_network(card, device)
    rows, cols = card.input_size
    with torch.inference_mode():
        output = network(torch.zeros(1, card.in_channels, rows, cols, device=device))
    if not torch.isfinite(output).all():
        raise RuntimeError(f"{card.id}: the check pass gave non-finite outputs")
    return device, time.perf_counter() - start
