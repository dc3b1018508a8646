"""EventHub: the one event path.  It listens to the JobRepository, turns each committed change
into pipeline events, asks its subscribers (calendars, notifiers, stores) what each connected
service must do, queues that in the durable outbox, and lets the scheduler deliver it on the
worker pool.  The local change is already saved when the hub hears of it, so a failing service
can delay a delivery but never block or undo what the user did.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

import integrations
from peregrine_sdk.calendar_events import calendar_preferences, event_uid
from peregrine_sdk.base import IntegrationBase
from peregrine_sdk.capabilities import (CalendarEvents, Capability, DocumentUpload,
                                       Notifications, has_capability)
from peregrine_desktop.settings.configfiles import ConfigFileError
from peregrine_desktop.events import event_links
from peregrine_desktop.events.date_entries import (date_entry_deliveries, imported_deliveries,
                                                   option_deliveries)
from peregrine_desktop.events.delivery import DeliveryScheduler
from peregrine_desktop.events.outbox import Delivery, Outbox
from peregrine_desktop.events.pipeline import (EVENT_FIELDS, JOB_REMOVED, NOTIFY_CHOICE,
                                               PipelineEvent, event_to_payload,
                                               events_for_change, has_interview,
                                               interview_event, job_phrase, notification_text,
                                               when_text)
from peregrine_desktop.settings.profile import UserProfile, load_profile
from peregrine_desktop.settings.tiers import tier_allows

log = logging.getLogger(__name__)

#: What the hub delivers to: a connected service with one of these shows up in the activity log.
DELIVERED = (CalendarEvents, Notifications, DocumentUpload)


@dataclass(frozen=True)
class Target:
    """A connected integration a subscriber may address: its class and saved settings."""

    name: str
    cls: type[IntegrationBase]
    config: Mapping[str, Any]

    @property
    def label(self) -> str:
        return self.cls.label


#: A subscriber turns one pipeline event into deliveries for the hub's connected services.
Subscriber = Callable[[PipelineEvent, "EventHub"], Iterable[Delivery]]


def calendar_deliveries(event: PipelineEvent, hub: "EventHub") -> list[Delivery]:
    """Keep one event per job in every connected calendar: create or update it while the job
    has an interview (and is not rejected), remove it when that ends — unless the calendar's
    settings say to keep it."""
    job, old = event.job, event.old
    wanted = has_interview(job) and event.kind != JOB_REMOVED
    was = has_interview(old)
    if wanted and was and all(job.get(k) == (old or {}).get(k) for k in EVENT_FIELDS):
        return []
    if not wanted and not was:
        return []
    revision = job.get("updated_at")
    uid = event_uid(job.get("uid") or (old or {}).get("uid") or event.job_id)
    legacy = event_uid(event.job_id)        # the UID an older version gave this job's event
    found = []
    for target in hub.targets(CalendarEvents):
        preferences = calendar_preferences(target.config)
        linked = event_links.linked_uid(hub.repository.store, target.name, event.job_id)
        replaces = "" if linked else (legacy if legacy != uid and hub.outbox.delivered_event(
            target.name, event.job_id, legacy) else "")
        target_uid = linked or uid
        if wanted:
            interview = interview_event(job, preferences, target_uid)
            found.append(Delivery(
                target.name, event.job_id, event.kind, "upsert_event",
                {"event": event_to_payload(interview), "revision": revision,
                 **({"replaces": replaces} if replaces else {})},
                f"the interview for {job_phrase(job)} on {when_text(job)}"))
        elif not preferences.keep_events:
            found.append(Delivery(
                target.name, event.job_id, event.kind, "delete_event",
                {"uid": target_uid, "revision": revision,
                 **({"replaces": replaces} if replaces else {})},
                f"removing the interview for {job_phrase(job)}"))
    return found


def notification_deliveries(event: PipelineEvent, hub: "EventHub") -> list[Delivery]:
    """One short message per connected notifier, for the kinds of event the user chose."""
    choice = NOTIFY_CHOICE.get(event.kind)
    if choice is None or choice not in hub.notify_events():
        return []
    text = notification_text(event)
    if not text:
        return []
    payload = {"message": text, "title": "Peregrine", "url": event.job.get("url") or None,
               "revision": event.job.get("updated_at")}
    return [Delivery(target.name, event.job_id, event.kind, "notify", payload,
                     f"the message “{text}”")
            for target in hub.targets(Notifications)]


class EventHub(QObject):
    """Subscribes to a JobRepository; publishes pipeline events; owns the outbox's scheduler.

    ``published(event)`` fires for every pipeline event; ``outbox_changed()`` whenever waiting
    counts may have changed (connect the cards' "N waiting" and the activity log to it).
    Bulk imports (``jobs_reset``) announce nothing: thousands of "new job" messages help nobody;
    only the deadlines and next actions they bring go to calendars (when the person opted in).
    """

    published = Signal(object)
    outbox_changed = Signal()

    def __init__(self, repository: Any, config_dir: Path, *, outbox: Outbox | None = None,
                 profile: Callable[[], UserProfile] | None = None,
                 registry: Mapping[str, type[IntegrationBase]] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.registry = registry
        self.repository = repository
        self.config_dir = Path(config_dir)
        self.outbox = outbox or Outbox(repository.store)
        self._profile = profile or (lambda: load_profile(self.config_dir / "user.yaml")[0])
        self.subscribers: list[Subscriber] = [calendar_deliveries, date_entry_deliveries,
                                              notification_deliveries]
        self.scheduler = DeliveryScheduler(self.outbox, self.config_dir, self, registry=registry)
        self.scheduler.batch_finished.connect(lambda _name: self.outbox_changed.emit())
        self.delivered = self.scheduler.delivered
        repository.job_added.connect(lambda job: self.on_change(job, None))
        repository.job_changed.connect(self.on_change)
        repository.job_removed.connect(lambda job: self.on_change(None, job))
        repository.jobs_imported.connect(
            lambda ids: self.queue(imported_deliveries(self, list(ids))))
        self.apply_calendar_option()    # the option may have changed while the app was closed
        self.scheduler.pump()   # whatever waited while the app was closed

    # -- who is listening ---------------------------------------------------------------------------
    def subscribe(self, subscriber: Subscriber) -> None:
        """Add a subscriber (e.g. document storage) that turns events into deliveries."""
        self.subscribers.append(subscriber)

    def notify_events(self) -> list[str]:
        return list(self._profile().notify_events)

    def calendar_entries_on(self) -> bool:
        """Whether deadlines and next actions go to calendars as all-day entries."""
        return bool(self._profile().calendar_all_day)

    def apply_calendar_option(self) -> int:
        """Bring calendars in line with the all-day option (after the profile was saved, or a
        calendar connected): put every job's entries in, or take them all out; returns how many
        deliveries were queued."""
        try:
            deliveries = option_deliveries(self)
        except Exception:  # noqa: BLE001 - a failure here must not stop the rest of the app
            log.exception("bringing calendars in line with the all-day option failed")
            return 0
        return self.queue(deliveries)

    def targets(self, capability: type[Capability]) -> list[Target]:
        """Connected integrations with ``capability`` that the user's plan unlocks."""
        tier = self._profile().effective_tier
        found = []
        registry = integrations.REGISTRY if self.registry is None else self.registry
        for name, cls in registry.items():
            if not has_capability(cls, capability) or not cls.is_configured(self.config_dir):
                continue
            if not tier_allows(tier, cls.tier):
                continue
            try:
                config = cls.load_config(self.config_dir)
            except ConfigFileError as exc:
                log.warning("%s: settings unreadable, skipped: %s", name, exc.problem)
                continue
            found.append(Target(name, cls, config))
        return found

    def connected_labels(self) -> list[str]:
        """The names of the connected services the hub delivers to (calendars, notifiers,
        document stores) that the plan unlocks; only their settings files are looked at."""
        tier = self._profile().effective_tier
        registry = integrations.REGISTRY if self.registry is None else self.registry
        return sorted(cls.label for cls in registry.values()
                      if any(has_capability(cls, c) for c in DELIVERED)
                      and tier_allows(tier, cls.tier) and cls.is_configured(self.config_dir))

    # -- events -------------------------------------------------------------------------------------
    def on_change(self, new: Mapping[str, Any] | None, old: Mapping[str, Any] | None) -> int:
        """A committed repository change: publish its events; returns deliveries queued."""
        return self.publish(events_for_change(new, old))

    def publish(self, events: Iterable[PipelineEvent]) -> int:
        """Queue what every subscriber wants done for ``events`` and start delivering.

        Deliveries identical in service, job, action and payload (one change seen as two events,
        e.g. a status change and a rejection) are queued once.
        """
        events = list(events)
        deliveries: dict[tuple, Delivery] = {}
        for event in events:
            self.published.emit(event)
            for subscriber in self.subscribers:
                try:
                    produced = list(subscriber(event, self))
                except Exception:  # noqa: BLE001 - one broken subscriber must not stop others
                    log.exception("subscriber %r failed on %s", subscriber, event.kind)
                    continue
                for item in produced:
                    key = (item.integration, item.job_id, item.action, item.payload_hash)
                    deliveries.setdefault(key, item)
        return self.queue(deliveries.values())

    def queue(self, deliveries: Iterable[Delivery]) -> int:
        """Put deliveries in the outbox and start sending; returns how many were new."""
        deliveries = list(deliveries)
        if not deliveries:
            return 0
        added = self.outbox.enqueue(deliveries)
        if added:
            self.outbox_changed.emit()
            self.scheduler.pump()
        return len(added)

    # -- for the cards and the log ------------------------------------------------------------------
    def waiting_count(self, name: str) -> int:
        return self.outbox.waiting_counts().get(name, 0)

    def problem(self, name: str) -> str | None:
        """Why ``name``'s deliveries are waiting, or None when nothing failed."""
        return self.outbox.problems().get(name)

    def card_note(self, name: str) -> str:
        """The line for a card: "3 waiting: Could not reach the service. …", or ''."""
        waiting = self.waiting_count(name)
        if not waiting:
            return ""
        problem = self.problem(name)
        return f"{waiting} waiting: {problem}" if problem else f"{waiting} waiting"

    def retry_now(self, name: str | None = None) -> int:
        """Deliver what waits (for one service, or all) now instead of at its backoff time."""
        count = self.outbox.retry_now(name)
        self.scheduler.pump()
        return count

    def on_connection_tested(self, name: str, result: Any) -> None:
        """Slot for ConnectionCard.test_finished: a passing test means "reachable again"."""
        if getattr(result, "ok", False) and self.waiting_count(name):
            self.retry_now(name)

    def shutdown(self) -> None:
        self.scheduler.stop()
