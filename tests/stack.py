"""The whole system for tests: a fresh database on real PostgreSQL (DATABASE_URL's server, or an embedded one),
migrated, and the four services and the gateway as real uvicorn processes on free loopback ports."""

from __future__ import annotations

import os
import secrets
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from deploy.embedded import EmbeddedPostgres
from deploy.migrate import migrate
from deploy.pools import pool_env
from deploy.supervisor import Child, own_env, spawn, stop_all, wait_healthy
from services.kernel.db import plain_url
from services.kernel.topology import GATEWAY_APP, HOST, SERVICE_OFFSETS, SERVICES


def free_port_block(size: int) -> int:
    """A base port such that base+1..base+size are free now."""
    for _ in range(200):
        # below the ephemeral range (32768+), where a probe of a not-yet-listening port can connect to itself
        base = 20000 + secrets.randbelow(12000)
        ok = True
        for offset in range(size + 1):
            with socket.socket() as s:
                try:
                    s.bind((HOST, base + offset))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free block of ports")


@dataclass
class TestDatabase:
    __test__ = False
    url: str
    admin_url: str
    name: str
    embedded: EmbeddedPostgres | None = None

    async def drop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
            return
        conn = await asyncpg.connect(plain_url(self.admin_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            await conn.close()


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


async def create_test_database(workdir: Path) -> TestDatabase:
    name = f"ft_test_{uuid.uuid4().hex[:12]}"
    external = os.environ.get("DATABASE_URL")
    if external:
        conn = await asyncpg.connect(plain_url(external))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return TestDatabase(url=_with_database(external, name), admin_url=external, name=name)
    embedded = EmbeddedPostgres(workdir)
    url = embedded.start()
    return TestDatabase(url=url, admin_url=url, name="fundtrack", embedded=embedded)


@dataclass
class Stack:
    database: TestDatabase
    gateway_url: str
    service_urls: dict[str, str]
    admin_token: str
    secret: str
    env: dict[str, str]
    children: list[Child] = field(default_factory=list)
    # Each process's own DATABASE_URL (its login role, S4); empty when the server let no roles be made.
    db_urls: dict[str, str] = field(default_factory=dict)


def start_stack(database: TestDatabase, workdir: Path, *, pool_fraction: float = 0.5) -> Stack:
    """The four services and the gateway on `database`. Their pools share out `pool_fraction` of the server's
    connections (deploy/pools.py): half for the suite's stack, which other stacks of the suite (`fundtrack up` in
    test_up, the benchmarks' in test_bench) and the tests' own pool share the server with; a benchmark takes all."""
    urls = migrate(database.url, workdir)
    base = free_port_block(len(SERVICE_OFFSETS) + 1)
    gateway_port = base + len(SERVICE_OFFSETS) + 1
    secret = secrets.token_urlsafe(32)
    admin_token = "ft_admin_" + secrets.token_urlsafe(24)
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database.url,
        FUNDTRACK_DATA_DIR=str(workdir),
        FUNDTRACK_SERVICE_SECRET=secret,
        FUNDTRACK_ADMIN_TOKEN=admin_token,
        FUNDTRACK_DB_ROLES="1" if urls else "0",
        FUNDTRACK_SERVICE_PORT_BASE=str(base),
        FUNDTRACK_GATEWAY_PORT=str(gateway_port),
        FUNDTRACK_DETECTOR_HOUR="-1",
        # The processes run 20 hours behind China (UTC-12; our hosts run UTC, 8 hours behind): a date taken from the
        # host's clock instead of services/kernel/clock.py is then a day off 20 hours a day, not only 16:00-24:00 UTC.
        TZ="<-12>12",
        # every test client is 127.0.0.1: the per-address limit is unit-tested (tests/platform/test_ratelimit.py)
        FUNDTRACK_PUBLIC_POSTS_PER_MINUTE="100000",
        FUNDTRACK_SIGN_INS_PER_MINUTE="100000",
        FUNDTRACK_LOG_LEVEL=os.environ.get("FUNDTRACK_LOG_LEVEL", "WARNING"),
    )
    previous = dict(os.environ)
    os.environ.update({k: env[k] for k in ("FUNDTRACK_SERVICE_PORT_BASE", "FUNDTRACK_GATEWAY_PORT")})
    try:
        pools = pool_env(database.url, env, fraction=pool_fraction)
        children = [
            spawn(name, spec.app, spec.port, own_env(env, name, urls, pools)) for name, spec in SERVICES.items()
        ]
        service_urls = {name: f"http://{HOST}:{spec.port}" for name, spec in SERVICES.items()}
    finally:
        os.environ.clear()
        os.environ.update(previous)
    stack = Stack(database, f"http://{HOST}:{gateway_port}", service_urls, admin_token, secret, env, children, urls)
    if not wait_healthy(children, lambda: False):
        stop_all(children)
        raise RuntimeError("the services did not become healthy")
    children.append(spawn("gateway", GATEWAY_APP, gateway_port, own_env(env, "gateway", urls, pools)))
    if not wait_healthy(children[-1:], lambda: False):
        stop_all(children)
        raise RuntimeError("the gateway did not become healthy")
    return stack


@contextmanager
def extra_gateway(stack: Stack, **env: str) -> Iterator[str]:
    """One more gateway process on the stack's database and services, with some settings of its own (a limit, the
    trusted proxies); its URL, while the block runs."""
    port = free_port_block(1) + 1
    child = spawn("gateway", GATEWAY_APP, port, {**stack.env, **env, "FUNDTRACK_GATEWAY_PORT": str(port),
                                                 "FUNDTRACK_DB_POOL_SIZE": "2", "FUNDTRACK_DB_POOL_OVERFLOW": "0"})
    try:
        if not wait_healthy([child], lambda: False):
            raise RuntimeError("the extra gateway did not become healthy")
        yield f"http://{HOST}:{port}"
    finally:
        stop_all([child])


def workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="fundtrack-test-"))
