"""The database connections shared out among the processes: the pools of the gateway and of every worker of every
service together never ask the server for more connections than it takes. A full pool makes a request wait for a
connection; a full server refuses the connection, and the request fails (a 500). So the pools are sized from the
server's own limit (`max_connections` less its reserved connections), less a reserve for what runs beside the
system: migrations, `fundtrack seed-funds`, an operator's psql. An operator who sets FUNDTRACK_DB_POOL_SIZE sizes
the pools himself."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Annotated

import asyncpg
from pydantic import TypeAdapter, ValidationError

from gateway.audit_settings import AuditSettings
from services.kernel.db import plain_url
from services.kernel.settings import Settings
from services.kernel.topology import SERVICES

RESERVE = 10
# The gateway writes an audit entry for every request and verifies the chain for inspectors: two shares.
GATEWAY_SHARES = 2
# The gateway opens connections outside its pool: its LISTEN for key revocations, and one per verifier process
# (FUNDTRACK_AUDIT_VERIFY_WORKERS, gateway/verification.py).
WORKERS = "FUNDTRACK_AUDIT_VERIFY_WORKERS"
SIZE = "FUNDTRACK_DB_POOL_SIZE"
OVERFLOW = "FUNDTRACK_DB_POOL_OVERFLOW"
SPLIT = "FUNDTRACK_DB_SPLIT_READERS"


async def server_limit(url: str) -> int:
    """How many connections the server takes from ordinary roles: max_connections less the reserved ones."""
    conn = await asyncpg.connect(plain_url(url))
    try:
        rows = await conn.fetch(
            "SELECT name, setting::int AS value FROM pg_settings"
            " WHERE name IN ('max_connections', 'superuser_reserved_connections', 'reserved_connections')"
        )
    finally:
        await conn.close()
    values = {row["name"]: row["value"] for row in rows}
    reserved = values.get("superuser_reserved_connections", 0) + values.get("reserved_connections", 0)
    return int(values["max_connections"] - reserved)


def plan(available: int, workers: Mapping[str, int]) -> dict[str, int]:
    """Connections for one process of each: the gateway GATEWAY_SHARES shares, each worker of a service one. A
    ValueError says so when the server takes too few for two connections a share."""
    shares = GATEWAY_SHARES + sum(workers.values())
    unit = available // shares
    if unit < 2:
        raise ValueError(
            f"the database server takes {available + RESERVE} connections: FundTrack needs at least "
            f"{2 * shares + RESERVE} (raise max_connections, or set {SIZE} yourself)"
        )
    return {"gateway": unit * GATEWAY_SHARES, **{name: unit for name in workers}}


def pool_env(url: str, env: Mapping[str, str], *, fraction: float = 1.0) -> dict[str, dict[str, str]]:
    """Per process (the gateway, each service): its pool settings. `fraction` of the server's connections is shared
    out (the tests run other stacks beside theirs on the same server). Empty when the environment sets the size."""
    if SIZE in env:
        return {}
    available = int((asyncio.run(server_limit(url)) - RESERVE) * fraction) - outside_pools(env)
    connections = plan(available, {name: spec.workers(env) for name, spec in SERVICES.items()})
    return {name: {SIZE: str(count), OVERFLOW: "0"} for name, count in connections.items()}


def outside_pools(env: Mapping[str, str]) -> int:
    """The connections opened beside the pools: the gateway's LISTEN and verifiers, and the split readers of each
    worker of a service that splits its heaviest reads (services/kernel/split_reads.py)."""
    gateway = 1 + (AuditSettings(verify_workers=env[WORKERS]) if WORKERS in env else AuditSettings()).verify_workers
    return gateway + split_readers(env) * sum(spec.workers(env) for spec in SERVICES.values() if spec.splits_reads)


def split_readers(env: Mapping[str, str]) -> int:
    """FUNDTRACK_DB_SPLIT_READERS (a worker's connections for split reads; below 2, none); ValueError naming the
    variable if it is not what the services accept (services/kernel/settings.py)."""
    field = Settings.model_fields["db_split_readers"]
    if SPLIT not in env:
        width = int(field.default)
    else:
        try:  # validated as the services validate it (the field's type and bounds)
            width = int(TypeAdapter(Annotated[(int, *field.metadata)]).validate_python(env[SPLIT]))
        except ValidationError as error:
            raise ValueError(f"{SPLIT}={env[SPLIT]!r}: {error.errors()[0]['msg']}") from None
    return width if width >= 2 else 0
