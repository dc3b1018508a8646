"""A licence key pair of the tests' own: keys signed here verify only where tests trust it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from peregrine_desktop.settings.licence import LicenceStatus, issue_token


@dataclass(frozen=True)
class LicenceKeyPair:
    private_pem: bytes
    public_pem: bytes

    def issue(self, tier: str = "paid", days: float = 365, now: datetime | None = None,
              subject: str = "") -> str:
        return issue_token(self.private_pem, tier, days, subject=subject, now=now)

    def activate(self, config_dir: Path, tier: str = "paid", days: float = 365
                 ) -> LicenceStatus:
        """What a person does in Settings → Plan, done before a test's windows open."""
        from peregrine_desktop.settings.profile import UserProfile

        return UserProfile(Path(config_dir) / "user.yaml").activate_licence(self.issue(tier, days))


def make_key_pair(bits: int = 2048) -> LicenceKeyPair:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return LicenceKeyPair(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()),
        key.public_key().public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo))
