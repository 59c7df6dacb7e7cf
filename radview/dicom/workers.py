"""One pool of worker processes for header parsing and for decoding compressed pixels.

Processes, not threads: pure-Python parsing holds the GIL and slows the window
(docs/facts.md), and a native decoder that aborts on corrupt data (GDCM does, on some
mutated JPEG streams) takes down only a worker, never the application.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import threading

_pool: cf.ProcessPoolExecutor | None = None
_lock = threading.Lock()


def worker_pool() -> cf.ProcessPoolExecutor:
    """The shared pool, started on first use ('spawn': forking a threaded Qt process is unsafe)."""
    global _pool
    with _lock:
        if _pool is None:
            workers = max(1, min(4, os.cpu_count() or 2))
            _pool = cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def shutdown_worker_pool() -> None:
    """Stop the worker processes; the next use starts new ones (also after a worker crashed)."""
    global _pool
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
