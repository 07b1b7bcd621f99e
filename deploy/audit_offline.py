"""The inspector's offline checks of the audit trail (issue #13): no database, no running system, only files the
inspector holds: an export (`GET /audit/export?format=jsonl`), signed checkpoints (`GET /audit/checkpoints…` or
the witness directory), proofs (`GET /audit/entries/{seq}`, `GET /audit/consistency`) and the log's public key
(`fundtrack audit public-key`, a Go note verifier key `name+hash+base64`).

Exit codes: 0 the files prove what was checked, 1 they do not (the report says where), 2 the command cannot run
(a missing or unreadable file, a malformed argument).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway import tlog
from gateway.audit_chain import leaf_data, link_and_leaf
from gateway.models import AUDIT_FIELDS, GENESIS_HASH
from gateway.note import Checkpoint, NoteError, open_checkpoint, parse_verifier_key

OK, BAD, USAGE = 0, 1, 2


class UsageError(Exception):
    """A file the command cannot read or an argument it cannot use: exit 2."""


class BadEntry(Exception):
    """A line of an export that is not an entry of the trail."""


def read_public_key(path: Path) -> str:
    """The verifier key in a key file: its first line that is neither empty nor a `#` comment."""
    for line in _read_text(path).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()
    raise UsageError(f"{path}: no public key in it (expected a line `name+hash+base64`)")


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from exc


def read_checkpoints(paths: list[Path], public_key: str) -> list[Checkpoint]:
    """The checkpoints in these files (a directory: every file in it but hidden ones, as the witness directory
    keeps them), each opened with the public key, by size; one refused signature refuses them all (NoteError), and
    two different roots signed for one size are a fork of the log, refused too."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")))
        else:
            files.append(path)
    if not files:
        raise UsageError("no checkpoint given (a file, or a directory of them)")
    by_size: dict[int, Checkpoint] = {}
    try:
        log_name = parse_verifier_key(public_key).name
    except NoteError as exc:
        raise UsageError(f"the public key is not a verifier key `name+hash+base64` ({exc})") from exc
    for file in files:
        try:
            cp = open_checkpoint(_read_text(file), [public_key])
        except NoteError as exc:
            raise NoteError(f"{file}: checkpoint refused: {exc}") from exc
        if cp.origin != log_name:
            raise NoteError(f"{file}: a checkpoint of {cp.origin!r}, not of the log {log_name!r} the key is of")
        seen = by_size.setdefault(cp.size, cp)
        if seen.root != cp.root:
            raise NoteError(f"{file}: the log signed two different trees of size {cp.size}: it forked")
    origins = {cp.origin for cp in by_size.values()}
    if len(origins) > 1:
        raise NoteError(f"the checkpoints name different logs: {sorted(origins)}")
    return [by_size[size] for size in sorted(by_size)]


def decode_hash(text: str) -> bytes:
    """A hash as the API writes it: base64 (or hex), 32 bytes."""
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadEntry(f"not a hash: {text!r}") from exc
    if len(raw) != tlog.HASH_SIZE:
        raise BadEntry(f"not a 32-byte hash: {text!r}")
    return raw


def entry_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The fields of an entry that its leaf and its chain link are hashes of, from their JSON form."""
    missing = [k for k in AUDIT_FIELDS if k not in obj]
    if missing:
        raise BadEntry(f"missing {', '.join(missing)}")
    entry = {k: obj[k] for k in AUDIT_FIELDS}
    ids = entry["entity_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise BadEntry("`entity_ids` is not a list of strings")  # the encoding takes list(...) of anything
    try:
        entry["at"] = datetime.fromisoformat(obj["at"])
    except (TypeError, ValueError) as exc:
        raise BadEntry(f"`at` is not an ISO time: {obj['at']!r}") from exc
    if entry["at"].tzinfo is None:
        raise BadEntry("`at` has no UTC offset")
    return entry


@dataclass
class Line:
    number: int
    seq: int
    entry: dict[str, Any]
    prev_hash: str
    hash: str


EXPORT_KEYS = frozenset(("seq", *AUDIT_FIELDS, "prev_hash", "hash"))


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise BadEntry("a field is given twice")
    return obj


def _entry_line(text: str) -> dict[str, Any]:
    """A line as exactly an entry: one JSON object of the export's fields, each once (what is OK'd is all it
    holds: nothing on the line that the log did not sign but seq, prev_hash and hash, which are checked)."""
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except RecursionError as exc:
        raise BadEntry("JSON nested too deep") from exc
    if not isinstance(obj, dict):
        raise BadEntry("not a JSON object")
    if extra := sorted(set(obj) - EXPORT_KEYS):
        raise BadEntry(f"fields that are not the entry's: {', '.join(extra)}")
    return obj


def read_export(path: Path) -> Iterator[Line]:
    """The entries of a JSON Lines export, one at a time (the file is never held whole)."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadEntry(f"{path}:{number}: not an entry of the trail (not UTF-8: {exc})") from exc
            if number == 1 and text.startswith("seq,"):
                raise UsageError(
                    f"{path} is the CSV export, made for spreadsheets: it cannot be verified (S10 writes `=x` and "
                    "`'=x` alike, and it leaves out origin_id). Export with `GET /audit/export?format=jsonl`."
                )
            if not text.strip():
                continue
            try:
                obj = _entry_line(text)
                if not isinstance(obj.get("seq"), int) or isinstance(obj["seq"], bool):
                    raise BadEntry("`seq` is not an integer")
                if not isinstance(obj.get("prev_hash"), str) or not isinstance(obj.get("hash"), str):
                    raise BadEntry("`prev_hash` and `hash` are hex strings")
                yield Line(number, obj["seq"], entry_fields(obj), obj["prev_hash"], obj["hash"])
            except (ValueError, KeyError, BadEntry) as exc:
                raise BadEntry(f"{path}:{number}: not an entry of the trail ({exc})") from exc


@dataclass
class ExportReport:
    """What verify_export found: `first_bad_seq` when one entry can be named, `findings` in the order found."""

    entries: int = 0
    whole: bool = True
    first_bad_seq: int | None = None
    findings: list[str] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def bad(self, seq: int | None, finding: str) -> None:
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq
        self.findings.append(finding)


def _check_link(report: ExportReport, line: Line, prev_seq: int, prev_hash: str) -> bytes:
    """A2, the chain: each entry's hash is of its content and names the previous entry's. It finds an entry changed
    by someone who did not recompute the chain after it; the tree finds the rest. Returns the entry's leaf hash (the
    entry is encoded once for both)."""
    link, leaf = link_and_leaf(line.prev_hash, line.seq, line.entry)
    if line.hash != link:
        report.bad(line.seq, f"seq {line.seq}: its content does not hash to its `hash` (chain)")
    elif line.seq == prev_seq + 1 and line.prev_hash != prev_hash:
        report.bad(line.seq, f"seq {line.seq}: its `prev_hash` is not the hash of seq {prev_seq} (chain)")
    return tlog.record_hash(leaf)


def _check_prefix(report: ExportReport, builder: tlog.RootBuilder, cp: Checkpoint, fitted: int) -> bool:
    """The tree: the export's first cp.size entries must have the checkpoint's root. On a mismatch, the entry to
    blame lies after the largest checkpoint they still fitted (`fitted`): named when that leaves only one."""
    if builder.root() == cp.root:
        report.matched.append(cp.size)
        return True
    if fitted + 1 == cp.size:
        report.bad(cp.size, f"seq {cp.size} is not the entry the log signed in the checkpoint of size {cp.size}"
                   f" (entries 1..{fitted} fit the one of size {fitted})")
    else:
        fitting = f"entries 1..{fitted} fit the one of size {fitted}" if fitted else "no smaller checkpoint was given"
        report.bad(None, f"entries 1..{cp.size} do not fit the checkpoint of size {cp.size}: an entry in seq "
                   f"{fitted + 1}..{cp.size} was changed, removed, added or moved ({fitting}; give checkpoints of "
                   "sizes in between, e.g. the witness directory, to name it)")
    return False


def verify_export(lines: Iterator[Line], checkpoints: list[Checkpoint]) -> ExportReport:
    """Recompute the Merkle root of the export's entries as they stream by (O(log n) memory), compare it with each
    checkpoint as the export reaches its size, and check the chain links on the way."""
    report, builder = ExportReport(), tlog.RootBuilder()
    pending = [cp for cp in checkpoints if cp.size > 0]
    fitted, tree_ok = 0, True
    prev_seq, prev_hash = 0, GENESIS_HASH
    for line in lines:
        report.entries += 1
        if report.whole and line.seq != prev_seq + 1:
            report.whole = False
            report.bad(prev_seq + 1, f"line {line.number}: seq {line.seq} where seq {prev_seq + 1} was expected: "
                       "this is not the whole trail in order (an entry was removed or moved, or the export is a "
                       "jurisdiction's or a filtered one: only a whole-trail export can be checked against a root; "
                       "check a subset entry by entry with `fundtrack audit verify-proof`)")
        leaf = _check_link(report, line, prev_seq, prev_hash)
        if report.whole and tree_ok:
            builder.add(leaf)
            while tree_ok and pending and pending[0].size == builder.size:
                tree_ok = _check_prefix(report, builder, pending.pop(0), fitted)
                fitted = builder.size if tree_ok else fitted
        prev_seq, prev_hash = line.seq, line.hash
    if report.whole and tree_ok and pending:
        report.bad(builder.size + 1, f"the export ends at seq {builder.size}, the checkpoint of size "
                   f"{pending[-1].size} signed entries up to seq {pending[-1].size}: entries "
                   f"{builder.size + 1}..{pending[-1].size} are missing")
    return report


def _describe(cp: Checkpoint) -> str:
    signed_at = f", signed at {datetime.fromtimestamp(cp.time, UTC).isoformat()}" if cp.time is not None else ""
    return f"{cp.origin} size {cp.size} root {base64.b64encode(cp.root).decode()}{signed_at}"


def run_verify_export(args: argparse.Namespace) -> int:
    public_key = read_public_key(args.public_key)
    checkpoints = read_checkpoints(args.checkpoint, public_key)
    for cp in checkpoints:
        print(f"checkpoint ok (signature verified): {_describe(cp)}")
    report = verify_export(read_export(args.export), checkpoints)
    print(f"export: {report.entries} entries{'' if report.whole else ' (not the whole trail)'}")
    if report.matched:
        print(f"the export's entries 1..{report.matched[-1]} fit the signed root of every checkpoint up to size "
              f"{report.matched[-1]} ({len(report.matched)})")
    for finding in report.findings:
        print(f"BAD: {finding}")
    if report.ok:
        covered = checkpoints[-1].size
        beyond = f"; entries {covered + 1}..{report.entries} are newer than it (chain checked)" if (
            report.entries > covered) else ""
        print(f"OK: the export holds every entry the checkpoint of size {covered} signed, unchanged{beyond}")
        return OK
    if report.first_bad_seq is not None:
        print(f"first bad entry: seq {report.first_bad_seq}")
    return BAD


def _one_checkpoint(path: Path, public_key: str) -> Checkpoint:
    if path.is_dir():
        raise UsageError(f"{path} is a directory: give one checkpoint file")
    [cp] = read_checkpoints([path], public_key)
    return cp


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc = json.loads(_read_text(path), object_pairs_hook=_no_duplicate_keys)
    except RecursionError as exc:
        raise UsageError(f"{path}: JSON nested too deep") from exc
    except ValueError as exc:
        raise UsageError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise UsageError(f"{path}: a JSON object expected")
    return doc


def _proof(doc: dict[str, Any], path: Path) -> list[bytes]:
    proof = doc.get("proof")
    if not isinstance(proof, list) or not all(isinstance(h, str) for h in proof):
        raise UsageError(f"{path}: `proof` is a list of base64 hashes")
    return [decode_hash(h) for h in proof]


def _size(doc: dict[str, Any], key: str, path: Path) -> int:
    value = doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise UsageError(f"{path}: `{key}` is a tree size (an integer)")
    return value


def proved_data(seq: int, shown: dict[str, Any], given: object) -> bytes:
    """The leaf's bytes of the entry shown: rebuilt from its fields, or the `leaf_data` given with it once every
    field shown is found in it unchanged (a shown form may leave some out, e.g. origin_id, or show `code` "" as
    null), so what the inspector reads is what the proof is about."""
    if extra := sorted(set(shown) - EXPORT_KEYS):
        raise BadEntry(f"seq {seq}: the entry shows fields its leaf is not of: {', '.join(extra)}")
    if "seq" in shown and shown["seq"] != seq:
        raise BadEntry(f"seq {seq}: the entry shown is seq {shown['seq']!r}")
    if given is None:
        return leaf_data(seq, entry_fields(shown))
    data = str(given).encode()
    try:
        canonical = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise BadEntry(f"seq {seq}: its `leaf_data` is not JSON") from exc
    if not isinstance(canonical, dict):
        raise BadEntry(f"seq {seq}: its `leaf_data` is not a JSON object")
    if canonical.get("seq") != seq:
        raise BadEntry(f"seq {seq}: its `leaf_data` is of another entry (seq {canonical.get('seq')!r})")
    shown = {**shown, "code": shown["code"] or ""} if "code" in shown else shown
    differing = [k for k in AUDIT_FIELDS if k in shown and shown[k] != canonical.get(k)]
    if differing:
        raise BadEntry(f"seq {seq}: the entry shown differs from its `leaf_data` in {', '.join(differing)}")
    return data


def run_verify_proof(args: argparse.Namespace) -> int:
    """One entry (`GET /audit/entries/{seq}`) is in the tree a checkpoint signed: its leaf, its inclusion proof."""
    cp = _one_checkpoint(args.checkpoint, read_public_key(args.public_key))
    doc = _read_json(args.entry)
    seq, size = _size(doc, "seq", args.entry), _size(doc, "checkpoint_size", args.entry)
    if size != cp.size:
        raise UsageError(f"the proof is for a tree of size {size}, the checkpoint is of size {cp.size}: "
                         "fetch the entry's proof for this checkpoint")
    if not isinstance(doc.get("entry"), dict):
        raise UsageError(f"{args.entry}: `entry` is the entry's fields")
    leaf = tlog.record_hash(proved_data(seq, doc["entry"], doc.get("leaf_data")))
    if "leaf_hash" in doc and decode_hash(str(doc["leaf_hash"])) != leaf:
        print(f"BAD: seq {seq}: its fields do not hash to the `leaf_hash` given with them")
        return BAD
    if not 1 <= seq <= cp.size:
        print(f"BAD: seq {seq} is not in the checkpoint of size {cp.size}")
        return BAD
    try:
        tlog.check_record(_proof(doc, args.entry), cp.size, cp.root, seq - 1, leaf)
    except tlog.ProofError as exc:
        print(f"BAD: seq {seq} is not proved to be in the checkpoint ({_describe(cp)}): {exc}")
        return BAD
    print(f"OK: seq {seq} is in the checkpoint ({_describe(cp)}), as given")
    return OK


def run_verify_consistency(args: argparse.Namespace) -> int:
    """A newer checkpoint extends an older one the inspector kept: nothing the older one signed has changed."""
    public_key = read_public_key(args.public_key)
    old, new = _one_checkpoint(args.old, public_key), _one_checkpoint(args.new, public_key)
    # Before the proof is read: a "newer" checkpoint smaller than the one kept is the log gone back (a rollback),
    # for which the gateway has no proof to give (/audit/consistency refuses from > to).
    if old.origin != new.origin:
        print(f"BAD: the checkpoints are not of the same log ({old.origin}, {new.origin})")
        return BAD
    if old.size > new.size:
        print(f"BAD: the newer checkpoint (size {new.size}) is smaller than the one you kept (size {old.size}): the "
              "log went back, or was cut short, since")
        return BAD
    doc = _read_json(args.proof)
    if (_size(doc, "from", args.proof), _size(doc, "to", args.proof)) != (old.size, new.size):
        raise UsageError(f"the proof is from size {doc['from']} to {doc['to']}, the checkpoints are of sizes "
                         f"{old.size} and {new.size}: fetch /audit/consistency?from={old.size}&to={new.size}")
    try:
        if old.size > 0:
            tlog.check_tree(_proof(doc, args.proof), new.size, new.root, old.size, old.root)
    except tlog.ProofError as exc:
        print(f"BAD: the checkpoint of size {new.size} does not extend the one of size {old.size}: an entry up to"
              f" seq {old.size} was changed, removed or moved since ({exc})")
        return BAD
    print(f"OK: the checkpoint of size {new.size} extends the one of size {old.size}: entries 1..{old.size} are"
          " unchanged")
    return OK


Command = Callable[[argparse.Namespace], int]


def _guarded(run: Command) -> Command:
    """The exit codes: a usage problem is 2 on stderr, a refused file or entry 1 (BAD), as every check reports."""

    def guarded(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except UsageError as exc:
            print(f"fundtrack: {exc}", file=sys.stderr)
            return USAGE
        except (NoteError, BadEntry) as exc:
            print(f"BAD: {exc}")
            return BAD

    return guarded


def add_commands(audit_commands: Any) -> None:
    """The offline checks as `fundtrack audit …` sub-commands."""
    key_help = "the log's public key file (`fundtrack audit public-key` prints it)"
    export = audit_commands.add_parser(
        "verify-export", help="check an export against signed checkpoints, offline (exit 0 ok, 1 bad, 2 usage)"
    )
    export.add_argument("--export", type=Path, required=True, help="GET /audit/export?format=jsonl, whole trail")
    export.add_argument("--checkpoint", type=Path, required=True, action="append",
                        help="a signed checkpoint, or a directory of them (the witness directory); repeatable")
    export.add_argument("--public-key", type=Path, required=True, help=key_help)
    export.set_defaults(run=_guarded(run_verify_export))
    proof = audit_commands.add_parser("verify-proof", help="check one entry's inclusion proof, offline")
    proof.add_argument("--entry", type=Path, required=True, help="the JSON of GET /audit/entries/{seq}")
    proof.add_argument("--checkpoint", type=Path, required=True, help="the signed checkpoint the proof is for")
    proof.add_argument("--public-key", type=Path, required=True, help=key_help)
    proof.set_defaults(run=_guarded(run_verify_proof))
    consistency = audit_commands.add_parser(
        "verify-consistency", help="check that a newer checkpoint extends an older one, offline"
    )
    consistency.add_argument("--old", type=Path, required=True, help="the older signed checkpoint you kept")
    consistency.add_argument("--new", type=Path, required=True, help="the newer signed checkpoint")
    consistency.add_argument("--proof", type=Path, required=True, help="the JSON of GET /audit/consistency")
    consistency.add_argument("--public-key", type=Path, required=True, help=key_help)
    consistency.set_defaults(run=_guarded(run_verify_consistency))
