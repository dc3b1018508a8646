"""The one worker pattern: a callable on QThreadPool, its result back on the UI thread by signal.

Widgets are never touched from ``run()``.  Callers tag work with a token and drop a result whose
token is stale (the form was edited meanwhile); :class:`TaskRunner` also abandons work that
outlives its timeout — the thread cannot be killed, but its late result is ignored.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)       # the exception
    progressed = Signal(int, int)  # done, total
    finished = Signal()


class Task(QRunnable):
    """Runs ``fn(*args, **kwargs)``; if ``fn`` takes ``progress=``, it may report (done, total)."""

    def __init__(self, fn: Callable[..., Any], *args: Any, with_progress: bool = False,
                 **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = TaskSignals()
        if with_progress:
            self.kwargs["progress"] = self.signals.progressed.emit

    def run(self) -> None:  # worker thread
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported to the UI, never raised there
            if not isinstance(exc, Exception):
                log.error("task %r ended by %r", self.fn, exc)
            else:
                log.debug("task %r failed", self.fn, exc_info=True)
            self.signals.failed.emit(exc)
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()


class _Delivery(QObject):
    """Lives on the UI thread: the worker's signals reach it queued, and it re-emits them there.

    Parented to the runner, so results for a closed dialog are dropped with it.
    """

    succeeded = Signal(object)
    failed = Signal(object)
    progressed = Signal(int, int)

    def __init__(self, runner: QObject, task: Task) -> None:
        super().__init__(runner)
        self._task = task  # keep the signals object alive until the work is over
        task.signals.succeeded.connect(self._on_succeeded)
        task.signals.failed.connect(self._on_failed)
        task.signals.progressed.connect(self._on_progressed)
        task.signals.finished.connect(self._on_finished)

    def _on_succeeded(self, result: object) -> None:
        self.succeeded.emit(result)

    def _on_failed(self, exc: object) -> None:
        self.failed.emit(exc)

    def _on_progressed(self, done: int, total: int) -> None:
        self.progressed.emit(done, total)

    def _on_finished(self) -> None:
        self._task = None
        self.deleteLater()


_pool: QThreadPool | None = None


def pool() -> QThreadPool:
    """The app's pool: more threads than cores, so a hung plugin cannot starve the others."""
    global _pool
    if _pool is None:
        _pool = QThreadPool()
        _pool.setMaxThreadCount(max(8, QThreadPool.globalInstance().maxThreadCount()))
        _pool.setExpiryTimeout(30_000)
    return _pool


class TaskRunner(QObject):
    """Starts tasks for one owner (a card, a dialog) and delivers only current results.

    ``start`` returns a token; ``on_success``/``on_failure`` run on the UI thread unless the token
    was superseded by ``invalidate()`` or a newer ``start`` with the same key, the timeout fired,
    or the owner is gone.  ``on_timeout`` runs if the work outlives ``timeout_ms``.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: dict[str, int] = {}
        self._next_token = 0
        self._running: dict[str, int] = {}

    def is_running(self, key: str = "default") -> bool:
        return key in self._running

    def invalidate(self, key: str = "default") -> None:
        """Make any in-flight result for ``key`` stale."""
        self._next_token += 1
        self._current[key] = self._next_token
        self._running.pop(key, None)

    def start(self, fn: Callable[..., Any], *args: Any, key: str = "default",
              on_success: Callable[[Any], None] | None = None,
              on_failure: Callable[[BaseException], None] | None = None,
              on_timeout: Callable[[], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None,
              timeout_ms: int | None = None, **kwargs: Any) -> int:
        self._next_token += 1
        token = self._next_token
        self._current[key] = token
        self._running[key] = token
        task = Task(fn, *args, with_progress=on_progress is not None, **kwargs)

        delivery = _Delivery(self, task)

        def current() -> bool:
            return self._current.get(key) == token

        def done() -> None:
            if self._running.get(key) == token:
                del self._running[key]

        def succeeded(result: Any) -> None:
            if current():
                done()
                if on_success:
                    on_success(result)

        def failed(exc: BaseException) -> None:
            if current():
                done()
                if on_failure:
                    on_failure(exc)

        delivery.succeeded.connect(succeeded)
        delivery.failed.connect(failed)
        if on_progress:
            delivery.progressed.connect(lambda d, t: current() and on_progress(d, t))
        if timeout_ms:
            def expire() -> None:
                if current():
                    self.invalidate(key)
                    if on_timeout:
                        on_timeout()
            QTimer.singleShot(timeout_ms, delivery, expire)
        pool().start(task)
        return token
