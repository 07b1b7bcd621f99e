"""gateway/note.py against Go's sumdb/note test vectors (its fixed keys and signed note) and c2sp.org/tlog-checkpoint:
a note signed by Go verifies and ours is byte for byte Go's, another key or a changed text is refused, malformed
checkpoints are refused."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway import note

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)


def test_go_keys_round_trip() -> None:
    name, private_key = note.parse_signer_key(PETER_SKEY)
    assert name == "PeterNeumann"
    assert note.signer_key(name, private_key) == PETER_SKEY
    assert note.verifier_key(name, private_key.public_key()) == PETER_VKEY
    verifier = note.parse_verifier_key(PETER_VKEY)
    assert (verifier.name, verifier.hash) == ("PeterNeumann", 0xC74F20A3)
    assert note.key_hash(name, base64.b64decode(PETER_VKEY.split("+")[2])) == 0xC74F20A3


def test_our_signature_is_gos() -> None:
    name, private_key = note.parse_signer_key(PETER_SKEY)
    assert note.sign(TEXT, name, private_key) == TEXT + "\n" + PETER_SIG


def test_a_note_signed_by_go_opens() -> None:
    signed = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert note.open_note(signed, [PETER_VKEY]) == TEXT
    assert note.open_note(signed, [ENOCH_VKEY]) == TEXT
    assert note.open_note(signed, [PETER_VKEY, ENOCH_VKEY]) == TEXT


def test_another_key_is_refused() -> None:
    other = Ed25519PrivateKey.generate()
    with pytest.raises(note.NoteError, match="no verifiable signatures"):
        note.open_note(TEXT + "\n" + PETER_SIG, [ENOCH_VKEY])
    forged = note.sign(TEXT, "PeterNeumann", other)
    with pytest.raises(note.NoteError):
        note.open_note(forged, [PETER_VKEY])
    with pytest.raises(note.NoteError):
        note.open_note(TEXT + "\n" + PETER_SIG, [])


def test_a_changed_text_or_signature_is_refused() -> None:
    changed = TEXT.replace("answer", "answers")
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_note(changed + "\n" + PETER_SIG, [PETER_VKEY])
    bad_sig = PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(note.NoteError, match="invalid signature"):
        note.open_note(TEXT + "\n" + bad_sig, [PETER_VKEY])


@pytest.mark.parametrize(
    "signed",
    [
        TEXT + PETER_SIG,  # no blank line
        TEXT + "\n" + PETER_SIG.rstrip("\n"),  # no final newline
        TEXT + "\n" + "- PeterNeumann AAAA\n",  # not an em dash
        TEXT + "\n" + "— PeterNeumann\n",
        TEXT + "\n" + "— Peter+Neumann " + PETER_SIG.split(" ")[2],
        TEXT + "\n" + "— PeterNeumann AAA=\n",  # shorter than a key hash
        TEXT + "\x01\n" + PETER_SIG,
        TEXT + "\n" + PETER_SIG * 101,
    ],
)
def test_malformed_notes_are_refused(signed: str) -> None:
    with pytest.raises(note.NoteError):
        note.open_note(signed, [PETER_VKEY])


def test_mangled_keys_are_refused() -> None:
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(note.NoteError):
            note.parse_verifier_key(mangled)
    for cut in range(1, len(PETER_VKEY)):
        with pytest.raises(note.NoteError):
            note.parse_verifier_key(PETER_VKEY[:cut])
    for i in range(len(PETER_SKEY)):
        mangled = PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :]
        with pytest.raises(note.NoteError):
            note.parse_signer_key(mangled)


C2SP_EXAMPLE = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_checkpoint_round_trip() -> None:
    cp = note.parse_checkpoint(C2SP_EXAMPLE)
    assert (cp.origin, cp.size, cp.extensions, cp.time) == ("example.com/behind-the-sofa", 20852163, (), None)
    assert note.format_checkpoint(cp) == C2SP_EXAMPLE
    timed = note.Checkpoint("fundtrack/audit", 7, bytes(32), (note.time_extension(1_764_000_000),))
    text = note.format_checkpoint(timed)
    assert text.endswith("\ntime 1764000000\n")
    assert note.parse_checkpoint(text) == timed and note.parse_checkpoint(text).time == 1_764_000_000


def test_a_signed_checkpoint_opens() -> None:
    private_key = Ed25519PrivateKey.generate()
    cp = note.Checkpoint("fundtrack.example/audit", 3, bytes(range(32)), (note.time_extension(1),))
    signed = note.sign(note.format_checkpoint(cp), cp.origin, private_key)
    assert note.open_checkpoint(signed, [note.verifier_key(cp.origin, private_key.public_key())]) == cp
    with pytest.raises(note.NoteError):
        note.open_checkpoint(signed, [note.verifier_key(cp.origin, Ed25519PrivateKey.generate().public_key())])


@pytest.mark.parametrize(
    "text",
    [
        "example.com/log\n20852163\n",  # two lines
        "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",  # no final newline
        "\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # empty origin
        "example.com/log\n020852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # leading zero
        "example.com/log\n-1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n+1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n1 \nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",  # unpadded
        "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jx\n",  # not 32 bytes
        "example.com/log\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\nextension\n",  # empty line
        "example.com/log\n１\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",  # a non-ASCII digit
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(note.NoteError):
        note.parse_checkpoint(text)


@pytest.mark.parametrize("size", ["9223372036854775808", "9999999999999999999"])
def test_a_checkpoint_size_beyond_int64_is_refused(size: str) -> None:
    """Review (issue #13): Go's tlog.ParseTree reads the size as an int64 and refuses more; ours took any 19 digits
    (up to 9999999999999999999, beyond what audit_checkpoints.size or any proof route takes)."""
    root = base64.b64encode(b"\x01" * 32).decode()
    with pytest.raises(note.NoteError):
        note.parse_checkpoint(f"example.com/log\n{size}\n{root}\n")
    assert note.parse_checkpoint(f"example.com/log\n9223372036854775807\n{root}\n").size == 2**63 - 1
