"""The one place that declares which process listens where and owns which schema."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

HOST = "127.0.0.1"
MAX_WORKERS = 64


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    default_port: int
    app: str  # uvicorn import string
    # Worker processes of the service (FUNDTRACK_<NAME>_WORKERS overrides). Funds takes every finance system's
    # postings: with two, a transaction holding the issuer's balance rows waits less for its process's event loop.
    default_workers: int = 1
    # Splits its heaviest reads across connections of its own (FUNDTRACK_DB_SPLIT_READERS a worker, outside its pool:
    # services/kernel/split_reads.py).
    splits_reads: bool = False

    def workers(self, env: Mapping[str, str]) -> int:
        """How many worker processes; ValueError naming the variable if it is not a whole number from 1 to 64."""
        variable = f"FUNDTRACK_{self.name.upper()}_WORKERS"
        raw = env.get(variable)
        if raw is None:
            return self.default_workers
        if not raw.strip().isdigit() or not 1 <= int(raw) <= MAX_WORKERS:
            raise ValueError(f"{variable}={raw!r}: give a whole number of worker processes from 1 to {MAX_WORKERS}")
        return int(raw)

    @property
    def schema(self) -> str:
        return self.name

    @property
    def port(self) -> int:
        base = os.environ.get("FUNDTRACK_SERVICE_PORT_BASE")
        if base is not None:
            return int(base) + SERVICE_OFFSETS[self.name]
        return int(os.environ.get(f"FUNDTRACK_{self.name.upper()}_PORT", self.default_port))

    @property
    def base_url(self) -> str:
        override = os.environ.get(f"FUNDTRACK_{self.name.upper()}_URL")
        return override or f"http://{HOST}:{self.port}"


SERVICE_OFFSETS = {"funds": 1, "projects": 2, "loans": 3, "registry": 4, "oversight": 5}

SERVICES: dict[str, ServiceSpec] = {
    "funds": ServiceSpec("funds", 8101, "services.funds.app:app", default_workers=2),
    "projects": ServiceSpec("projects", 8102, "services.projects.app:app"),
    "loans": ServiceSpec("loans", 8103, "services.loans.app:app", splits_reads=True),
    "registry": ServiceSpec("registry", 8104, "services.registry.app:app"),
    "oversight": ServiceSpec("oversight", 8105, "services.oversight.app:app"),
}

GATEWAY_SCHEMA = "gateway"
GATEWAY_APP = "gateway.app:app"


def gateway_port() -> int:
    return int(os.environ.get("FUNDTRACK_GATEWAY_PORT", "8000"))


def gateway_url() -> str:
    """Where a service reaches the gateway's internal API (organisations): FUNDTRACK_GATEWAY_URL, or its port here."""
    return os.environ.get("FUNDTRACK_GATEWAY_URL") or f"http://{HOST}:{gateway_port()}"


ALL_SCHEMAS = (GATEWAY_SCHEMA, *SERVICES)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_problem(env: Mapping[str, str]) -> str | None:
    """S5: a service URL over plain HTTP to another host (FUNDTRACK_<NAME>_URL) carries signed identities and
    bodies in clear on the network; in words, or None. Loopback and https are fine."""
    for name in SERVICES:
        variable = f"FUNDTRACK_{name.upper()}_URL"
        url = env.get(variable)
        if not url:
            continue
        parts = urlsplit(url)
        if parts.scheme == "http" and not _loopback(parts.hostname or ""):
            return (
                f"{variable}={url!r}: plain http:// to another host is refused in production; use https:// (or set "
                "FUNDTRACK_ALLOW_PLAIN_HTTP=1 for a network you trust)"
            )
    return None
