"""gateway/tlog.py against a naive recursive RFC 6962 tree and the behaviour of Go's sumdb/tlog tests: every tree
hash, every inclusion and consistency proof up to N records, tampered proofs refused, one read per proof."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from gateway import tlog

N = 64


def naive_root(leaves: Sequence[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH, as written there."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return tlog.record_hash(leaves[0])
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return tlog.node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


class Storage:
    """Stored hashes in a list, as the sequencer keeps them in a table; counts reads like Go's testHashStorage."""

    def __init__(self) -> None:
        self.hashes: list[bytes] = []
        self.reads = 0

    def read(self, indexes: Sequence[int]) -> list[bytes]:
        assert list(indexes) == sorted(set(indexes)), "indexes asked for in increasing order"
        self.reads += 1
        return [self.hashes[i] for i in indexes]

    def append(self, n: int, data: bytes) -> None:
        assert len(self.hashes) == tlog.stored_hash_index(0, n)
        self.hashes.extend(tlog.stored_hashes(n, data, self.read))
        assert len(self.hashes) == tlog.stored_hash_count(n + 1)


def data(i: int) -> bytes:
    return f"leaf {i}".encode()


@pytest.fixture(scope="module")
def built() -> tuple[Storage, list[bytes]]:
    storage, roots = Storage(), [tlog.EMPTY_HASH]
    for i in range(N):
        storage.append(i, data(i))
        roots.append(tlog.tree_hash(i + 1, storage.read))
    return storage, roots


def test_hashing_is_rfc6962() -> None:
    assert tlog.EMPTY_HASH.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert tlog.record_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert tlog.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()


def test_rfc6962_known_roots() -> None:
    """The reference tree of RFC 6962's test data (certificate-transparency's merkle_tree_test, also Trillian's):
    eight leaves, the roots of its first sizes."""
    leaves = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f"]]
    expected = {
        1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    }
    storage = Storage()
    for i, leaf in enumerate(leaves):
        storage.append(i, leaf)
        assert tlog.tree_hash(i + 1, storage.read).hex() == expected[i + 1]


def test_stored_hash_index_round_trips() -> None:
    for level in range(10):
        for n in range(200):
            assert tlog.split_stored_hash_index(tlog.stored_hash_index(level, n)) == (level, n)
    seen = {tlog.split_stored_hash_index(i) for i in range(tlog.stored_hash_count(N))}
    assert len(seen) == tlog.stored_hash_count(N)


def test_tree_hash_matches_naive_and_root_builder(built: tuple[Storage, list[bytes]]) -> None:
    _, roots = built
    builder = tlog.RootBuilder()
    assert builder.root() == tlog.EMPTY_HASH
    for n in range(1, N + 1):
        assert roots[n] == naive_root([data(i) for i in range(n)]), n
        builder.add(tlog.record_hash(data(n - 1)))
        assert builder.size == n and builder.root() == roots[n], n


def test_tree_hash_reads_once_and_few(built: tuple[Storage, list[bytes]]) -> None:
    storage, _ = built
    for n in range(1, N + 1):
        before = storage.reads
        tlog.tree_hash(n, storage.read)
        assert storage.reads == before + 1
        assert len(tlog.indexes_for_tree_hash(n)) <= 1 + n.bit_length()


def test_every_inclusion_proof(built: tuple[Storage, list[bytes]]) -> None:
    storage, roots = built
    for t in range(1, N + 1):
        for n in range(t):
            proof = tlog.prove_record(t, n, storage.read)
            assert len(tlog.indexes_for_record_proof(t, n)) >= len(proof)
            leaf = tlog.record_hash(data(n))
            tlog.check_record(proof, t, roots[t], n, leaf)
            with pytest.raises(tlog.ProofError):
                tlog.check_record(proof, t, roots[t], n, tlog.record_hash(b"other"))
            if t > 1:
                with pytest.raises(tlog.ProofError):
                    tlog.check_record(proof, t, roots[t - 1], n, leaf)
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
                with pytest.raises(tlog.ProofError):
                    tlog.check_record(bad, t, roots[t], n, leaf)
            with pytest.raises(tlog.ProofError):
                tlog.check_record([*proof, roots[t]], t, roots[t], n, leaf)
            if proof:
                with pytest.raises(tlog.ProofError):
                    tlog.check_record(proof[:-1], t, roots[t], n, leaf)


def test_every_consistency_proof(built: tuple[Storage, list[bytes]]) -> None:
    storage, roots = built
    for t in range(1, N + 1):
        for n in range(1, t + 1):
            proof = tlog.prove_tree(t, n, storage.read)
            tlog.check_tree(proof, t, roots[t], n, roots[n])
            if n < t:
                with pytest.raises(tlog.ProofError):
                    tlog.check_tree(proof, t, roots[t], n, roots[n - 1] if n > 1 else roots[t])
            for i in range(len(proof)):
                bad = list(proof)
                bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
                with pytest.raises(tlog.ProofError):
                    tlog.check_tree(bad, t, roots[t], n, roots[n])
            with pytest.raises(tlog.ProofError):
                tlog.check_tree([*proof, roots[t]], t, roots[t], n, roots[n])


def test_a_rewritten_prefix_has_no_consistency_proof(built: tuple[Storage, list[bytes]]) -> None:
    """The attack the chain alone cannot see: rewrite record 5 and rebuild everything after it."""
    storage, roots = built
    forged = Storage()
    for i in range(N):
        forged.append(i, b"rewritten" if i == 5 else data(i))
    forged_root = tlog.tree_hash(N, forged.read)
    for n in range(6, N):
        with pytest.raises(tlog.ProofError):
            tlog.check_tree(tlog.prove_tree(N, n, forged.read), N, forged_root, n, roots[n])
    with pytest.raises(tlog.ProofError):
        tlog.check_record(tlog.prove_record(N, 5, forged.read), N, roots[N], 5, tlog.record_hash(b"rewritten"))


def test_invalid_inputs_are_refused(built: tuple[Storage, list[bytes]]) -> None:
    storage, roots = built
    for t, n in [(0, 0), (3, 3), (3, -1), (-1, 0)]:
        with pytest.raises(tlog.ProofError):
            tlog.prove_record(t, n, storage.read)
        with pytest.raises(tlog.ProofError):
            tlog.check_record([], t, roots[1], n, roots[1])
    for t, n in [(0, 0), (3, 4), (3, 0)]:
        with pytest.raises(tlog.ProofError):
            tlog.prove_tree(t, n, storage.read)
        with pytest.raises(tlog.ProofError):
            tlog.check_tree([], t, roots[1], n, roots[1])


def test_a_short_read_is_an_error() -> None:
    with pytest.raises(tlog.ProofError):
        tlog.tree_hash(3, lambda indexes: [])


def test_a_resumed_builder_stores_what_stored_hashes_stores(built: tuple[Storage, list[bytes]]) -> None:
    """The sequencer's batch append (tree_store.append): resumed on the right edge of any size, the builder gives,
    record after record, the hashes stored_hashes gives, and the tree's root."""
    storage, roots = built
    for first in range(N):
        edge = tlog.indexes_for_tree_hash(first)
        builder = tlog.RootBuilder(first, storage.read(edge) if edge else [])
        added = [h for i in range(first, N) for h in builder.add(tlog.record_hash(data(i)))]
        assert added == storage.hashes[tlog.stored_hash_index(0, first):], first
        assert builder.root() == roots[N]
    with pytest.raises(tlog.ProofError):
        tlog.RootBuilder(3, storage.read([0]))  # a tree of 3 records has two complete subtrees
