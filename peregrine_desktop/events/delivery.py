"""Making deliveries: a worker-thread function that sends one service's due outbox rows, and the
scheduler on the UI thread that starts it (on the pool) now and again when retries fall due.

One service's rows go out in order, in one task; when the service is unreachable or refuses the
credentials, the rest of its rows wait with it instead of each failing in turn.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

import integrations
from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.capabilities import Document
from peregrine_sdk.errors import ErrorKind, IntegrationError
from peregrine_sdk.hooks import RenewedSettings, has_hook
from peregrine_desktop.events.outbox import NEEDS_USER, UNREACHABLE, Attempt, Outbox
from peregrine_desktop.events.pipeline import event_from_payload
from peregrine_desktop.workers import TaskRunner
from peregrine_desktop.settings import paths

log = logging.getLogger(__name__)


def _upsert_event(instance: Any, payload: Mapping[str, Any]) -> str:
    """The event under the job's global UID; the one an older version made under its integer
    id (``replaces``) goes first, so the calendar never shows the interview twice."""
    if payload.get("replaces"):
        instance.delete_event(payload["replaces"])
    return instance.upsert_event(event_from_payload(payload["event"]))


def _delete_event(instance: Any, payload: Mapping[str, Any]) -> str:
    if payload.get("replaces"):
        instance.delete_event(payload["replaces"])
    instance.delete_event(payload["uid"])
    return ""


def _notify(instance: Any, payload: Mapping[str, Any]) -> str:
    instance.notify(payload["message"], title=payload.get("title") or "Peregrine",
                    url=payload.get("url") or None)
    return ""


def _upload_document(instance: Any, payload: Mapping[str, Any]) -> str:
    return instance.upload_document(Document(Path(payload["local_path"]),
                                             tuple(payload["folder"]), payload["sha256"]))


#: Outbox action → how to perform it on a connected integration; the result is kept (a link).
ACTIONS: dict[str, Callable[[Any, Mapping[str, Any]], Any]] = {
    "upsert_event": _upsert_event,
    "delete_event": _delete_event,
    "notify": _notify,
    "upload_document": _upload_document,
}


def _connected(cls: type[IntegrationBase], config_dir: Path) -> IntegrationBase:
    instance = cls()
    if not instance.connect(cls.load_config(config_dir)):
        raise IntegrationError(ErrorKind.INVALID_AUTH,
                               "Some required settings are missing; open its card, fill them in "
                               "and save.")
    return instance


def deliver_due(outbox: Outbox, name: str, config_dir: Path,
                registry: Mapping[str, type[IntegrationBase]] | None = None
                ) -> list[tuple[dict[str, Any], Attempt]]:
    """Worker thread: send ``name``'s due deliveries, oldest first; record every outcome."""
    cls = (integrations.REGISTRY if registry is None else registry).get(name)
    label = cls.label if cls is not None else name
    rows = outbox.claim(name)
    if not rows:
        return []
    if cls is None or not cls.is_configured(config_dir):
        outbox.fail([r["id"] for r in rows],
                    f"{label} is no longer connected in Settings → Integrations.")
        return []
    outcomes: list[tuple[dict[str, Any], Attempt]] = []
    instance: IntegrationBase | None = None
    for index, row in enumerate(rows):
        try:
            if instance is None:
                instance = _connected(cls, config_dir)
            action = ACTIONS.get(row["action"])
            if action is None:
                raise IntegrationError(ErrorKind.UNKNOWN,
                                       f"This version of Peregrine cannot {row['action']}.")
            result = action(instance, row["payload"])
            attempt = Attempt(row["id"], True, str(result or ""))
        except IntegrationError as exc:
            log.info("%s: %s failed: %s (%s)", name, row["action"], exc.kind.value, exc.detail)
            attempt = Attempt(row["id"], False, kind=exc.kind, hint=exc.hint,
                              retry_after=exc.retry_after)
        except Exception:  # noqa: BLE001 - a plugin's bug is recorded, never raised into Qt
            log.exception("%s: %s raised", name, row["action"])
            attempt = Attempt(row["id"], False, kind=ErrorKind.UNKNOWN,
                              hint=f"The integration failed unexpectedly; {paths.see_the_log()}.")
        outbox.record(attempt)
        outcomes.append((row, attempt))
        if not attempt.ok and (attempt.kind in UNREACHABLE or attempt.kind in NEEDS_USER):
            rest = [r["id"] for r in rows[index + 1:]]
            if rest:
                outbox.release(rest, not_before_of=row["id"])
            break
    if instance is not None:
        _keep_renewed_settings(cls, instance, config_dir)
    return outcomes


def _keep_renewed_settings(cls: type[IntegrationBase], instance: Any, config_dir: Path) -> None:
    """Save what the service renewed while working (OneDrive's rotated refresh token), so the
    next run does not sign in with a token that no longer works."""
    if not has_hook(instance, RenewedSettings):
        return
    try:
        changes = instance.updated_settings()
        if changes:
            cls.save_config({**cls.load_config(config_dir), **changes}, config_dir)
    except Exception:  # noqa: BLE001 - the deliveries are done; a failed save is only logged
        log.exception("%s: renewed settings could not be saved", cls.name)


class DeliveryScheduler(QObject):
    """Starts a worker per service with due deliveries and wakes up when the next retry is due.

    ``delivered(row, result)`` fires on the UI thread for each success (a store's link, say);
    ``batch_finished(name)`` after each service's run, when waiting counts may have changed.
    """

    delivered = Signal(object, str)
    batch_finished = Signal(str)

    def __init__(self, outbox: Outbox, config_dir: Path, parent: QObject | None = None, *,
                 registry: Mapping[str, type[IntegrationBase]] | None = None,
                 max_sleep_ms: int = 60_000) -> None:
        super().__init__(parent)
        self.registry = registry
        self.outbox = outbox
        self.config_dir = Path(config_dir)
        self.max_sleep_ms = max_sleep_ms
        self.runner = TaskRunner(self)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.pump)
        self._running: set[str] = set()

    def busy(self) -> bool:
        return bool(self._running)

    def pump(self) -> int:
        """Start a run for every service with due deliveries that is not already running."""
        started = 0
        for name in self.outbox.due_integrations():
            if name in self._running:
                continue
            self._running.add(name)
            self.runner.start(deliver_due, self.outbox, name, self.config_dir, self.registry,
                              key=name,
                              on_success=lambda outcomes, n=name: self._finished(n, outcomes),
                              on_failure=lambda exc, n=name: self._failed(n, exc))
            started += 1
        self._arm()
        return started

    def _failed(self, name: str, exc: BaseException) -> None:
        log.error("delivering to %s failed: %r", name, exc)
        self._finished(name, [])

    def _finished(self, name: str, outcomes: list[tuple[dict[str, Any], Attempt]]) -> None:
        self._running.discard(name)
        for row, attempt in outcomes:
            if attempt.ok:
                self.delivered.emit(row, attempt.result)
        self.batch_finished.emit(name)
        self.pump()

    def _arm(self) -> None:
        """Sleep until the next waiting delivery of a service that is not running falls due."""
        due = self.outbox.next_due_at(exclude=self._running)
        if due is None:
            self.timer.stop()
            return
        wait_ms = int(max(0.0, due - self.outbox.clock()) * 1000)
        self.timer.start(min(self.max_sleep_ms, wait_ms))

    def stop(self) -> None:
        """Stop waking up (the app is closing); running sends finish, their results are dropped."""
        self.timer.stop()
        for name in list(self._running):
            self.runner.invalidate(name)
        self._running.clear()
