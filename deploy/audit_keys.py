"""`fundtrack audit public-key` and `fundtrack audit new-key`: the log's signing key as the gateway finds it
(gateway/signing.py: FUNDTRACK_AUDIT_SIGNING_KEY_FILE, else `<data dir>/audit-signing.key`), issue #13."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from gateway.audit_settings import get_audit_settings
from gateway.signing import SigningKeyError, load_signer, new_signer_key


def _public_key(_: argparse.Namespace) -> int:
    """Print the verifier key an inspector keeps (`key.pub`); in development the key is made if there is none."""
    try:
        print(load_signer(get_audit_settings()).verifier_key)
    except SigningKeyError as exc:
        print(f"fundtrack: {exc}", file=sys.stderr)
        return 2
    return 0


def _new_key(args: argparse.Namespace) -> int:
    """Write a new signer key for FUNDTRACK_AUDIT_ORIGIN to a file made with mode 600 (refused if it exists)."""
    path: Path = args.out
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        print(f"fundtrack: cannot create {path}: {exc}", file=sys.stderr)
        return 2
    with os.fdopen(fd, "w") as file:
        file.write(new_signer_key(get_audit_settings().origin) + "\n")
    print(f"fundtrack: wrote a new audit signing key to {path}; set FUNDTRACK_AUDIT_SIGNING_KEY_FILE={path}")
    return 0


def add_commands(audit_commands: Any) -> None:
    audit_commands.add_parser(
        "public-key", help="print the log's public (verifier) key, the one inspectors check checkpoints with"
    ).set_defaults(run=_public_key)
    new_key = audit_commands.add_parser("new-key", help="make a signing key file (mode 600) for production")
    new_key.add_argument("--out", type=Path, required=True, help="the file to create (kept outside the database)")
    new_key.set_defaults(run=_new_key)
