"""The Merkle tree over the audit trail (issue #13): a port of Go's golang.org/x/mod/sumdb/tlog (BSD-licensed,
Copyright 2019 The Go Authors), the tree Certificate Transparency (RFC 6962/9162), the Go checksum database and
C2SP tlog-tiles logs use, so that any of their verifiers checks our proofs.

Pure, no I/O. Hashes are stored in Crosby and Wallach's dense order (`stored_hash_index`): appending record n
stores `stored_hashes(n, ...)` at `stored_hash_index(0, n)` onwards, and every proof then reads at most O(log n)
stored hashes, all in one `HashReader` call (one query for the caller), never the whole trail.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

Hash = bytes
HASH_SIZE = 32

HashReader = Callable[[Sequence[int]], Sequence[bytes]]
"""Returns the stored hashes at the given indexes, in the same order (asked for in increasing order)."""

EMPTY_HASH = hashlib.sha256(b"").digest()
"""The hash of the empty tree (RFC 6962 §2.1)."""


class ProofError(Exception):
    """A proof that does not prove what it is checked against, or inputs that cannot have a proof."""


def record_hash(data: bytes) -> bytes:
    """A leaf's hash: SHA-256(0x00 ‖ data) (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node's hash: SHA-256(0x01 ‖ left ‖ right) (RFC 6962 §2.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _maxpow2(n: int) -> tuple[int, int]:
    """k, the largest power of two smaller than n, and log₂ k."""
    level = max(n - 1, 1).bit_length() - 1
    return 1 << level, level


def _trailing_ones(n: int) -> int:
    """How many subtrees record n completes: the trailing zero bits of n + 1."""
    m = n + 1
    return (m & -m).bit_length() - 1


def stored_hash_index(level: int, n: int) -> int:
    """Where the n-th hash of a level is stored: level L's n-th hash comes right after level L+1's (2n+1)-th."""
    for _ in range(level):
        n = 2 * n + 1
    i = 0
    while n > 0:
        i += n
        n >>= 1
    return i + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """The (level, n) stored at `index`: the inverse of stored_hash_index."""
    n = index // 2
    index_n = stored_hash_index(0, n)
    if index_n > index:
        raise AssertionError("tlog: bad math in split_stored_hash_index")
    while True:
        x = index_n + 1 + _trailing_ones(n)
        if x > index:
            break
        n += 1
        index_n = x
    level = index - index_n
    return level, n >> level


def stored_hash_count(n: int) -> int:
    """How many hashes a tree of n records stores."""
    if n == 0:
        return 0
    return stored_hash_index(0, n - 1) + 1 + _trailing_ones(n - 1)


def _read(read_hashes: HashReader, indexes: Sequence[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = list(read_hashes(indexes))
    if len(hashes) != len(indexes):
        raise ProofError(f"tlog: read_hashes({len(indexes)} indexes) returned {len(hashes)} hashes")
    return hashes


def indexes_for_stored_hashes(n: int) -> list[int]:
    """The stored hashes (in increasing order) that appending record n reads: one per subtree it completes."""
    m = _trailing_ones(n)
    return [stored_hash_index(i, (n >> i) - 1) for i in reversed(range(m))]


def stored_hashes(n: int, data: bytes, read_hashes: HashReader) -> list[bytes]:
    """The hashes to store, from stored_hash_index(0, n) on, when appending record n with this data."""
    return stored_hashes_for_record_hash(n, record_hash(data), read_hashes)


def stored_hashes_for_record_hash(n: int, h: bytes, read_hashes: HashReader) -> list[bytes]:
    """stored_hashes, given the record's leaf hash instead of its data: at most 1 + log₂ n, two on average."""
    indexes = indexes_for_stored_hashes(n)
    old = _read(read_hashes, indexes)
    hashes = [h]
    m = len(indexes)
    for i in range(m):
        h = node_hash(old[m - 1 - i], h)
        hashes.append(h)
    return hashes


def _sub_tree_index(lo: int, hi: int, need: list[int]) -> list[int]:
    """Appends the stored indexes that give the hash of records [lo, hi) (its complete subtrees, left first)."""
    while lo < hi:
        k, level = _maxpow2(hi - lo + 1)
        if lo & (k - 1):
            raise AssertionError("tlog: bad math in _sub_tree_index")
        need.append(stored_hash_index(level, lo >> level))
        lo += k
    return need


def _sub_tree_hash(lo: int, hi: int, hashes: list[bytes]) -> tuple[bytes, list[bytes]]:
    """The hash of records [lo, hi) from the hashes _sub_tree_index asked for; returns the leftover hashes."""
    num_tree = 0
    while lo < hi:
        k, _ = _maxpow2(hi - lo + 1)
        num_tree += 1
        lo += k
    if len(hashes) < num_tree:
        raise AssertionError("tlog: bad index math in _sub_tree_hash")
    h = hashes[num_tree - 1]
    for i in range(num_tree - 2, -1, -1):
        h = node_hash(hashes[i], h)
    return h, hashes[num_tree:]


def indexes_for_tree_hash(n: int) -> list[int]:
    """The stored hashes tree_hash(n) reads: at most 1 + log₂ n."""
    return _sub_tree_index(0, n, []) if n > 0 else []


def tree_hash(n: int, read_hashes: HashReader) -> bytes:
    """The root hash of the tree of the first n records, in one read of at most 1 + log₂ n stored hashes."""
    if n == 0:
        return EMPTY_HASH
    hashes = _read(read_hashes, indexes_for_tree_hash(n))
    h, rest = _sub_tree_hash(0, n, hashes)
    if rest:
        raise AssertionError("tlog: bad index math in tree_hash")
    return h


def _leaf_proof_index(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if not lo <= n < hi:
        raise AssertionError("tlog: bad math in _leaf_proof_index")
    if lo + 1 == hi:
        return need
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        _leaf_proof_index(lo, lo + k, n, need)
        _sub_tree_index(lo + k, hi, need)
    else:
        _sub_tree_index(lo, lo + k, need)
        _leaf_proof_index(lo + k, hi, n, need)
    return need


def _leaf_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    """The audit path of leaf n in records [lo, hi), leaf side first; returns the leftover hashes."""
    if lo + 1 == hi:
        return [], hashes
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        p, hashes = _leaf_proof(lo, lo + k, n, hashes)
        th, hashes = _sub_tree_hash(lo + k, hi, hashes)
    else:
        th, hashes = _sub_tree_hash(lo, lo + k, hashes)
        p, hashes = _leaf_proof(lo + k, hi, n, hashes)
    return [*p, th], hashes


def indexes_for_record_proof(t: int, n: int) -> list[int]:
    """The stored hashes prove_record(t, n) reads, in increasing order."""
    if t < 0 or n < 0 or n >= t:
        raise ProofError("tlog: invalid inputs in prove_record")
    return _leaf_proof_index(0, t, n, [])


def prove_record(t: int, n: int, read_hashes: HashReader) -> list[bytes]:
    """The proof that the tree of size t contains record n (RFC 6962's Merkle audit path), in one read."""
    hashes = _read(read_hashes, indexes_for_record_proof(t, n))
    proof, rest = _leaf_proof(0, t, n, hashes)
    if rest:
        raise AssertionError("tlog: bad index math in prove_record")
    return proof


def _run_record_proof(p: Sequence[bytes], lo: int, hi: int, n: int, leaf: bytes) -> bytes:
    """The hash of records [lo, hi) the proof implies, given leaf n's hash."""
    if lo + 1 == hi:
        if p:
            raise ProofError("invalid transparency proof: unnecessary hashes")
        return leaf
    if not p:
        raise ProofError("invalid transparency proof: too short")
    k, _ = _maxpow2(hi - lo)
    if n < lo + k:
        return node_hash(_run_record_proof(p[:-1], lo, lo + k, n, leaf), p[-1])
    return node_hash(p[-1], _run_record_proof(p[:-1], lo + k, hi, n, leaf))


def check_record(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> None:
    """Raises ProofError unless `proof` proves that the tree of size t and root th has h as its n-th record."""
    if t < 0 or n < 0 or n >= t:
        raise ProofError("tlog: invalid inputs in check_record")
    if _run_record_proof(list(proof), 0, t, n, h) != th:
        raise ProofError("invalid transparency proof: the root does not match")


def _tree_proof_index(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if not lo < n <= hi:
        raise AssertionError("tlog: bad math in _tree_proof_index")
    if n == hi:
        return need if lo == 0 else _sub_tree_index(lo, hi, need)
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        _tree_proof_index(lo, lo + k, n, need)
        _sub_tree_index(lo + k, hi, need)
    else:
        _sub_tree_index(lo, lo + k, need)
        _tree_proof_index(lo + k, hi, n, need)
    return need


def _tree_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    if n == hi:
        if lo == 0:
            return [], hashes
        th, hashes = _sub_tree_hash(lo, hi, hashes)
        return [th], hashes
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        p, hashes = _tree_proof(lo, lo + k, n, hashes)
        th, hashes = _sub_tree_hash(lo + k, hi, hashes)
    else:
        th, hashes = _sub_tree_hash(lo, lo + k, hashes)
        p, hashes = _tree_proof(lo + k, hi, n, hashes)
    return [*p, th], hashes


def indexes_for_tree_proof(t: int, n: int) -> list[int]:
    """The stored hashes prove_tree(t, n) reads, in increasing order."""
    if t < 1 or n < 1 or n > t:
        raise ProofError("tlog: invalid inputs in prove_tree")
    return _tree_proof_index(0, t, n, [])


def prove_tree(t: int, n: int, read_hashes: HashReader) -> list[bytes]:
    """The proof that the tree of size t extends the tree of size n (RFC 6962's consistency proof), in one read."""
    hashes = _read(read_hashes, indexes_for_tree_proof(t, n))
    proof, rest = _tree_proof(0, t, n, hashes)
    if rest:
        raise AssertionError("tlog: bad index math in prove_tree")
    return proof


def _run_tree_proof(p: Sequence[bytes], lo: int, hi: int, n: int, old: bytes) -> tuple[bytes, bytes]:
    """The hashes of records [lo, hi) in the old tree (size n) and in the new one that the proof implies."""
    if n == hi:
        if lo == 0:
            if p:
                raise ProofError("invalid transparency proof: unnecessary hashes")
            return old, old
        if len(p) != 1:
            raise ProofError("invalid transparency proof: wrong length")
        return p[0], p[0]
    if not p:
        raise ProofError("invalid transparency proof: too short")
    k, _ = _maxpow2(hi - lo)
    if n <= lo + k:
        oh, th = _run_tree_proof(p[:-1], lo, lo + k, n, old)
        return oh, node_hash(th, p[-1])
    oh, th = _run_tree_proof(p[:-1], lo + k, hi, n, old)
    return node_hash(p[-1], oh), node_hash(p[-1], th)


def check_tree(proof: Sequence[bytes], t: int, th: bytes, n: int, h: bytes) -> None:
    """Raises ProofError unless `proof` proves that the tree of size t and root th extends the tree of size n and
    root h (every record of the older tree is in the newer one, unchanged and in place)."""
    if t < 1 or n < 1 or n > t:
        raise ProofError("tlog: invalid inputs in check_tree")
    old, new = _run_tree_proof(list(proof), 0, t, n, h)
    if old != h or new != th:
        raise ProofError("invalid transparency proof: the roots do not match")


class RootBuilder:
    """The root of a tree built one leaf at a time, keeping only the roots of its complete subtrees (one per set
    bit of its size: O(log n) hashes), so the offline verifier streams an export of any length; and the hashes each
    record stores, so the sequencer appends a batch without a read per record."""

    def __init__(self, size: int = 0, edge: Sequence[bytes] = ()) -> None:
        """The tree of `size` records, given `edge`: the hashes of its complete subtrees, largest first (those stored
        at indexes_for_tree_hash(size), in that order)."""
        if size < 0 or len(edge) != size.bit_count():
            raise ProofError(f"tlog: a tree of {size} records has {size.bit_count()} complete subtrees, "
                             f"not {len(edge)}")
        self._stack: list[bytes] = list(edge)
        self.size = size

    def add(self, leaf_hash: bytes) -> list[bytes]:
        """Append the next record; returns what stored_hashes gives for it (its leaf hash, then those of the
        subtrees it completes), to be stored from stored_hash_index(0, record) on."""
        h = leaf_hash
        stored = [h]
        n = self.size
        while n & 1:
            h = node_hash(self._stack.pop(), h)
            stored.append(h)
            n >>= 1
        self._stack.append(h)
        self.size += 1
        return stored

    def edge(self) -> list[bytes]:
        """The hashes of the complete subtrees, largest first: what a builder resumes from."""
        return list(self._stack)

    def root(self) -> bytes:
        """The RFC 6962 root of the leaves added so far (the empty tree's hash for none)."""
        if not self._stack:
            return EMPTY_HASH
        h = self._stack[-1]
        for left in reversed(self._stack[:-1]):
            h = node_hash(left, h)
        return h
