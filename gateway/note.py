"""Signed checkpoints of the audit trail's Merkle tree (issue #13): a port of Go's golang.org/x/mod/sumdb/note
(BSD-licensed, Copyright 2019 The Go Authors; c2sp.org/signed-note), Ed25519 keys only, and the C2SP checkpoint
text (c2sp.org/tlog-checkpoint), so that an inspector checks ours with any of their tools (Go's note package,
Sunlight's, litewitness).

A key travels as Go writes it: the public "verifier key" `name+hash8hex+base64(0x01 ‖ public key)` (what
`fundtrack audit public-key` prints and an inspector keeps in `key.pub`), the private "signer key"
`PRIVATE+KEY+name+hash8hex+base64(0x01 ‖ seed)`. A checkpoint's time (unix seconds, UTC) is its first extension
line, `time <seconds>`. Pure, no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ALG_ED25519 = 1
MAX_SIGNATURES = 100
MAX_SIZE = 2**63 - 1  # Go's tlog.ParseTree: an int64
SIGNATURE_PREFIX = "— "
TIME_EXTENSION = "time "


class NoteError(Exception):
    """A note or key that is malformed, or a note with no valid signature by a key the reader trusts."""


def _is_valid_name(name: str) -> bool:
    """Go's isValidName: non-empty, no Unicode space, no plus."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def key_hash(name: str, public_key_bytes: bytes) -> int:
    """The 4-byte key id of a signature line: the first 4 bytes (big-endian) of SHA-256(name ‖ "\\n" ‖ key), where
    key is the encoded public key (0x01 ‖ 32 bytes for Ed25519)."""
    return int.from_bytes(hashlib.sha256(name.encode() + b"\n" + public_key_bytes).digest()[:4], "big")


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, public_key: Ed25519PublicKey) -> str:
    """Go's NewEd25519VerifierKey: `name+hash8hex+base64(0x01 ‖ public key)`."""
    if not _is_valid_name(name):
        raise NoteError(f"invalid key name {name!r}: no spaces or '+'")
    encoded = bytes([ALG_ED25519]) + _raw_public(public_key)
    return f"{name}+{key_hash(name, encoded):08x}+{base64.b64encode(encoded).decode()}"


def signer_key(name: str, private_key: Ed25519PrivateKey) -> str:
    """Go's signer key: `PRIVATE+KEY+name+hash8hex+base64(0x01 ‖ seed)`, the hash being the public key's."""
    if not _is_valid_name(name):
        raise NoteError(f"invalid key name {name!r}: no spaces or '+'")
    encoded_public = bytes([ALG_ED25519]) + _raw_public(private_key.public_key())
    seed = private_key.private_bytes_raw()
    return (
        f"PRIVATE+KEY+{name}+{key_hash(name, encoded_public):08x}+"
        f"{base64.b64encode(bytes([ALG_ED25519]) + seed).decode()}"
    )


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError("malformed base64") from exc


def _hash8(text: str) -> int:
    if not re.fullmatch(r"[0-9a-fA-F]{8}", text):
        raise NoteError("malformed key hash: 8 hex digits expected")
    return int(text, 16)


@dataclass(frozen=True)
class Verifier:
    name: str
    hash: int
    public_key: Ed25519PublicKey


def parse_verifier_key(vkey: str) -> Verifier:
    """Go's NewVerifier: checks the name, the hash against the key, and that the key is Ed25519."""
    name, _, rest = vkey.strip().partition("+")
    hash16, _, key64 = rest.partition("+")
    if not _is_valid_name(name):
        raise NoteError("malformed verifier key")
    expected = _hash8(hash16)
    key = _b64decode(key64)
    if not key:
        raise NoteError("malformed verifier key")
    if key_hash(name, key) != expected:
        raise NoteError("invalid verifier key hash")
    if key[0] != ALG_ED25519 or len(key) != 33:
        raise NoteError("unknown verifier algorithm: only Ed25519 keys are taken")
    return Verifier(name, expected, Ed25519PublicKey.from_public_bytes(key[1:]))


def parse_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Go's NewSigner: the name and the private key of a signer key, its hash checked against its public key."""
    parts = skey.strip().split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY" or not _is_valid_name(parts[2]):
        raise NoteError("malformed signer key")
    name, expected, key = parts[2], _hash8(parts[3]), _b64decode(parts[4])
    if len(key) != 33 or key[0] != ALG_ED25519:
        raise NoteError("malformed signer key: only Ed25519 seeds are taken")
    private_key = Ed25519PrivateKey.from_private_bytes(key[1:])
    if key_hash(name, bytes([ALG_ED25519]) + _raw_public(private_key.public_key())) != expected:
        raise NoteError("invalid signer key hash")
    return name, private_key


def sign(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note: text (ending in a newline), a blank line, and `— name base64(keyhash ‖ signature)`."""
    if not text.endswith("\n"):
        raise NoteError("malformed note: the text must end in a newline")
    if not _is_valid_name(name):
        raise NoteError("invalid signer name")
    encoded_public = bytes([ALG_ED25519]) + _raw_public(private_key.public_key())
    signature = private_key.sign(text.encode())
    line = base64.b64encode(key_hash(name, encoded_public).to_bytes(4, "big") + signature).decode()
    return f"{text}\n{SIGNATURE_PREFIX}{name} {line}\n"


def _check_characters(note: str) -> None:
    """Go's Open: no control character but newline (a str is already valid UTF-8)."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("malformed note: control character")


def _split(note: str) -> tuple[str, list[str]]:
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("malformed note: no blank line before the signatures")
    text, sigs = note[: split + 1], note[split + 2 :]
    if not sigs or not sigs.endswith("\n"):
        raise NoteError("malformed note: the signatures must end in a newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed note: too many signatures")
    return text, lines


def _signature(line: str) -> tuple[str, int, bytes]:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("malformed note: a signature line starts with '— '")
    name, _, b64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
    sig = _b64decode(b64) if b64 else b""
    if not _is_valid_name(name) or len(sig) < 5:
        raise NoteError("malformed note: bad signature line")
    return name, int.from_bytes(sig[:4], "big"), sig[4:]


def open_note(note: str, verifier_keys: Sequence[str]) -> str:
    """The text of a note signed by at least one of these keys (Go's Open). Signatures by other keys are ignored
    (c2sp.org/signed-note: witnesses' cosignatures, key rotation); a bad signature by a trusted key is refused."""
    _check_characters(note)
    known: dict[tuple[str, int], Verifier] = {}
    for vkey in verifier_keys:
        v = parse_verifier_key(vkey)
        known[(v.name, v.hash)] = v
    text, lines = _split(note)
    verified = 0
    for line in lines:
        name, khash, sig = _signature(line)
        verifier = known.get((name, khash))
        if verifier is None:
            continue
        try:
            verifier.public_key.verify(sig, text.encode())
        except InvalidSignature as exc:
            raise NoteError(f"invalid signature for key {name}+{khash:08x}") from exc
        verified += 1
    if not verified:
        raise NoteError("note has no verifiable signatures: not signed by the given public key")
    return text


@dataclass(frozen=True)
class Checkpoint:
    """A tree head (c2sp.org/tlog-checkpoint): origin, size, RFC 6962 root, and opaque extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def time(self) -> int | None:
        """The unix time (seconds) of its `time <seconds>` extension line, if it has one."""
        for line in self.extensions:
            if line.startswith(TIME_EXTENSION) and re.fullmatch(r"0|[1-9][0-9]*", line[len(TIME_EXTENSION) :]):
                return int(line[len(TIME_EXTENSION) :])
        return None


def time_extension(unix_seconds: int) -> str:
    """The extension line our checkpoints carry their signing time in."""
    return f"{TIME_EXTENSION}{unix_seconds}"


def format_checkpoint(cp: Checkpoint) -> str:
    """The note text of a checkpoint: origin, size, base64 root, extension lines, each ending in a newline."""
    if not cp.origin or "\n" in cp.origin or cp.size < 0 or len(cp.root) != 32:
        raise NoteError("invalid checkpoint")
    if any(not line or "\n" in line for line in cp.extensions):
        raise NoteError("invalid checkpoint: an extension line is non-empty and one line")
    lines = [cp.origin, str(cp.size), base64.b64encode(cp.root).decode(), *cp.extensions]
    return "".join(f"{line}\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """A checkpoint's note text, strictly as c2sp.org/tlog-checkpoint has it: at least three non-empty lines
    ending in a newline, a size in decimal without leading zeroes, a 32-byte base64 root."""
    if not text.endswith("\n"):
        raise NoteError("malformed checkpoint: the text must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise NoteError("malformed checkpoint: three or more non-empty lines expected")
    origin, size, root = lines[0], lines[1], lines[2]
    if not re.fullmatch(r"0|[1-9][0-9]{0,18}", size) or int(size) > MAX_SIZE:
        raise NoteError("malformed checkpoint: the size is a decimal number without leading zeroes, an int64")
    root_hash = _b64decode(root)
    if len(root_hash) != 32 or base64.b64encode(root_hash).decode() != root:
        raise NoteError("malformed checkpoint: the root is the base64 of 32 bytes")
    return Checkpoint(origin, int(size), root_hash, tuple(lines[3:]))


def open_checkpoint(note: str, verifier_keys: Sequence[str]) -> Checkpoint:
    """The checkpoint of a signed note, once its signature by one of these keys is verified."""
    return parse_checkpoint(open_note(note, verifier_keys))
