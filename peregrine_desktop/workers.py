"""The one worker pattern: a callable on QThreadPool, its result back on the UI thread by signal.

Work runs in a plain QRunnable that holds no QObject; results travel through one long-lived
dispatcher that lives on the UI thread (queued signal), so no Qt object is ever created or
destroyed across threads.  Widgets are never touched from a worker.  Each owner uses a
:class:`TaskRunner`: a result whose token is stale (the form was edited, the work timed out, or
the owner is gone) is dropped.  A timed-out thread cannot be killed; its late result is ignored.
"""
from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from peregrine_desktop.lifecycle.qt_import import Qt

log = logging.getLogger(__name__)

Handler = Callable[[str, Any], None]


class _Dispatcher(QObject):
    """Created once on the UI thread; carries (task id, kind, payload) from workers to it."""

    delivered = Signal(int, str, object)

    def __init__(self) -> None:
        super().__init__()
        self.handlers: dict[int, Handler] = {}
        self.delivered.connect(self._route, Qt.ConnectionType.QueuedConnection)

    def _route(self, task_id: int, kind: str, payload: object) -> None:
        handler = self.handlers.get(task_id)
        if handler is None:
            return
        if kind != "progress":
            del self.handlers[task_id]
        handler(kind, payload)


class _Job(QRunnable):
    def __init__(self, dispatcher: _Dispatcher, task_id: int, fn: Callable[..., Any],
                 args: tuple, kwargs: dict) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.dispatcher, self.task_id = dispatcher, task_id
        self.fn, self.args, self.kwargs = fn, args, kwargs

    def run(self) -> None:  # worker thread: no widgets, no new QObjects
        try:
            result = self.fn(*self.args, **self.kwargs)
        except Exception as exc:  # noqa: BLE001 - handed to the UI as a value, never raised there
            log.debug("task %r failed", self.fn, exc_info=True)
            self._deliver("error", exc)
        except BaseException as exc:  # noqa: BLE001 - SystemExit from a plugin must not kill us
            log.error("task %r ended by %r", self.fn, exc)
            self._deliver("error", RuntimeError(repr(exc)))
        else:
            self._deliver("ok", result)

    def _deliver(self, kind: str, payload: object) -> None:
        """Hand the outcome to the UI thread; once the app has quit there is nobody to tell."""
        if not shiboken6.isValid(self.dispatcher):
            log.debug("task %r finished after the app quit; its result is dropped", self.fn)
            return
        try:
            self.dispatcher.delivered.emit(self.task_id, kind, payload)
        except RuntimeError:    # deleted between the check and the emit
            log.debug("task %r finished while the app quit; its result is dropped", self.fn)


_pools: dict[str, QThreadPool] = {}
_dispatcher: _Dispatcher | None = None
_ids = itertools.count(1)

#: Lanes of work, each with its own threads: fetching web pages the user pasted waits on servers
#: we do not control, so it never takes a thread that reading a file or syncing needs.
LANES = {"default": 8, "network": 4}


def pool(lane: str = "default") -> QThreadPool:
    """The pool for ``lane``: the default one has more threads than cores, so a hung plugin
    cannot starve the others; the network lane is small and separate."""
    if lane not in _pools:
        lane_pool = QThreadPool()
        size = LANES[lane]
        if lane == "default":
            size = max(size, QThreadPool.globalInstance().maxThreadCount())
        lane_pool.setMaxThreadCount(size)
        lane_pool.setExpiryTimeout(30_000)
        _pools[lane] = lane_pool
    return _pools[lane]


def dispatcher() -> _Dispatcher:
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = _Dispatcher()
    return _dispatcher


def submit(fn: Callable[..., Any], *args: Any, handler: Handler,
           with_progress: bool = False, lane: str = "default", **kwargs: Any) -> int:
    """Run ``fn`` on the ``lane``'s pool; ``handler(kind, payload)`` runs on the UI thread with
    kind "ok", "error" or "progress".  Call from the UI thread."""
    hub = dispatcher()
    task_id = next(_ids)
    hub.handlers[task_id] = handler
    if with_progress:
        kwargs["progress"] = lambda done, total: hub.delivered.emit(task_id, "progress",
                                                                    (done, total))
    pool(lane).start(_Job(hub, task_id, fn, args, kwargs))
    return task_id


class TaskRunner(QObject):
    """Starts tasks for one owner (a card, a dialog) and delivers only current results.

    ``start`` returns a token; ``on_success``/``on_failure`` run on the UI thread unless the token
    was superseded by ``invalidate()`` or a newer ``start`` with the same key, the timeout fired,
    or the runner (and so its owner) was destroyed.  ``on_timeout`` runs if the work outlives
    ``timeout_ms``.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: dict[str, int] = {}
        self._running: dict[str, int] = {}
        self._tokens = itertools.count(1)

    def is_running(self, key: str = "default") -> bool:
        return key in self._running

    def invalidate(self, key: str = "default") -> None:
        """Make any in-flight result for ``key`` stale."""
        self._current[key] = next(self._tokens)
        self._running.pop(key, None)

    def start(self, fn: Callable[..., Any], *args: Any, key: str = "default",
              on_success: Callable[[Any], None] | None = None,
              on_failure: Callable[[BaseException], None] | None = None,
              on_timeout: Callable[[], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None,
              timeout_ms: int | None = None, lane: str = "default", **kwargs: Any) -> int:
        token = next(self._tokens)
        self._current[key] = token
        self._running[key] = token

        def current() -> bool:
            return shiboken6.isValid(self) and self._current.get(key) == token

        def handle(kind: str, payload: Any) -> None:
            if not current():
                return
            if kind == "progress":
                if on_progress:
                    on_progress(*payload)
                return
            self._running.pop(key, None)
            if kind == "ok" and on_success:
                on_success(payload)
            elif kind == "error" and on_failure:
                on_failure(payload)

        submit(fn, *args, handler=handle, with_progress=on_progress is not None, lane=lane,
               **kwargs)
        if timeout_ms:
            def expire() -> None:
                if current():
                    self.invalidate(key)
                    if on_timeout:
                        on_timeout()
            QTimer.singleShot(timeout_ms, self, expire)
        return token
