"""One error vocabulary for every integration, and one sentence per category for people.

Integrations raise :class:`IntegrationError` with a category and, where they know better than the
generic sentence, a hint naming the fix.  The UI only ever shows ``CheckResult.message``.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ErrorKind(str, enum.Enum):
    OK = "ok"
    INVALID_AUTH = "invalid_auth"
    CANNOT_CONNECT = "cannot_connect"
    INVALID_ADDRESS = "invalid_address"
    TIMEOUT = "timeout"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    UNKNOWN = "unknown"


#: The one table from category to what a person reads on the card.
MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.OK: "Connected",
    ErrorKind.INVALID_AUTH: "The service rejected these credentials",
    ErrorKind.CANNOT_CONNECT: "Could not reach the service",
    ErrorKind.INVALID_ADDRESS: "The address is malformed",
    ErrorKind.TIMEOUT: "The service took too long to answer",
    ErrorKind.NOT_FOUND: "The service could not find what these settings point to",
    ErrorKind.RATE_LIMITED: "The service asked us to slow down",
    ErrorKind.UNKNOWN: "The connection test failed",
}

#: What to do about it when the integration has nothing more specific to say.
DEFAULT_HINTS: dict[ErrorKind, str] = {
    ErrorKind.OK: "",
    ErrorKind.INVALID_AUTH: "Check the token or password, or create a new one, and test again.",
    ErrorKind.CANNOT_CONNECT: "Check the address and your internet connection, then test again.",
    ErrorKind.INVALID_ADDRESS: "Paste the whole web address, starting with https://, and test "
                               "again.",
    ErrorKind.TIMEOUT: "The service may be busy or down; try again in a minute.",
    ErrorKind.NOT_FOUND: "Check the ID or address; it may have been deleted or not shared.",
    ErrorKind.RATE_LIMITED: "Wait a minute before testing again.",
    ErrorKind.UNKNOWN: "Check the settings you entered; the integration gave no reason.",
}


class IntegrationError(Exception):
    """A failure an integration understood: a category, a hint for the user, a detail for the log.

    ``detail`` goes to the log only (after secret masking); ``hint`` is shown to the user and must
    never contain a credential.
    """

    def __init__(self, kind: ErrorKind, hint: str = "", detail: str = "",
                 retry_after: float | None = None) -> None:
        self.kind = ErrorKind(kind)
        self.hint = hint or DEFAULT_HINTS[self.kind]
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(f"{self.kind.value}: {self.hint}")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of a connection test, as shown on a card."""

    kind: ErrorKind
    hint: str = ""
    at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.kind is ErrorKind.OK

    @property
    def message(self) -> str:
        """One line for the card: what happened, then what to do."""
        head = MESSAGES[self.kind]
        return f"{head}. {self.hint}" if self.hint else head

    @classmethod
    def success(cls) -> "CheckResult":
        return cls(ErrorKind.OK, "", datetime.now())

    @classmethod
    def failure(cls, kind: ErrorKind, hint: str = "") -> "CheckResult":
        return cls(ErrorKind(kind), hint or DEFAULT_HINTS[ErrorKind(kind)], datetime.now())

    @classmethod
    def from_error(cls, error: IntegrationError) -> "CheckResult":
        return cls.failure(error.kind, error.hint)
