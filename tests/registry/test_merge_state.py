"""Which chunks of an import go straight into the roster (one COPY in a savepoint) and which are staged."""

from __future__ import annotations

from datetime import date

from services.registry.importer import MAX_COPIED_CHUNKS, MergeState

TODAY = date(2026, 12, 2)


def test_chunks_go_straight_into_the_roster_only_while_new_and_at_most_sixty_times() -> None:
    """Each chunk COPYed straight in is a subtransaction; past 64 in one transaction PostgreSQL's per-backend cache
    overflows and every other session pays for it: the 61st chunk of new households is staged and merged."""
    state = MergeState(import_id="imp_x", number=1, effective_on=TODAY)
    assert state.tries_copy()
    state.copied = MAX_COPIED_CHUNKS - 1
    assert state.tries_copy()
    state.copied = MAX_COPIED_CHUNKS
    assert not state.tries_copy()
    assert MAX_COPIED_CHUNKS < 64
    known = MergeState(import_id="imp_y", number=2, effective_on=TODAY, all_new=False)
    assert not known.tries_copy()
