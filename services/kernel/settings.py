"""Settings read from the environment. `fundtrack up` fills in what a fresh machine lacks (database, secrets)."""

from __future__ import annotations

import os
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Network, ip_network

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.kernel.topology import plain_http_problem

DEV_SECRET = "development-only-secret-change-me"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FUNDTRACK_", extra="ignore")

    env: str = "development"
    data_dir: str = "./.fundtrack"
    # The HMAC secret shared by the gateway and the services only; it signs the caller's identity.
    service_secret: str = DEV_SECRET
    # How long a signed identity stays valid, in seconds (clock skew included).
    signature_ttl_seconds: int = Field(default=30, ge=1, le=3600)
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    # Per-service database roles (created by `fundtrack migrate` when the server lets us); empty → connect as is.
    db_roles: bool = True
    # Connections each process keeps open. Requests beyond it wait for one (up to db_pool_overflow more are opened
    # for a burst): a connection opened and closed per request costs more than the request itself.
    db_pool_size: int = Field(default=16, ge=1, le=1000)
    db_pool_overflow: int = Field(default=4, ge=0, le=1000)
    # Issue #20: connections of its own (outside its pool) each worker of a service that splits its heaviest reads
    # keeps for them, its parts run at once on one snapshot (services/kernel/split_reads.py); below 2, never split.
    db_split_readers: int = Field(default=2, ge=0, le=16)
    # Detectors run by themselves once a day at this hour of the day in China (Asia/Shanghai, whatever the host's
    # timezone), as of that day (services/kernel/clock.py); -1 turns the daily run off.
    detector_hour: int = Field(default=2, ge=-1, le=23)
    # Every database session (issue #14): a statement running longer, or waiting longer for a lock, is cancelled
    # and its transaction rolled back (a 503 that says nothing was changed), well before the gateway gives up on the
    # request (30 s). Imports, scans, reports and the daily run are declared long (uow.long_statements).
    db_statement_timeout_seconds: float = Field(default=20.0, gt=0, le=3600)
    db_lock_timeout_seconds: float = Field(default=10.0, gt=0, le=3600)
    db_long_statement_timeout_seconds: float = Field(default=900.0, gt=0, le=86400)
    idle_funds_days: int = Field(default=90, ge=1, le=3650)
    # F19 (垒大户): a household paid more in a year than this multiple of its county's median per-household payment
    concentration_multiple: float = Field(default=5.0, ge=1, le=1000)
    # F20 (造盆景): one village arranged more than this percentage of its county's arranged money in a year
    village_share_percent: int = Field(default=40, ge=1, le=100)
    log_level: str = "INFO"
    # S5: in production a service URL over plain http:// to another host is refused, unless this is set.
    allow_plain_http: bool = False
    # The gateway's edge (S11, S12, S14; read by the gateway only).
    # Proxies whose X-Forwarded-For is believed (CIDRs, comma-separated); from anyone else the peer address counts.
    trusted_proxies: str = ""
    # S16: the public's POSTs per client address within the window, counted across every gateway process.
    public_posts_per_minute: int = Field(default=5, ge=1, le=10**6)
    public_posts_window_seconds: float = Field(default=60.0, ge=1, le=86400)
    # S19: sign-in attempts per client address a minute, every gateway process together (an office's people share
    # an address: this limits a stranger's spraying of passwords over many logins, not a morning's sign-ins)
    sign_ins_per_minute: int = Field(default=30, ge=1, le=10**6)
    # A request body must arrive whole within this many seconds, and at no less than body_min_bytes_per_second
    # once body_grace_seconds have passed (a trickled upload would hold its locks for ever): else 408.
    body_timeout_seconds: float = Field(default=3600.0, gt=0, le=86400)
    body_min_bytes_per_second: int = Field(default=1024, ge=0, le=10**9)
    body_grace_seconds: float = Field(default=10.0, ge=0, le=3600)

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_are_networks(cls, value: str) -> str:
        proxy_networks(value)
        return value

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.env == "production" and self.service_secret == DEV_SECRET:
            raise ValueError("FUNDTRACK_SERVICE_SECRET must be set to a random value in production")
        if self.env == "production" and not self.allow_plain_http:
            problem = plain_http_problem(os.environ)
            if problem is not None:
                raise ValueError(problem)
        return self


def proxy_networks(value: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """`10.0.0.0/8, 127.0.0.1` → the networks; a ValueError naming the entry that is not an address or CIDR."""
    networks = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"{entry!r} is not an IP address or CIDR (e.g. 10.0.0.0/8)") from exc
    return tuple(networks)


@lru_cache
def get_settings() -> Settings:
    return Settings()


def database_url() -> str:
    url = get_settings().database_url or os.environ.get("DATABASE_URL", "")
    if not url:
        raise RuntimeError("DATABASE_URL is not set: start the system with `fundtrack up`, which provides one")
    return url
