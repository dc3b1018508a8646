"""Licence keys checked offline: a signed key decides the plan; nothing else can."""
from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from peregrine_desktop.settings import licence as lic
from peregrine_desktop.settings.licence import LicenceError, LicenceFile, verify_token
from peregrine_desktop.settings.profile import UserProfile
from tests.licence_keys import make_key_pair

ROOT = Path(__file__).resolve().parent.parent
#: Issued at noon UTC so the calendar day reads the same in every time zone a test runs in.
ISSUED = datetime(2026, 3, 3, 12, 0, tzinfo=timezone.utc)
EXPIRES = datetime(2027, 3, 3, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def keys():
    return make_key_pair()


@pytest.fixture(scope="module")
def other_keys():
    return make_key_pair()


def paid_key(keys, tier: str = "paid") -> str:
    return keys.issue(tier, days=(EXPIRES - ISSUED).days, now=ISSUED)


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_key_names_its_plan_and_end_date(keys):
    licence = verify_token(paid_key(keys), keys.public_pem)
    assert (licence.tier, licence.expires) == ("paid", EXPIRES)
    status = lic.status_of(licence, now=ISSUED + timedelta(days=30))
    assert (status.state, status.tier) == (lic.VALID, "paid")
    assert status.message == "Paid plan, valid until 3 March 2027."


def test_a_key_wrapped_over_lines_by_a_mail_program_still_verifies(keys):
    token = paid_key(keys, "premium")
    wrapped = "\n".join(token[i:i + 60] for i in range(0, len(token), 60))
    assert verify_token(f"  {wrapped}\n", keys.public_pem).tier == "premium"


def test_a_changed_payload_is_refused(keys):
    header, _claims, signature = paid_key(keys).split(".")
    forged = b64({"tier": "premium", "exp": int(EXPIRES.timestamp()) + 10 * 365 * 86400})
    with pytest.raises(LicenceError, match="^This key is not valid: it was changed"):
        verify_token(f"{header}.{forged}.{signature}", keys.public_pem)


def test_a_key_signed_by_someone_else_is_refused(keys, other_keys):
    with pytest.raises(LicenceError, match="^This key is not valid"):
        verify_token(paid_key(other_keys), keys.public_pem)


def test_an_unsigned_key_is_refused(keys):
    claims = paid_key(keys).split(".")[1]
    with pytest.raises(LicenceError, match="^This key is not valid"):
        verify_token(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{claims}.AAAA", keys.public_pem)


@pytest.mark.parametrize("text", ["", "hello", "abc.def", "a.b.c", "..",
                                  "eyJhbGciOiJSUzI1NiJ9.!!!.xyz", "a.b.c.d"])
def test_malformed_text_is_called_incomplete(keys, text):
    with pytest.raises(LicenceError, match="^This key is not valid: it is incomplete"):
        verify_token(text, keys.public_pem)


def test_a_signed_key_without_a_known_plan_is_refused_in_words(keys):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    private = serialization.load_pem_private_key(keys.private_pem, password=None)
    signing_input = f"{b64({'alg': 'RS256'})}.{b64({'tier': 'gold', 'exp': 2_000_000_000})}"
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    token = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    with pytest.raises(LicenceError, match="does not name a plan"):
        verify_token(token, keys.public_pem)


def test_expired_within_the_grace_the_plan_holds_with_a_renew_by_date(keys):
    licence = verify_token(paid_key(keys), keys.public_pem)
    status = lic.status_of(licence, now=EXPIRES + timedelta(days=3))
    assert (status.state, status.tier, status.holds) == (lic.GRACE_PERIOD, "paid", True)
    assert status.message == ("Your Paid key expired on 3 March 2027; renew by 17 March 2027 "
                              "to keep the Paid plan.")


def test_expired_beyond_the_grace_the_plan_is_free(keys):
    licence = verify_token(paid_key(keys), keys.public_pem)
    status = lic.status_of(licence, now=EXPIRES + lic.GRACE + timedelta(minutes=1))
    assert (status.state, status.tier, status.holds) == (lic.EXPIRED, "free", False)
    assert "expired on 3 March 2027" in status.message
    assert "you are on the Free plan" in status.message


def test_the_activated_key_is_written_owner_only_and_verified_again_when_read(keys, tmp_path):
    store = LicenceFile(tmp_path, keys.public_pem)
    assert store.status().state == lic.NONE and store.status().tier == "free"
    shown = store.activate(paid_key(keys), now=ISSUED)
    path = tmp_path / "licence.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["token"] == paid_key(keys) and saved["shown"] == shown.message
    assert LicenceFile(tmp_path, keys.public_pem).status(now=ISSUED).tier == "paid"

    saved["tier"] = "premium"                 # a hand edit of what the file says besides the key
    path.write_text(json.dumps(saved))
    assert LicenceFile(tmp_path, keys.public_pem).status(now=ISSUED).tier == "paid"
    saved["token"] = saved["token"][:-8] + "AAAAAAAA"
    path.write_text(json.dumps(saved))
    broken = LicenceFile(tmp_path, keys.public_pem).status(now=ISSUED)
    assert (broken.state, broken.tier) == (lic.INVALID, "free")
    assert "could not be used" in broken.message and "Free" in broken.message


def test_a_key_past_its_grace_is_not_activated_and_the_old_one_stays(keys, tmp_path):
    store = LicenceFile(tmp_path, keys.public_pem)
    store.activate(keys.issue("premium", days=30))
    old = keys.issue("paid", days=10, now=datetime.now(timezone.utc) - timedelta(days=40))
    with pytest.raises(LicenceError, match="^This Paid key expired on .*; ask for a renewed"):
        store.activate(old)
    assert store.status().tier == "premium"
    store.remove()
    assert store.status().tier == "free" and not (tmp_path / "licence.json").exists()


def test_the_plan_in_user_yaml_unlocks_nothing_only_a_key_does(licence_keys, config_dir):
    path = config_dir / "user.yaml"
    path.write_text("name: Ada\ntier: premium\n")       # as the web app's file says
    profile = UserProfile(path)
    assert (profile.tier, profile.effective_tier) == ("free", "free")
    heard = []
    profile.watch_plan(heard.append)
    status = profile.activate_licence(licence_keys.issue("paid", days=90))
    assert status.message.startswith("Paid plan, valid until ")
    assert (profile.tier, heard) == ("paid", ["paid"])
    assert UserProfile(path).tier == "paid"             # read back from licence.json
    profile.save()
    assert "tier" not in yaml.safe_load(path.read_text())    # the stale line is gone
    profile.remove_licence()
    assert (profile.tier, heard) == ("free", ["paid", "free"])


def test_the_shipped_key_refuses_keys_signed_by_another_pair(keys):
    """The app trusts its shipped public key by default, not whatever a test generated."""
    assert lic.trusted_public_key() == lic.SHIPPED_PUBLIC_KEY.read_bytes()
    assert b"PRIVATE" not in lic.SHIPPED_PUBLIC_KEY.read_bytes()
    with pytest.raises(LicenceError, match="^This key is not valid"):
        verify_token(paid_key(keys))


def test_the_issuing_script_prints_a_key_the_app_accepts(keys, tmp_path):
    private, public = tmp_path / "private.pem", tmp_path / "public.pem"
    private.write_bytes(keys.private_pem)
    public.write_bytes(keys.public_pem)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "issue-licence.py"),
                           str(private), "premium", "30", "--public-key", str(public)],
                          capture_output=True, text=True, check=True)
    licence = verify_token(done.stdout.strip(), keys.public_pem)
    assert licence.tier == "premium"
    assert "Premium plan, valid until " in done.stderr
    refused = subprocess.run([sys.executable, str(ROOT / "scripts" / "issue-licence.py"),
                              str(private), "paid", "30"], capture_output=True, text=True)
    assert refused.returncode == 1 and refused.stdout == ""
    assert "does not match the public key the app trusts" in refused.stderr
