"""The one event path: job changes → pipeline events → deliveries in a durable outbox →
calendars, notifiers and stores, on the worker pool; plus the .ics export of all interviews.

Wiring (main window)::

    hub = EventHub(repository, paths.config_dir(), parent=window)
    card.test_finished.connect(hub.on_connection_tested)
    hub.outbox_changed.connect(...)   # show hub.card_note(name) ("3 waiting: …") on each card
    ActivityLogDialog(hub, window).exec()
"""
from peregrine_desktop.events.hub import EventHub, Target, calendar_deliveries, \
    notification_deliveries
from peregrine_desktop.events.outbox import Delivery, Outbox
from peregrine_desktop.events.pipeline import PipelineEvent, events_for_change

__all__ = ["Delivery", "EventHub", "Outbox", "PipelineEvent", "Target", "calendar_deliveries",
           "events_for_change", "notification_deliveries"]
