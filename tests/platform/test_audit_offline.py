"""Issue #13, the inspector's side: the offline verifier on files alone, attacked. A superuser rewrites an entry
and every chain hash after it (the attack the chain alone cannot see), deletes the tail, reorders two entries,
forges a checkpoint with another key: each is named from the files the inspector kept. Honest growth stays
consistent. And the gateway's JSON Lines export is lossless: verify-export recomputes every hash the sequencer
wrote."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deploy import cli
from gateway import note, tlog
from gateway.audit_chain import entry_hash, leaf_data
from gateway.models import GENESIS_HASH
from tests.conftest import Api, MakePrincipal, wait_for_audit
from tests.test_bench import run_bench

ORIGIN = "fundtrack.test/audit"
KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def entry(i: int, *, path: str | None = None) -> dict[str, Any]:
    return {
        "at": T0 + timedelta(seconds=i, microseconds=i),
        "principal_id": f"finance-{i % 3}",
        "role": "finance",
        "region_code": "450521",
        "method": "POST" if i % 2 else "GET",
        "path": path or f"/funds/allocations/{i}",
        "query": "",
        "entity_ids": [f"alloc-{i}"],
        "body_sha256": "0" * 64,
        "status": 201,
        "code": "",
        "request_id": f"req-{i}",
        "origin": "gateway",
        "origin_id": None,
    }


@dataclass
class Trail:
    """The trail as the database holds it: entries with their chain, and the tree the sequencer keeps."""

    entries: list[dict[str, Any]]

    def records(self) -> list[dict[str, Any]]:
        """Export lines, with the chain recomputed over the entries as they now are (as a superuser would)."""
        out, prev = [], GENESIS_HASH
        for seq, e in enumerate(self.entries, start=1):
            h = entry_hash(prev, seq, e)
            at = e["at"].isoformat(timespec="microseconds")
            out.append({"seq": seq, **e, "at": at, "prev_hash": prev, "hash": h})
            prev = h
        return out

    def hashes(self) -> list[bytes]:
        stored: list[bytes] = []
        for n, e in enumerate(self.entries):
            stored.extend(tlog.stored_hashes(n, leaf_data(n + 1, e), lambda ix: [stored[i] for i in ix]))
        return stored

    def root(self, size: int) -> bytes:
        stored = self.hashes()
        return tlog.tree_hash(size, lambda ix: [stored[i] for i in ix])

    def checkpoint(self, size: int, key: Ed25519PrivateKey = KEY) -> str:
        cp = note.Checkpoint(ORIGIN, size, self.root(size), (note.time_extension(1_764_576_000 + size),))
        return note.sign(note.format_checkpoint(cp), ORIGIN, key)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "key.pub").write_text(note.verifier_key(ORIGIN, KEY.public_key()) + "\n")
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def write_export(path: Path, records: list[dict[str, Any]]) -> Path:
    return write(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def export_args(files: Path, export: Path, *checkpoints: Path) -> list[str]:
    args = ["audit", "verify-export", "--export", str(export), "--public-key", str(files / "key.pub")]
    for cp in checkpoints:
        args += ["--checkpoint", str(cp)]
    return args


HONEST = Trail([entry(i) for i in range(1, 41)])


def test_an_honest_export_verifies(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = write_export(files / "trail.jsonl", HONEST.records())
    cp = write(files / "cp.txt", HONEST.checkpoint(40))
    code, out = run(capsys, *export_args(files, export, cp))
    assert code == 0, out
    assert "OK: the export holds every entry the checkpoint of size 40 signed" in out


def test_a_rewritten_entry_with_a_recomputed_chain_is_named(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The chain alone says ok: every hash after the entry was recomputed. The tree and the earlier checkpoints
    the inspector kept name the entry."""
    witness = files / "witness"
    witness.mkdir()
    for size in (10, 16, 17, 30):
        write(witness / f"{size}.txt", HONEST.checkpoint(size))
    forged = Trail([entry(i, path="/funds/allocations/quietly-changed" if i == 17 else None) for i in range(1, 41)])
    export = write_export(files / "trail.jsonl", forged.records())
    code, out = run(capsys, *export_args(files, export, witness))
    assert code == 1, out
    assert "(chain)" not in out  # the chain was recomputed: it cannot see it
    assert "seq 17 is not the entry the log signed" in out and "first bad entry: seq 17" in out
    # with one earlier checkpoint only, the verifier says where the entry lies and what would name it
    code, out = run(capsys, *export_args(files, export, witness / "30.txt"))
    assert code == 1 and "an entry in seq 1..30 was changed" in out


def test_the_consistency_proof_to_a_rewritten_tree_fails(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    forged = Trail([entry(i, path="/x" if i == 17 else None) for i in range(1, 41)] + [entry(41)])
    stored = forged.hashes()
    proof = tlog.prove_tree(41, 30, lambda ix: [stored[i] for i in ix])
    old = write(files / "old.txt", HONEST.checkpoint(30))
    new = write(files / "new.txt", forged.checkpoint(41))  # signed by the log's own key: the key was not stolen
    doc = write(files / "proof.json", json.dumps({"from": 30, "to": 41, "proof": [p.hex() for p in proof]}))
    code, out = run(capsys, "audit", "verify-consistency", "--old", str(old), "--new", str(new), "--proof",
                    str(doc), "--public-key", str(files / "key.pub"))
    assert code == 1 and "does not extend the one of size 30" in out, out


def test_honest_growth_keeps_every_old_checkpoint_consistent(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stored = HONEST.hashes()
    new = write(files / "new.txt", HONEST.checkpoint(40))
    for size in (1, 2, 7, 16, 33, 40):
        old = write(files / f"old-{size}.txt", HONEST.checkpoint(size))
        proof = tlog.prove_tree(40, size, lambda ix: [stored[i] for i in ix])
        doc = write(files / "proof.json",
                    json.dumps({"from": size, "to": 40, "proof": [base64.b64encode(p).decode() for p in proof]}))
        code, out = run(capsys, "audit", "verify-consistency", "--old", str(old), "--new", str(new), "--proof",
                        str(doc), "--public-key", str(files / "key.pub"))
        assert code == 0 and f"entries 1..{size} are unchanged" in out, out


def test_a_deleted_tail_is_reported(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = write_export(files / "trail.jsonl", HONEST.records()[:35])
    code, out = run(capsys, *export_args(files, export, write(files / "cp.txt", HONEST.checkpoint(40))))
    assert code == 1 and "entries 36..40 are missing" in out and "first bad entry: seq 36" in out, out


def test_two_reordered_entries_are_named(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cp = write(files / "cp.txt", HONEST.checkpoint(40))
    records = HONEST.records()
    records[11], records[12] = records[12], records[11]  # moved in the file
    code, out = run(capsys, *export_args(files, write_export(files / "moved.jsonl", records), cp))
    assert code == 1 and "seq 13 where seq 12 was expected" in out and "first bad entry: seq 12" in out, out
    # moved in the database, seq kept in order and the chain recomputed: the tree and the witness name it
    swapped = list(HONEST.entries)
    swapped[11], swapped[12] = swapped[12], swapped[11]
    export = write_export(files / "swapped.jsonl", Trail(swapped).records())
    witness = [write(files / f"{n}.txt", HONEST.checkpoint(n)) for n in (11, 12)]
    code, out = run(capsys, *export_args(files, export, cp, *witness))
    assert code == 1 and "(chain)" not in out and "first bad entry: seq 12" in out, out


def test_a_changed_entry_without_a_recomputed_chain_is_named_by_the_chain(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = HONEST.records()
    records[6]["status"] = 200
    code, out = run(capsys, *export_args(files, write_export(files / "t.jsonl", records),
                                         write(files / "cp.txt", HONEST.checkpoint(40))))
    assert code == 1 and "seq 7: its content does not hash to its `hash` (chain)" in out, out
    assert "first bad entry: seq 7" in out


def test_a_checkpoint_signed_with_another_key_is_refused(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = write_export(files / "trail.jsonl", HONEST.records())
    forged = write(files / "cp.txt", HONEST.checkpoint(40, OTHER_KEY))
    code, out = run(capsys, *export_args(files, export, forged))
    assert code == 1 and "checkpoint refused" in out and "no verifiable signatures" in out, out
    edited = write(files / "edited.txt", HONEST.checkpoint(40).replace("\n40\n", "\n39\n"))
    code, out = run(capsys, *export_args(files, export, edited))
    assert code == 1 and "invalid signature" in out, out


def test_a_truncated_witness_directory_still_checks_what_it_holds(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Files removed from the witness directory cannot make a forged trail pass: what is left is checked, and an
    empty directory is no evidence at all (exit 2)."""
    witness = files / "witness"
    witness.mkdir()
    for size in (5, 20, 40):
        write(witness / f"{size}.txt", HONEST.checkpoint(size))
    forged = Trail([entry(i, path="/y" if i == 3 else None) for i in range(1, 41)])
    export = write_export(files / "trail.jsonl", forged.records())
    (witness / "5.txt").unlink()
    code, out = run(capsys, *export_args(files, export, witness))
    assert code == 1 and "an entry in seq 1..20" in out, out
    for cp in witness.iterdir():
        cp.unlink()
    code, out = run(capsys, *export_args(files, export, witness))
    assert code == 2 and "no checkpoint given" in out, out


def test_a_subset_export_says_it_cannot_be_checked_against_a_root(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    county = [r for r in HONEST.records() if r["seq"] % 3]
    code, out = run(capsys, *export_args(files, write_export(files / "county.jsonl", county),
                                         write(files / "cp.txt", HONEST.checkpoint(40))))
    assert code == 1 and "only a whole-trail export can be checked against a root" in out, out
    assert "(chain)" not in out  # each entry still hashes to its own `hash`


def test_a_csv_export_is_refused_with_what_to_use(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = write(files / "audit.csv", "seq,at,principal_id\n1,2026-12-01,x\n")
    code, out = run(capsys, *export_args(files, export, write(files / "cp.txt", HONEST.checkpoint(40))))
    assert code == 2 and "format=jsonl" in out, out


def entry_document(trail: Trail, seq: int, size: int) -> dict[str, Any]:
    """The shape GET /audit/entries/{seq} answers."""
    stored = trail.hashes()
    record = trail.records()[seq - 1]
    proof = tlog.prove_record(size, seq - 1, lambda ix: [stored[i] for i in ix])
    return {
        "seq": seq,
        "entry": {k: v for k, v in record.items() if k not in ("seq", "prev_hash", "hash")},
        "leaf_hash": base64.b64encode(tlog.record_hash(leaf_data(seq, trail.entries[seq - 1]))).decode(),
        "checkpoint_size": size,
        "proof": [base64.b64encode(p).decode() for p in proof],
    }


def test_one_entry_is_proved_in_a_checkpoint(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cp = write(files / "cp.txt", HONEST.checkpoint(40))
    key = str(files / "key.pub")
    doc = entry_document(HONEST, 17, 40)
    good = write(files / "e.json", json.dumps(doc))
    code, out = run(capsys, "audit", "verify-proof", "--entry", str(good), "--checkpoint", str(cp), "--public-key", key)
    assert code == 0 and "OK: seq 17 is in the checkpoint" in out, out
    doc["entry"]["status"] = 500  # the entry shown is not the one proved
    bad = write(files / "bad.json", json.dumps(doc))
    code, out = run(capsys, "audit", "verify-proof", "--entry", str(bad), "--checkpoint", str(cp), "--public-key", key)
    assert code == 1 and "do not hash to the `leaf_hash`" in out, out
    del doc["leaf_hash"]
    write(files / "bad.json", json.dumps(doc))
    code, out = run(capsys, "audit", "verify-proof", "--entry", str(bad), "--checkpoint", str(cp), "--public-key", key)
    assert code == 1 and "not proved to be in the checkpoint" in out, out
    forged = entry_document(Trail([entry(i, path="/z" if i == 17 else None) for i in range(1, 41)]), 17, 40)
    write(files / "bad.json", json.dumps(forged))
    code, out = run(capsys, "audit", "verify-proof", "--entry", str(bad), "--checkpoint", str(cp), "--public-key", key)
    assert code == 1 and "not proved to be in the checkpoint" in out, out
    other = write(files / "cp30.txt", HONEST.checkpoint(30))
    code, out = run(capsys, "audit", "verify-proof", "--entry", str(good), "--checkpoint", str(other), "--public-key",
                    key)
    assert code == 2 and "fetch the entry's proof for this checkpoint" in out, out


def test_a_missing_file_is_a_usage_error(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, *export_args(files, files / "nope.jsonl", write(files / "cp.txt", HONEST.checkpoint(1))))
    assert code == 2 and "cannot read it" in out, out


def sign_export(path: Path) -> str:
    """A checkpoint over an export, as the sequencer would sign it (the test holds the key)."""
    builder = tlog.RootBuilder()
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            fields = {k: record[k] for k in record if k not in ("seq", "prev_hash", "hash")}
            fields["at"] = datetime.fromisoformat(fields["at"])
            builder.add(tlog.record_hash(leaf_data(record["seq"], fields)))
    cp = note.Checkpoint(ORIGIN, builder.size, builder.root(), ())
    return note.sign(note.format_checkpoint(cp), ORIGIN, KEY)


async def test_the_jsonl_export_is_lossless(
    admin: Api, make_principal: MakePrincipal, files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every hash the sequencer wrote is recomputed from the export's lines alone: nothing the chain (or the tree)
    hashes is lost or reshaped on the way out, the planted formula and the empty `code` included."""
    await admin.get("/public/announcements/=1+1", headers={"x-request-id": "=HYPERLINK(1)"})
    await wait_for_audit(admin)
    response = await admin.get("/audit/export", params={"format": "jsonl"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/jsonl")
    records = [json.loads(line) for line in response.text.splitlines()]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))  # oldest first, the whole trail
    assert any(r["request_id"] == "=HYPERLINK(1)" for r in records)  # as sent: no spreadsheet quote
    assert {"origin_id", "code"} <= set(records[0]) and "" in {r["code"] for r in records}
    export = write(files / "trail.jsonl", response.text)
    code, out = run(capsys, *export_args(files, export, write(files / "cp.txt", sign_export(export))))
    assert code == 0, out
    county = await make_principal("inspector", "450521")
    subset = await county.get("/audit/export", params={"format": "jsonl"})
    assert subset.status_code == 200
    assert all(json.loads(line)["region_code"].startswith("450521") for line in subset.text.splitlines())
    assert (await admin.get("/audit/export", params={"format": "xlsx"})).status_code == 422


def test_an_entry_shown_with_its_leaf_data_is_proved(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """GET /audit/entries/{seq} may show the entry as GET /audit does (no origin_id, `code` "" as null) with the
    leaf's bytes beside it: the proof is of those bytes, and every field shown must be found in them."""
    cp = write(files / "cp.txt", HONEST.checkpoint(40))
    key = str(files / "key.pub")
    doc = entry_document(HONEST, 9, 40)
    doc["leaf_data"] = leaf_data(9, HONEST.entries[8]).decode()
    doc["entry"] = {k: v for k, v in doc["entry"].items() if k != "origin_id"} | {"code": None}
    shown = write(files / "e.json", json.dumps(doc))
    args = ("audit", "verify-proof", "--entry", str(shown), "--checkpoint", str(cp), "--public-key", key)
    code, out = run(capsys, *args)
    assert code == 0, out
    doc["entry"]["principal_id"] = "someone-else"  # shown one way, proved another
    write(files / "e.json", json.dumps(doc))
    code, out = run(capsys, *args)
    assert code == 1 and "differs from its `leaf_data` in principal_id" in out, out


def test_the_witness_directory_is_read_as_the_gateway_writes_it(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`checkpoint-<size>.txt`, `latest` (a copy of one of them) and a half-written hidden temporary file; and two
    roots signed for one size are a fork."""
    witness = files / "witness"
    witness.mkdir()
    for size in (12, 40):
        write(witness / f"checkpoint-{size}.txt", HONEST.checkpoint(size))
    write(witness / "latest", HONEST.checkpoint(40))
    write(witness / ".latest.123.tmp", "fundtrack.test/au")
    export = write_export(files / "trail.jsonl", HONEST.records())
    code, out = run(capsys, *export_args(files, export, witness))
    assert code == 0, out
    forked = Trail([entry(i, path="/f" if i == 2 else None) for i in range(1, 13)])
    write(witness / "fork.txt", forked.checkpoint(12))
    code, out = run(capsys, *export_args(files, export, witness))
    assert code == 1 and "two different trees of size 12" in out, out


def test_the_offline_verification_bench_runs() -> None:
    results = run_bench("audit_offline", "--entries", "2000")
    assert results["verify_export"]["exit"] == 0 and results["baseline_read_and_parse"]["entries"] == 2000
    assert results["verify_export"]["peak_rss_mib"] > 0


def _export_with_line_5(files: Path, line: str | bytes) -> Path:
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in HONEST.records()]
    lines[4] = line if isinstance(line, bytes) else line.encode()
    path = files / "crafted.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize(
    "line",
    [
        b"\xff\xfe not UTF-8",  # a byte that is not UTF-8
        "[" * 100_000,  # JSON nested deeper than Python's recursion limit
        json.dumps({**HONEST.records()[4], "entity_ids": 5}),  # a field of the wrong type
    ],
    ids=["invalid-utf8", "deep-json", "entity-ids-int"],
)
def test_a_crafted_export_line_is_bad_not_a_traceback(
    files: Path, capsys: pytest.CaptureFixture[str], line: str | bytes
) -> None:
    """Attack (issue #13 review): a line the verifier cannot read must be reported (exit 1, the line named), not
    crash the command with a traceback."""
    cp = write(files / "cp.txt", HONEST.checkpoint(40))
    code, out = run(capsys, *export_args(files, _export_with_line_5(files, line), cp))
    assert code == 1 and "crafted.jsonl:5" in out, out


def test_content_the_log_never_signed_in_an_export_line_is_not_vouched_for(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack (issue #13 review): whoever hands the inspector an export adds to an entry's line what the log never
    signed (an extra field; an object where entity_ids is a list, its keys the ids and its values anything; a
    field given twice, a reader seeing the first, json.loads keeping the last), and verify-export still says
    "the export holds every entry the checkpoint signed, unchanged". A line must be exactly an entry."""
    cp = write(files / "cp.txt", HONEST.checkpoint(40))
    record = HONEST.records()[4]
    honest_line = json.dumps(record, ensure_ascii=False)
    crafted = {
        "extra-field": json.dumps({**record, "amount_yuan": 1_000_000}),
        "entity-ids-object": json.dumps({**record, "entity_ids": {i: "approved by the county head" for i in
                                                                 record["entity_ids"]}}),
        "duplicate-key": '{"path": "/funds/allocations/quietly-changed", ' + honest_line[1:],
    }
    for name, line in crafted.items():
        code, out = run(capsys, *export_args(files, _export_with_line_5(files, line), cp))
        assert code == 1 and "crafted.jsonl:5" in out, (name, out)


def test_an_entry_shown_with_content_the_proof_is_not_about_is_not_ok(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack (issue #13 review): the entry document of verify-proof shows what its leaf_data does not hold (an
    extra field, another seq, a field given twice: the reader sees the first, json.loads keeps the last), and the
    verifier says "OK: seq 9 is in the checkpoint, as given". What is shown must be what is proved."""
    cp = write(files / "cp.txt", HONEST.checkpoint(40))
    key = str(files / "key.pub")
    doc = entry_document(HONEST, 9, 40)
    doc["leaf_data"] = leaf_data(9, HONEST.entries[8]).decode()
    args = ("audit", "verify-proof", "--entry", str(files / "e.json"), "--checkpoint", str(cp), "--public-key", key)
    write(files / "e.json", json.dumps(doc))
    assert run(capsys, *args)[0] == 0
    for name, text in {
        "extra-field": json.dumps({**doc, "entry": {**doc["entry"], "approved_by": "the county head"}}),
        "other-seq": json.dumps({**doc, "entry": {**doc["entry"], "seq": 31}}),
        "duplicate-key": json.dumps(doc).replace('"entry": {', '"entry": {"path": "/funds/allocations/31", ', 1),
    }.items():
        write(files / "e.json", text)
        code, out = run(capsys, *args)
        assert code in (1, 2) and "OK" not in out, (name, out)


def test_a_rolled_back_latest_checkpoint_is_bad_not_a_usage_error(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Attack (issue #13 review): the superuser deletes the newest rows of audit_checkpoints, so GET
    /audit/checkpoints/latest serves an older checkpoint than the one the inspector kept. Following the README, the
    inspector fetches /audit/consistency?from=KEPT&to=NOW, which is a 422 problem (from > to), and verify-consistency
    answers exit 2, a usage error ("`from` is a tree size"), never that the log went back: a rollback must be BAD."""
    old = write(files / "old.txt", HONEST.checkpoint(30))
    new = write(files / "new.txt", HONEST.checkpoint(20))
    problem = {"type": "about:blank", "status": 422, "code": "VALIDATION_ERROR", "field": "from",
               "detail": "`from` must not be larger than `to`"}
    for doc in (problem, {"from": 30, "to": 20, "proof": []}):
        proof = write(files / "proof.json", json.dumps(doc))
        code, out = run(capsys, "audit", "verify-consistency", "--old", str(old), "--new", str(new), "--proof",
                        str(proof), "--public-key", str(files / "key.pub"))
        assert code == 1 and "BAD" in out, (doc, out)


def test_a_checkpoint_of_another_origin_is_refused(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Review (issue #13, c2sp.org/tlog-checkpoint: a client checks the origin line against the log it expects):
    a note signed by the key but naming another log (a key used for two logs, a staging log's checkpoint) is taken
    by verify-export as a checkpoint of this log."""
    cp = note.Checkpoint("staging.example/audit", 40, HONEST.root(40))
    other = write(files / "cp.txt", note.sign(note.format_checkpoint(cp), ORIGIN, KEY))
    export = write_export(files / "trail.jsonl", HONEST.records())
    code, out = run(capsys, *export_args(files, export, other))
    assert code == 1 and "staging.example/audit" in out, out


@pytest.mark.parametrize("leaf", ["[" * 100_000, "[1]"], ids=["deep-json", "not-an-object"])
def test_a_crafted_leaf_data_is_bad_not_a_traceback(
    files: Path, capsys: pytest.CaptureFixture[str], leaf: str
) -> None:
    """Attack (issue #13 review): the entry document's `leaf_data` nested deeper than Python's recursion limit, or
    JSON that is not an object: verify-proof crashes with a traceback (RecursionError; AttributeError while it
    words its own refusal) instead of saying BAD."""
    cp = write(files / "cp.txt", HONEST.checkpoint(40))
    entry_file = write(files / "e.json", json.dumps({**entry_document(HONEST, 9, 40), "leaf_data": leaf}))
    code, out = run(capsys, "audit", "verify-proof", "--entry", str(entry_file), "--checkpoint", str(cp),
                    "--public-key", str(files / "key.pub"))
    assert code == 1 and "BAD" in out, out
