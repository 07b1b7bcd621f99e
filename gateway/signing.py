"""The key that signs the trail's checkpoints (issue #13): Ed25519, kept in a file outside the database, so that
whoever rewrites the database cannot sign a checkpoint of the rewritten trail. The file holds the signer key in
Go's note format (`PRIVATE+KEY+<origin>+<hash>+<seed>`, gateway/note.py); an inspector keeps its public half, the
verifier key (`fundtrack audit public-key`, `GET /audit/public-key`)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway import note
from gateway.audit_settings import AuditSettings
from services.kernel.settings import get_settings


class SigningKeyError(RuntimeError):
    """The signing key cannot be had as configured: the gateway does not start."""


@dataclass(frozen=True)
class Signer:
    name: str
    private_key: Ed25519PrivateKey

    def sign(self, text: str) -> str:
        return note.sign(text, self.name, self.private_key)

    @property
    def verifier_key(self) -> str:
        return note.verifier_key(self.name, self.private_key.public_key())


def load_signer(settings: AuditSettings) -> Signer:
    """The signer of `settings.origin`. Production takes only an explicit key file
    (FUNDTRACK_AUDIT_SIGNING_KEY_FILE); elsewhere the default file is made on first start (mode 600)."""
    path = settings.key_path()
    if not settings.signing_key_file:
        if get_settings().env == "production":
            raise SigningKeyError(
                "FUNDTRACK_AUDIT_SIGNING_KEY_FILE must name the audit signing key in production (a file outside the "
                "database and its backups); make one with `fundtrack audit new-key --out FILE`"
            )
        if not path.exists():
            _create(path, settings.origin)
    try:
        if get_settings().env == "production" and path.stat().st_mode & 0o077:
            raise SigningKeyError(
                f"the audit signing key {path} can be read by others than its owner (mode "
                f"{path.stat().st_mode & 0o777:o}): whoever reads it signs checkpoints of any trail; chmod 600 it"
            )
        name, private_key = note.parse_signer_key(path.read_text())
    except OSError as exc:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {exc}") from exc
    except note.NoteError as exc:
        raise SigningKeyError(f"{path} is not an audit signing key ({exc})") from exc
    if name != settings.origin:
        raise SigningKeyError(
            f"{path} signs as {name!r}, not as the log's origin {settings.origin!r} (FUNDTRACK_AUDIT_ORIGIN)"
        )
    return Signer(name, private_key)


def new_signer_key(origin: str) -> str:
    return note.signer_key(origin, Ed25519PrivateKey.generate())


def _create(path: Path, origin: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another gateway process made it first
    with os.fdopen(fd, "w") as file:
        file.write(new_signer_key(origin) + "\n")
