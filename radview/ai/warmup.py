"""Import torch and the MONAI parts inference needs, ahead of the first model run.

Importing MONAI holds the GIL in chunks of ~100 ms (measured here); the window does this once in
a worker soon after it appears, so the stalls land at start-up rather than during a run.
"""

from __future__ import annotations

import threading
import time

# Two threads importing MONAI at once (the warm-up and a model run that starts before it ends)
# can deadlock on its circular imports; a frozen app hit this (_DeadlockError). One at a time.
_import_lock = threading.Lock()


def warm_up() -> float:
    """Import the inference stack (once; later calls return at once); returns the seconds it took."""
    start = time.perf_counter()
    with _import_lock:
        import torch  # noqa: F401
        from monai.inferers import sliding_window_inference  # noqa: F401
        from monai.networks.nets import UNet  # noqa: F401
        from safetensors.torch import load_file  # noqa: F401

    return time.perf_counter() - start
