"""Which household ids an import has already passed, in fixed memory: a Bloom filter (16 MiB whatever the file's
size). It answers "certainly not seen" for nearly every line, so the database is asked about the rare others only;
a false "maybe" costs one query, never a wrong answer (the database has the last word)."""

from __future__ import annotations

BITS_LOG2 = 27  # 2**27 bits = 16 MiB; four probes: about one false "maybe" per 1,000,000 new ids after 1,000,000
MASK = (1 << BITS_LOG2) - 1


class SeenFilter:
    def __init__(self) -> None:
        self.bits = bytearray(1 << (BITS_LOG2 - 3))

    def add(self, key: str) -> bool:
        """Record `key`; True when it may have been recorded before (False: it certainly was not)."""
        h1, h2 = hash(key), hash(key + "\x1f")
        a, b, c, d = h1 & MASK, (h1 >> BITS_LOG2) & MASK, h2 & MASK, (h2 >> BITS_LOG2) & MASK
        bits = self.bits
        maybe = bool(
            bits[a >> 3] >> (a & 7) & bits[b >> 3] >> (b & 7) & bits[c >> 3] >> (c & 7) & bits[d >> 3] >> (d & 7) & 1
        )
        bits[a >> 3] |= 1 << (a & 7)
        bits[b >> 3] |= 1 << (b & 7)
        bits[c >> 3] |= 1 << (c & 7)
        bits[d >> 3] |= 1 << (d & 7)
        return maybe
