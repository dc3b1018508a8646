#!/usr/bin/env python3
"""Issue a licence key: a token the app verifies offline against its shipped public key.

    python scripts/issue-licence.py PRIVATE_KEY.pem paid 365 [--to "ada@example.com"]

prints one line, the key to send to the customer (they paste it in Settings → Plan, or on the
setup wizard's plan page).  TIER is ``paid`` or ``premium``; DAYS counts from now; the app
keeps the plan for 14 more days after that, asking to renew.

The private key matching ``peregrine_desktop/resources/licence-public.pem`` is kept by the
publisher, never in this repository.  To start over with a new pair (every key issued before
stops working):

    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out licence-private.pem
    openssl pkey -in licence-private.pem -pubout -out peregrine_desktop/resources/licence-public.pem
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peregrine_desktop.settings.licence import (LICENSED_TIERS, LicenceError,  # noqa: E402
                                                day_in_words, issue_token, status_of,
                                                verify_token)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print a licence key for Peregrine Desktop.")
    parser.add_argument("private_key", type=Path, help="the publisher's RSA private key (PEM)")
    parser.add_argument("tier", choices=LICENSED_TIERS)
    parser.add_argument("days", type=float, help="how many days the key is valid from now")
    parser.add_argument("--to", default="", metavar="WHO",
                        help="who the key is for (kept in the key, shown nowhere secret)")
    parser.add_argument("--public-key", type=Path, metavar="PEM",
                        help="check the new key against this public key (default: the one "
                             "the app ships)")
    args = parser.parse_args(argv)
    if args.days <= 0:
        parser.error("days must be more than 0")
    try:
        private = args.private_key.read_bytes()
    except OSError as exc:
        parser.error(f"cannot read {args.private_key}: {exc.strerror or exc}")
    token = issue_token(private, args.tier, args.days, subject=args.to)
    public = args.public_key.read_bytes() if args.public_key else None
    try:
        licence = verify_token(token, public)
    except LicenceError:
        print(f"{args.private_key} does not match the public key the app trusts; no key "
              "was issued.", file=sys.stderr)
        return 1
    print(token)
    print(f"{status_of(licence).message} (the plan holds until "
          f"{day_in_words(licence.expires)} plus 14 days of grace)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
