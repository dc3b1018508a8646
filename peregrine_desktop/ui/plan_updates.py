"""Windows follow the plan: the profile's plan-changed notification, bridged to widgets.

``UserProfile.watch_plan`` is the one notification (Qt-free, fired when the wizard or Settings
activates or removes a licence key); :func:`follow_plan` ties a widget's method to it for the
widget's lifetime, so a closed window is never called.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from peregrine_desktop.settings.profile import UserProfile


def follow_plan(profile: UserProfile, owner: QObject, slot: Callable[[str], None]
                ) -> Callable[[], None]:
    """Call ``slot(effective_tier)`` on every plan change until ``owner`` is destroyed;
    returns the function that stops it sooner."""
    import shiboken6

    def deliver(tier: str) -> None:
        if shiboken6.isValid(owner):
            slot(tier)

    stop = profile.watch_plan(deliver)
    owner.destroyed.connect(lambda *_args: stop())
    return stop
