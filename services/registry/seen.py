"""Which household ids an import has already passed, in fixed memory: a Bloom filter (16 MiB whatever the file's
size). It answers "certainly not seen" for nearly every line, so the database is asked about the rare others only;
a false "maybe" costs one query, never a wrong answer (the database has the last word)."""

from __future__ import annotations

from collections.abc import Iterable

BITS_LOG2 = 27  # 2**27 bits = 16 MiB; four probes: about one false "maybe" per 1,000,000 new ids after 1,000,000
MASK = (1 << BITS_LOG2) - 1


class SeenFilter:
    def __init__(self) -> None:
        self.bits = bytearray(1 << (BITS_LOG2 - 3))

    def add(self, key: str) -> bool:
        """Record `key`; True when it may have been recorded before (False: it certainly was not)."""
        return bool(self.add_all((key,)))

    def add_all(self, keys: Iterable[str]) -> list[str]:
        """Record every key; the ones that may have been recorded before (by an earlier call or earlier in `keys`).
        Four probes from one 64-bit hash (h1 + i·h2, Kirsch–Mitzenmacher), in one loop: a million ids per import."""
        bits = self.bits
        maybe: list[str] = []
        for key in keys:
            h = hash(key)
            a = h & MASK
            step = (h >> 32) | 1
            b = (a + step) & MASK
            c = (b + step) & MASK
            d = (c + step) & MASK
            i, j, k, m = a >> 3, b >> 3, c >> 3, d >> 3
            x, y, z, w = 1 << (a & 7), 1 << (b & 7), 1 << (c & 7), 1 << (d & 7)
            if bits[i] & x and bits[j] & y and bits[k] & z and bits[m] & w:
                maybe.append(key)
            bits[i] |= x
            bits[j] |= y
            bits[k] |= z
            bits[m] |= w
        return maybe
