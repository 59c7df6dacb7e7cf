"""Progress reports and cancellation shared by every long-running step."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """How far a long task has come: `done` of `total` steps, and what it is doing."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        """Share of the work done, 0..1 (0 when the total is unknown)."""
        return self.done / self.total if self.total > 0 else 0.0


ProgressCallback = Callable[[Progress], None]


class Cancelled(Exception):
    """Raised inside a task when its CancelToken was set."""


class CancelToken:
    """A flag a caller sets to stop a task between steps; safe across threads."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the task to stop at its next check."""
        self._event.set()

    @property
    def is_cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise Cancelled if cancel() was called."""
        if self._event.is_set():
            raise Cancelled()


def report(callback: ProgressCallback | None, done: int, total: int, message: str = "") -> None:
    """Send a Progress to `callback` if there is one."""
    if callback is not None:
        callback(Progress(done, total, message))
