"""Optional methods the app calls on a plugin that declares them, by mixing in a class.

Capabilities (:mod:`peregrine_sdk.capabilities`) say what a plugin does for the user; hooks say
how the app must drive it.  The app asks ``has_hook(cls, SignIn)`` rather than guessing from
method names, and registration (and ``check-integrations``) reports a plugin that defines a hook
method without declaring the hook, or declares a hook without implementing it — either way the
app would silently skip what the author wrote.
"""
from __future__ import annotations

from typing import ClassVar


class Hook:
    """Marker base: ``methods`` must be implemented by a class that declares the hook;
    ``optional`` methods may be, and have a default here."""

    methods: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()


class SignIn(Hook):
    """A sign-in in the browser or with a device code, behind the card's "Sign in" button.

    - ``begin_sign_in() -> SignInPrompt`` (worker thread): start it; the card shows the prompt
      (a link to open, or a code to type).
    - ``finish_sign_in() -> dict`` (worker thread): wait until the person approved; return the
      settings to save (a refresh token, a token cache).  Raise ``IntegrationError`` on refusal.
    - ``cancel_sign_in()`` (optional): stop a waiting ``finish_sign_in`` when the card closes.

    ``peregrine_sdk.sign_in`` has the browser (PKCE loopback redirect) and device-code flows.
    """

    methods = ("begin_sign_in", "finish_sign_in")
    optional = ("cancel_sign_in",)

    def cancel_sign_in(self) -> None:
        """Stop a waiting ``finish_sign_in``; by default there is nothing to stop."""


class RenewedSettings(Hook):
    """Settings a service renews while working, saved after each delivery.

    ``updated_settings() -> dict``: what changed since ``connect()`` (OneDrive's rotated token
    cache), or ``{}``.  The app merges it into the saved settings, so the next start does not
    sign in with a token that no longer works.
    """

    methods = ("updated_settings",)


class FieldChoices(Hook):
    """Options for ``choice`` fields that depend on the service, read after a passing test.

    ``field_choices() -> dict[str, list]``: field key → choices (strings or
    ``{"value", "label"}`` dicts), e.g. a Notion database's real columns.  Runs on a worker
    thread right after ``test()`` succeeded, on the same instance.
    """

    methods = ("field_choices",)


class AllDayEvents(Hook):
    """A calendar that stores all-day entries: its ``upsert_event`` honours
    ``InterviewEvent.all_day`` (a date-only event, e.g. ``DTSTART;VALUE=DATE`` or Google's
    ``start.date``).  No methods: the app sends a job's deadline and next action only to
    calendars that declare it, when the person opted in; others keep getting interviews only.
    """


ALL_HOOKS: tuple[type[Hook], ...] = (SignIn, RenewedSettings, FieldChoices, AllDayEvents)


def hooks_of(cls: type) -> list[type[Hook]]:
    return [hook for hook in ALL_HOOKS if issubclass(cls, hook)]


def has_hook(cls_or_obj: object, hook: type[Hook]) -> bool:
    cls = cls_or_obj if isinstance(cls_or_obj, type) else type(cls_or_obj)
    return issubclass(cls, hook)


def hook_problems(cls: type) -> list[str]:
    """Hooks declared but not implemented, and hook methods defined but not declared."""
    problems = []
    for hook in ALL_HOOKS:
        if issubclass(cls, hook):
            problems += [f"{method}() is required by the declared hook {hook.__name__} but "
                         f"not implemented" for method in hook.methods
                         if not callable(getattr(cls, method, None))]
            continue
        defined = [m for m in (*hook.methods, *hook.optional) if hasattr(cls, m)]
        if defined:
            problems.append(
                f"defines {', '.join(f'{m}()' for m in defined)} but does not declare the hook "
                f"{hook.__name__}, so the app would never call it; add it to the bases: "
                f"class {cls.__name__}(IntegrationBase, {hook.__name__}) with "
                f"'from peregrine_sdk.hooks import {hook.__name__}'")
    return problems
