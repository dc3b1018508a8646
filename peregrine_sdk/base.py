"""IntegrationBase: the interface of the original product's guide, kept exactly.

A plugin written as the guide shows (``fields``, ``connect``, ``test``, optional ``sync``) works
unchanged.  Built-ins additionally implement :meth:`IntegrationBase.probe`, which raises an
:class:`~peregrine_sdk.errors.IntegrationError` saying *why* a test failed; ``test()`` then stays
the guide's boolean and :meth:`check` carries the reason to the card.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from peregrine_sdk.errors import CheckResult, ErrorKind, IntegrationError
from peregrine_sdk.hooks import FieldChoices, has_hook

log = logging.getLogger(__name__)

TIERS: tuple[str, ...] = ("free", "paid", "premium")

#: Hint shown when a plugin's ``test()`` returns False without saying why.
NO_REASON_HINT = "The integration gave no reason; check the values you entered and test again."


class IntegrationBase:
    """Base class of every integration; see docs/adding-an-integration.md."""

    name: ClassVar[str] = ""    # unique machine key; equals the config file name
    label: ClassVar[str] = ""   # display name shown in the UI
    tier: ClassVar[str] = "free"  # "free" | "paid" | "premium"
    #: One sentence under the label on the card (optional).
    description: ClassVar[str] = ""
    #: The service's base addresses (name → URL), as class data: a card never shows them.
    #: Tests point a plugin at a loopback server with ``peregrine_sdk.testkit.pointed_at``.
    #: Self-hosted services (Nextcloud, CalDAV, Home Assistant) ask for theirs in a field instead.
    endpoints: ClassVar[dict[str, str]] = {}
    #: Where the service's documented protocol makes another category right for a fault the
    #: contract suite's sweep injects (fault name → categories), e.g. a webhook whose every 200
    #: means "posted": ``{"garbage": frozenset({ErrorKind.OK})}``.
    fault_outcomes: ClassVar[dict[str, frozenset[ErrorKind]]] = {}

    # -- the guide's interface ------------------------------------------------------------------
    def fields(self) -> list[dict]:
        """Form field definitions for the connection card: key, label, type, placeholder,
        required, help."""
        raise IntegrationError(ErrorKind.UNKNOWN, "This integration declares no fields.")

    def connect(self, config: dict) -> bool:
        """Store credentials in memory; True if every required field is present.  No network."""
        raise IntegrationError(ErrorKind.UNKNOWN, "This integration cannot take settings.")

    def test(self) -> bool:
        """Verify the stored credentials with a real call.  True on success; never raises."""
        return self.check().ok

    def sync(self, jobs: list[dict]) -> int:
        """Push jobs to the service; return how many were synced.  Default: no-op."""
        return 0

    # -- the richer, optional part ---------------------------------------------------------------
    def probe(self) -> None:
        """Built-ins: make the real call that proves the settings work, or raise IntegrationError."""
        raise IntegrationError(ErrorKind.UNKNOWN, "This integration has no connection test.")

    def check(self) -> CheckResult:
        """Run the connection test and say why it failed, in the shared vocabulary."""
        cls = type(self)
        try:
            if cls.probe is not IntegrationBase.probe:
                self.probe()
                return CheckResult.success()
            if cls.test is IntegrationBase.test:
                return CheckResult.failure(ErrorKind.UNKNOWN, "This integration has no test.")
            if self.test() is True:
                return CheckResult.success()
            return CheckResult.failure(ErrorKind.UNKNOWN, NO_REASON_HINT)
        except IntegrationError as exc:
            log.info("%s: test failed: %s (%s)", self.name, exc.kind.value, exc.detail)
            return CheckResult.from_error(exc)
        except Exception:  # a plugin's bug must not reach the UI as a traceback
            log.exception("%s: test raised", self.name)
            return CheckResult.failure(ErrorKind.UNKNOWN, NO_REASON_HINT)

    # -- config files (inherited, as the guide describes) ----------------------------------------
    @classmethod
    def config_path(cls, config_dir: Path) -> Path:
        return Path(config_dir) / "integrations" / f"{cls.name}.yaml"

    @classmethod
    def is_configured(cls, config_dir: Path) -> bool:
        return cls.config_path(config_dir).exists()

    @classmethod
    def save_config(cls, config: dict, config_dir: Path) -> None:
        """Write the config: password fields to the OS keychain (or, without one, the owner-only
        YAML), the rest to the YAML.  Call after test() returns True."""
        from peregrine_sdk import host

        host.current().secret_store(Path(config_dir)).save(cls, dict(config))

    @classmethod
    def load_config(cls, config_dir: Path) -> dict:
        """The saved config with its secrets filled in (keychain, ${ENV}), or {} if not
        configured."""
        from peregrine_sdk import host

        return host.current().secret_store(Path(config_dir)).load(cls)

    # -- helpers for built-ins -------------------------------------------------------------------
    def endpoint(self, name: str) -> str:
        """The base address ``name`` from :attr:`endpoints`, without a trailing slash."""
        return self.endpoints[name].rstrip("/")

    def required_present(self, config: dict[str, Any]) -> bool:
        """True when every required field has a non-blank value in ``config``."""
        for spec in self.fields():
            if not spec.get("required"):
                continue
            value = config.get(spec["key"])
            if value is None or (isinstance(value, str) and not value.strip()):
                return False
        return True


def clean_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """``connect()`` values as the card saves them: strings trimmed, anything else unchanged.
    Built-ins start ``connect()`` with it, so a pasted space never becomes part of a token."""
    return {key: value.strip() if isinstance(value, str) else value
            for key, value in config.items()}


def check_config(cls: type[IntegrationBase], config: dict
                 ) -> tuple[CheckResult, dict[str, list]]:
    """Build an instance, connect it with ``config``, test it and (on success) read its field
    choices (when it declares :class:`~peregrine_sdk.hooks.FieldChoices`): the whole Test button,
    as one call for a worker thread.  Never raises."""
    try:
        instance = cls()
        if not instance.connect(dict(config)):
            return CheckResult.failure(ErrorKind.UNKNOWN,
                                       "Some required settings are missing; fill in every field "
                                       "marked * and test again."), {}
    except Exception:  # a plugin's bug must not escape into the UI
        log.exception("%s: connect() raised", cls.name)
        return CheckResult.failure(ErrorKind.UNKNOWN, NO_REASON_HINT), {}
    result = instance.check()
    choices: dict[str, list] = {}
    if result.ok and has_hook(cls, FieldChoices):
        try:
            choices = dict(instance.field_choices() or {})
        except Exception:  # the test passed; missing choices only leave the defaults
            log.exception("%s: field_choices() raised", cls.name)
    return result, choices
