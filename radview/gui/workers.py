"""The one way the window runs long work: in a worker thread, with progress, cancel and errors.

A task is a plain function `work(ctx)` from the services; it reports through `ctx.report`
(a ProgressCallback), checks `ctx.cancel`, and may hand intermediate results to the GUI with
`ctx.partial(obj)` (the first slice of a loading volume). Results, partials and errors arrive on
the GUI thread. Tasks started under the same `key` supersede each other: the older one is
cancelled and whatever it still delivers is dropped (the generation counter).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal
from superqt.utils import FunctionWorker

from radview.core.progress import Cancelled, CancelToken, Progress

log = logging.getLogger("radview.gui.workers")

PROGRESS_INTERVAL_S = 0.05  # at most 20 progress updates a second reach the GUI


class _Relay(QObject):
    """Lives on the GUI thread; signals emitted from the worker thread are queued to it."""

    progress = Signal(object)
    partial = Signal(object)


@dataclass
class TaskContext:
    """What a running task gets: progress reporting, its cancel flag, partial delivery."""

    relay: _Relay
    cancel: CancelToken = field(default_factory=CancelToken)
    _last_progress: float = 0.0

    def report(self, progress: Progress) -> None:
        """A ProgressCallback; throttled, but the last step always goes through."""
        now = time.monotonic()
        if now - self._last_progress >= PROGRESS_INTERVAL_S or progress.done >= progress.total:
            self._last_progress = now
            self.relay.progress.emit(progress)

    def partial(self, result: Any) -> None:
        """Hand an intermediate result to the GUI thread."""
        self.relay.partial.emit(result)


@dataclass
class Task:
    """A running piece of work as the status bar sees it."""

    name: str
    key: str
    generation: int
    context: TaskContext
    cancellable: bool = True
    progress: Progress | None = None

    def cancel(self) -> None:
        self.context.cancel.cancel()


class TaskRunner(QObject):
    """Starts tasks and tells the status bar about them."""

    task_started = Signal(object)  # Task
    task_progressed = Signal(object)  # Task
    task_finished = Signal(object)  # Task
    task_failed = Signal(object, object)  # Task, the exception (after on_error); not for cancels

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation: dict[str, int] = {}
        self._running: dict[str, Task] = {}
        self._workers: set[FunctionWorker] = set()

    def run(
        self,
        name: str,
        work: Callable[[TaskContext], Any],
        on_result: Callable[[Any], None],
        on_error: Callable[[BaseException], None],
        on_partial: Callable[[Any], None] | None = None,
        key: str | None = None,
        cancellable: bool = True,
    ) -> Task:
        """Run `work(ctx)` in a worker thread; callbacks run on the GUI thread if still current."""
        key = key or name
        if key in self._running:
            self._running[key].cancel()
        generation = self._generation.get(key, 0) + 1
        self._generation[key] = generation
        # no Qt parent: the task's context keeps the relay alive for as long as the worker may
        # emit, even when the window (and this runner) is destroyed first
        relay = _Relay()
        task = Task(name, key, generation, TaskContext(relay), cancellable)

        def current() -> bool:
            return self._generation.get(key) == generation

        def progressed(progress: Progress) -> None:
            task.progress = progress
            if current():
                self.task_progressed.emit(task)

        def partial(result: Any) -> None:
            if current() and on_partial is not None:
                on_partial(result)

        def returned(result: Any) -> None:
            if current():
                on_result(result)

        def errored(exc: BaseException) -> None:
            if isinstance(exc, Cancelled) or task.context.cancel.is_cancelled:
                log.info("%s cancelled", name)
                return
            log.error("%s failed", name, exc_info=exc)
            if current():
                on_error(exc)
                self.task_failed.emit(task, exc)

        def finished() -> None:
            if self._running.get(key) is task:
                del self._running[key]
            self._workers.discard(worker)
            relay.deleteLater()
            self.task_finished.emit(task)

        relay.progress.connect(progressed)
        relay.partial.connect(partial)
        worker = FunctionWorker(work, task.context)
        worker.returned.connect(returned)
        worker.errored.connect(errored)
        worker.finished.connect(finished)
        self._workers.add(worker)
        self._running[key] = task
        self.task_started.emit(task)
        worker.start()
        return task

    def running(self) -> list[Task]:
        """Tasks started and not yet finished."""
        return list(self._running.values())

    def cancel_all(self) -> None:
        """Ask every running task to stop (closing the window)."""
        for task in self._running.values():
            task.cancel()

    def wait_for_all(self, timeout_ms: int) -> bool:
        """Block until every worker thread has ended (they check their cancel flag between
        steps), so none emits into a window that is gone; False if some still run."""
        from PySide6.QtCore import QThreadPool

        return QThreadPool.globalInstance().waitForDone(timeout_ms)
