"""Issue #13, item 7: the inspector's offline verification of a whole-trail export (default 10,000,000 entries), its
time and its memory. No database: the bench writes a JSON Lines export as `GET /audit/export?format=jsonl` would
(the chain's hashes and the Merkle leaves computed as the sequencer does), signs checkpoints at half and at the
full size with a fresh key, then runs `fundtrack audit verify-export` in its own process and reads its peak RSS.
The baseline, in the same run: reading and JSON-parsing the same file and nothing else.

    python -m bench.audit_offline [--entries 10000000] [--dir /tmp]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway import note, tlog
from gateway.audit_chain import link_and_leaf
from gateway.models import GENESIS_HASH

ORIGIN = "bench.fundtrack/audit"
START = datetime(2021, 1, 1, tzinfo=UTC)
PATHS = ("/funds/allocations", "/funds/disbursements", "/projects", "/loans", "/registry/households", "/audit")


def synthetic_entry(i: int) -> dict[str, Any]:
    """An entry shaped like the gateway's: a county of one province, a role, a route, mostly no error code."""
    county = f"45{(i * 7) % 14 + 1:02d}{(i * 13) % 9 + 21:02d}"
    path = f"{PATHS[i % len(PATHS)]}/{i:x}"
    return {
        "at": START + timedelta(seconds=i * 15, microseconds=i % 1_000_000),
        "principal_id": f"prn_{i % 997:04d}",
        "role": ("finance", "county", "bank", "inspector")[i % 4],
        "region_code": county,
        "method": ("GET", "POST", "GET", "PUT")[i % 4],
        "path": path,
        "query": "" if i % 5 else "limit=50",
        "entity_ids": [f"ent_{i:x}"] if i % 3 else [],
        "body_sha256": f"{i:064x}",
        "status": 200 if i % 50 else 422,
        "code": "" if i % 50 else "VALIDATION_ERROR",
        "request_id": f"req-{i:x}",
        "origin": "gateway" if i % 4 else "funds",
        "origin_id": None if i % 4 else i,
    }


def write_export(path: Path, entries: int, key: Ed25519PrivateKey, sizes: set[int]) -> dict[int, str]:
    """The export file, and a signed checkpoint at each of `sizes`."""
    builder, prev, signed = tlog.RootBuilder(), GENESIS_HASH, {}
    with path.open("w", encoding="utf-8") as out:
        for seq in range(1, entries + 1):
            entry = synthetic_entry(seq)
            link, leaf = link_and_leaf(prev, seq, entry)
            builder.add(tlog.record_hash(leaf))
            record = {"seq": seq, **entry, "at": entry["at"].isoformat(timespec="microseconds")}
            out.write(json.dumps({**record, "prev_hash": prev, "hash": link}, separators=(",", ":")) + "\n")
            prev = link
            if seq in sizes:
                cp = note.Checkpoint(ORIGIN, seq, builder.root(), (note.time_extension(int(time.time())),))
                signed[seq] = note.sign(note.format_checkpoint(cp), ORIGIN, key)
    return signed


def parse_only(path: Path) -> int:
    count = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            json.loads(line)
            count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="where to write the export (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as work:
        directory = Path(work)
        key = Ed25519PrivateKey.generate()
        (directory / "key.pub").write_text(note.verifier_key(ORIGIN, key.public_key()) + "\n")
        export = directory / "trail.jsonl"
        began = time.perf_counter()
        signed = write_export(export, args.entries, key, {max(args.entries // 2, 1), args.entries})
        generated = time.perf_counter() - began
        checkpoints = []
        for size, text in signed.items():
            checkpoints += ["--checkpoint", str(directory / f"cp-{size}.txt")]
            (directory / f"cp-{size}.txt").write_text(text)
        began = time.perf_counter()
        parsed = parse_only(export)
        baseline = time.perf_counter() - began
        command = [sys.executable, "-m", "deploy.cli", "audit", "verify-export", "--export", str(export),
                   "--public-key", str(directory / "key.pub"), *checkpoints]
        began = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        verified = time.perf_counter() - began
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        results = {
            "entries": args.entries,
            "export_mib": round(export.stat().st_size / 2**20, 1),
            "generate_seconds": round(generated, 1),
            "baseline_read_and_parse": {"entries": parsed, "seconds": round(baseline, 2)},
            "verify_export": {
                "exit": done.returncode,
                "seconds": round(verified, 2),
                "entries_per_second": round(args.entries / verified),
                "peak_rss_mib": round(peak_kib / 1024, 1),
                "last_line": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr[-500:],
            },
        }
    print(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
