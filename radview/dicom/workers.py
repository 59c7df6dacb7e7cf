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


def start_workers() -> None:
    """Start the pool's processes now (each imports pydicom, about a second on 2 cores), so the
    first large folder opened does not wait for them; returns at once."""
    pool = worker_pool()
    for _ in range(pool._max_workers):  # one trivial task per worker: the executor starts them on demand
        pool.submit(os.getpid)


# A native decoder looping on crafted data must not hold the application (or its exit) forever.
DECODE_TIMEOUT_S = 120.0


def shutdown_worker_pool(kill: bool = False) -> None:
    """Stop the worker processes; the next use starts new ones (also after a worker crashed).

    kill: end workers that are still busy (a decoder stuck on a file) instead of letting them
    finish; otherwise the interpreter's exit would wait for them.
    """
    global _pool
    with _lock:
        if _pool is not None:
            # the executor offers no public way to end busy workers before Python 3.14's terminate_workers()
            processes = list(getattr(_pool, "_processes", {}).values()) if kill else []
            _pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                if process.is_alive():
                    process.kill()
            _pool = None
