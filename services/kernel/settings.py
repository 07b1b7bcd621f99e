"""Settings read from the environment. `fundtrack up` fills in what a fresh machine lacks (database, secrets)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import Field, model_validator
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
    # Detectors run by themselves once a day at this hour of the day in China (Asia/Shanghai, whatever the host's
    # timezone), as of that day (services/kernel/clock.py); -1 turns the daily run off.
    detector_hour: int = Field(default=2, ge=-1, le=23)
    idle_funds_days: int = Field(default=90, ge=1, le=3650)
    log_level: str = "INFO"
    # S5: in production a service URL over plain http:// to another host is refused, unless this is set.
    allow_plain_http: bool = False

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.env == "production" and self.service_secret == DEV_SECRET:
            raise ValueError("FUNDTRACK_SERVICE_SECRET must be set to a random value in production")
        if self.env == "production" and not self.allow_plain_http:
            problem = plain_http_problem(os.environ)
            if problem is not None:
                raise ValueError(problem)
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()


def database_url() -> str:
    url = get_settings().database_url or os.environ.get("DATABASE_URL", "")
    if not url:
        raise RuntimeError("DATABASE_URL is not set: start the system with `fundtrack up`, which provides one")
    return url
