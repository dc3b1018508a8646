"""Licence keys, checked offline: a signed token decides the plan, not a line in user.yaml.

A key is a JSON Web Token signed with RS256 (PKCS#1 v1.5, SHA-256) by the publisher's private
key; the app ships only the public key (``resources/licence-public.pem``), so nobody can make a
key by editing a file.  Its claims: ``tier`` (``paid`` or ``premium``), ``exp`` (seconds since
the epoch, UTC) and optionally ``sub`` (who it was issued to) and ``iat``.  For
:data:`GRACE` after ``exp`` the plan still holds and the user is told to renew; then the plan is
Free.  The activated key is kept in ``<config dir>/licence.json`` (owner-only) and verified again
every time it is read: what that file says besides the token is never trusted.

No Qt here: the settings, the importer and the command line use it alike.
"""
from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from peregrine_desktop.settings.configfiles import atomic_write_text

#: How long a plan still holds after its key expired, with a "renew by" message.
GRACE = timedelta(days=14)
#: Tiers a key can grant (Free needs no key).
LICENSED_TIERS = ("paid", "premium")
LICENCE_FILE = "licence.json"
SHIPPED_PUBLIC_KEY = Path(__file__).resolve().parent.parent / "resources" / "licence-public.pem"

# States of a key, as LicenceStatus.state holds them.
NONE, VALID, GRACE_PERIOD, EXPIRED, INVALID = "none", "valid", "grace", "expired", "invalid"

_public_key_override: bytes | None = None


class LicenceError(ValueError):
    """A key that cannot be used; ``str()`` is a sentence for the person who pasted it."""


@dataclass(frozen=True)
class Licence:
    """The verified claims of a key."""

    tier: str
    expires: datetime       # aware, UTC
    subject: str = ""
    token: str = ""


@dataclass(frozen=True)
class LicenceStatus:
    """What a key means now: the plan in force (``tier``) and a sentence saying why."""

    state: str
    tier: str
    message: str
    licence: Licence | None = None

    @property
    def holds(self) -> bool:
        """True when the key's plan is in force (valid, or expired but within the grace)."""
        return self.state in (VALID, GRACE_PERIOD)


def use_public_key(pem: bytes | None) -> None:
    """Trust ``pem`` instead of the shipped key (``None``: the shipped one again).

    For tests, which sign with a key pair of their own, and for builds published under another
    key; the private half never ships with the app."""
    global _public_key_override
    _public_key_override = pem


def trusted_public_key() -> bytes:
    """The public key keys are checked against (PEM)."""
    if _public_key_override is not None:
        return _public_key_override
    return SHIPPED_PUBLIC_KEY.read_bytes()


# -- dates in words -------------------------------------------------------------------------------
def day_in_words(moment: datetime) -> str:
    """``3 March 2027``: the local calendar day of ``moment``."""
    local = moment.astimezone()
    return f"{local.day} {local:%B %Y}"


def _label(tier: str) -> str:
    from peregrine_desktop.settings.tiers import TIER_LABELS

    return TIER_LABELS.get(tier, tier)


# -- the token ------------------------------------------------------------------------------------
def _b64decode(part: str) -> bytes:
    padded = part + "=" * (-len(part) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


NOT_VALID = ("This key is not valid: it was changed, or it was not issued for Peregrine. "
             "Paste the whole key exactly as you received it.")
INCOMPLETE = ("This key is not valid: it is incomplete (a key is one long line of letters and "
              "digits with two dots). Paste the whole key exactly as you received it.")


def _json_part(part: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(part))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise LicenceError(INCOMPLETE) from exc
    if not isinstance(value, dict):
        raise LicenceError(INCOMPLETE)
    return value


def verify_token(token: str, public_key: bytes | None = None) -> Licence:
    """Check the signature and the claims (not the date); raise LicenceError otherwise.

    ``public_key`` (PEM) defaults to :func:`trusted_public_key`."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    token = "".join(str(token).split())       # a key wrapped over lines by a mail program
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise LicenceError(INCOMPLETE)
    header, claims = _json_part(parts[0]), _json_part(parts[1])
    if header.get("alg") != "RS256":          # never "none", never a key chosen by the token
        raise LicenceError(NOT_VALID)
    try:
        signature = _b64decode(parts[2])
    except (binascii.Error, ValueError) as exc:
        raise LicenceError(INCOMPLETE) from exc
    key = serialization.load_pem_public_key(public_key or trusted_public_key())
    if not isinstance(key, rsa.RSAPublicKey):
        raise LicenceError(NOT_VALID)
    try:
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"), padding.PKCS1v15(),
                   hashes.SHA256())
    except InvalidSignature as exc:
        raise LicenceError(NOT_VALID) from exc
    tier, exp = claims.get("tier"), claims.get("exp")
    if tier not in LICENSED_TIERS or isinstance(exp, bool) or not isinstance(exp, (int, float)):
        raise LicenceError("This key is signed but does not name a plan and an end date this "
                           "version of Peregrine knows; ask for a new key.")
    try:
        expires = datetime.fromtimestamp(exp, timezone.utc)
    except (OverflowError, OSError, ValueError) as exc:
        raise LicenceError(NOT_VALID) from exc
    return Licence(tier=tier, expires=expires, subject=str(claims.get("sub") or ""), token=token)


def issue_token(private_key_pem: bytes, tier: str, days: float, *, subject: str = "",
                now: datetime | None = None) -> str:
    """A key for ``tier`` valid ``days`` from ``now`` (the publisher's side; needs the private
    key, which never ships: see scripts/issue-licence.py)."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if tier not in LICENSED_TIERS:
        raise ValueError(f"tier must be one of {', '.join(LICENSED_TIERS)}")
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key must be an RSA key")
    now = now or datetime.now(timezone.utc)
    claims: dict[str, Any] = {"tier": tier, "iat": int(now.timestamp()),
                              "exp": int((now + timedelta(days=days)).timestamp())}
    if subject:
        claims["sub"] = subject
    signing_input = ".".join(
        _b64encode(json.dumps(part, separators=(",", ":")).encode("utf-8"))
        for part in ({"alg": "RS256", "typ": "JWT"}, claims))
    signature = key.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64encode(signature)}"


# -- what a key means today -----------------------------------------------------------------------
def status_of(licence: Licence, now: datetime | None = None) -> LicenceStatus:
    """The plan a verified key gives at ``now``, with the sentence the Plan page shows."""
    now = now or datetime.now(timezone.utc)
    plan, until = _label(licence.tier), day_in_words(licence.expires)
    if now < licence.expires:
        return LicenceStatus(VALID, licence.tier, f"{plan} plan, valid until {until}.", licence)
    renew_by = day_in_words(licence.expires + GRACE)
    if now < licence.expires + GRACE:
        return LicenceStatus(GRACE_PERIOD, licence.tier,
                             f"Your {plan} key expired on {until}; renew by {renew_by} to keep "
                             f"the {plan} plan.", licence)
    return LicenceStatus(EXPIRED, "free",
                         f"Your {plan} key expired on {until} and its {GRACE.days} days of "
                         f"grace ended on {renew_by}: you are on the Free plan. Paste a renewed "
                         f"key to continue with {plan}.", licence)


FREE = LicenceStatus(NONE, "free", "Free plan: no key needed.")


class LicenceFile:
    """The activated key of one config folder (``licence.json``, mode 0600).

    The key is verified when read, so a file edited by hand (or copied from another machine
    with a forged tier) only ever gives what its signature proves."""

    def __init__(self, config_dir: Path, public_key: bytes | None = None) -> None:
        self.path = Path(config_dir) / LICENCE_FILE
        self.public_key = public_key
        self._cache: tuple[tuple[int, int] | None, Licence | LicenceStatus | None] | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _read(self) -> Licence | LicenceStatus | None:
        """The verified licence on file, a status saying why it is unusable, or None."""
        stamp = self._stamp()
        if self._cache is not None and self._cache[0] == stamp:
            return self._cache[1]
        result: Licence | LicenceStatus | None = None
        if stamp is not None:
            try:
                token = json.loads(self.path.read_text(encoding="utf-8"))["token"]
                result = verify_token(token, self.public_key)
            except LicenceError as exc:
                result = LicenceStatus(INVALID, "free", f"The key saved in {self.path} could "
                                       f"not be used: {exc} Until then you are on Free.")
            except (OSError, ValueError, KeyError, TypeError):
                result = LicenceStatus(INVALID, "free",
                                       f"{self.path} could not be read; paste your key again "
                                       "(until then you are on the Free plan).")
        self._cache = (stamp, result)
        return result

    def status(self, now: datetime | None = None) -> LicenceStatus:
        """What the saved key means at ``now`` (Free when there is none)."""
        found = self._read()
        if found is None:
            return FREE
        if isinstance(found, LicenceStatus):
            return found
        return status_of(found, now)

    def activate(self, token: str, now: datetime | None = None) -> LicenceStatus:
        """Verify ``token`` and, if its plan holds, save it in place of the previous key.

        A key that is not valid, or whose grace has ended, raises LicenceError and leaves the
        saved key as it was."""
        licence = verify_token(token, self.public_key)
        status = status_of(licence, now)
        if not status.holds:
            raise LicenceError(f"This {_label(licence.tier)} key expired on "
                               f"{day_in_words(licence.expires)}; ask for a renewed key.")
        record = {"token": licence.token, "tier": licence.tier,
                  "expires": licence.expires.isoformat(), "subject": licence.subject,
                  "activated": (now or datetime.now(timezone.utc)).isoformat(),
                  "shown": status.message}
        atomic_write_text(self.path, json.dumps(record, indent=2) + "\n")
        self._cache = None
        return status

    def remove(self) -> None:
        """Forget the saved key (the plan becomes Free)."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self._cache = None
