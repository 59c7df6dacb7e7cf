"""Import torch and the MONAI parts inference needs, ahead of the first model run.

Importing MONAI holds the GIL in chunks of ~100 ms (measured here); the window does this once in
a worker soon after it appears, so the stalls land at start-up rather than during a run.
"""

from __future__ import annotations

import time


def warm_up() -> float:
    """Import the inference stack; returns the seconds it took."""
    start = time.perf_counter()
    import torch  # noqa: F401
    from monai.inferers import sliding_window_inference  # noqa: F401
    from monai.networks.nets import UNet  # noqa: F401
    from safetensors.torch import load_file  # noqa: F401

    return time.perf_counter() - start
