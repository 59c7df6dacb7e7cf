"""numpy's and scipy's BLAS held to one thread while a model runs.

OpenBLAS's idle threads spin for a while after each call and take the cores from torch's next
pass: a radiograph's run back to back took 0.13 s instead of 0.047 s on a 2-core CPU. The
matrices the runs give BLAS are small (the input check's 288 features, the false-positive
reduction's 16 units), so one thread costs nothing there. Runs may overlap (the window runs
each model request in its own worker): the limit is set when the first run starts and the
library's own count given back when the last one ends.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_runs = 0
_controller = None  # threadpoolctl's view of the BLAS libraries loaded, found at the first run
_limiter = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Around a model run: BLAS at one thread from the first overlapping run to the last."""
    global _runs, _controller, _limiter
    with _lock:
        if _runs == 0:
            from threadpoolctl import ThreadpoolController

            if _controller is None:  # numpy and scipy are loaded by then: the engine imports them
                _controller = ThreadpoolController()
            _limiter = _controller.limit(limits=1, user_api="blas")
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None
