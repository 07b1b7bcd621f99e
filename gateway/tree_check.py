"""The CPU side of verifying the trail (A7): recompute a span of entries' chain links and tree hashes and compare them
with what the database holds. Pure (no I/O), on plain tuples and a dict of hashes, so that gateway/tree_verify.py
can cut a span anywhere and check its parts in other processes while it reads the next span, and the gateway's event
loop never runs it.

Each entry is checked on its own: its link against its own stored `prev_hash`, its tree hashes computed from the
STORED hashes they depend on. That is the same check as the sequential one by induction: the hashes before the span
are verified (the caller's `known`), so if every stored hash of the span equals what is computed from the stored
hashes before it, every one of them is the tree's; and the first entry for which that fails is the first bad one.
Whether each `prev_hash` is the previous entry's `hash` (the chain's order) is the caller's, in one pass of compares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway import tlog
from gateway.audit_chain import link_and_leaf
from gateway.models import AUDIT_FIELDS

COLUMNS = ("seq", "prev_hash", "hash", *AUDIT_FIELDS)
"""What a row of the span holds, in this order (gateway/tree_verify.py reads them so)."""
Row = tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    seq: int
    problem: str


def check_span(first: int, rows: Sequence[Row], hashes: Mapping[int, bytes]) -> Finding | None:
    """Check the entries of records first, first + 1, … (seq first + 1, …): each one's link is the hash of its
    content and its `prev_hash`, and each hash it adds to the tree is the stored one. `hashes` holds the stored
    hashes of the span and the verified ones before it that the span's records need. The first bad entry, or None."""

    def read(indexes: Sequence[int]) -> list[bytes]:
        return [hashes[i] for i in indexes]

    for offset, row in enumerate(rows):
        n = first + offset
        seq = n + 1
        link, leaf = link_and_leaf(row[1], seq, dict(zip(AUDIT_FIELDS, row[3:], strict=True)))
        if row[0] != seq or row[2] != link:
            return Finding(seq, f"entry {seq} does not carry the chain's link")
        at = tlog.stored_hash_index(0, n)
        try:
            computed = tlog.stored_hashes(n, leaf, read)
        except KeyError:
            return Finding(seq, f"entry {seq} is not the entry the tree holds (the tree lacks hashes it closes)")
        for k, h in enumerate(computed):
            if hashes.get(at + k) != h:
                return Finding(seq, f"entry {seq} is not the entry the tree holds")
    return None
