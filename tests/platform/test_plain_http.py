"""S5: in production a service reached over plain http:// on another host is refused at startup (every process
reads its settings first; `fundtrack up` says it before starting anything), unless explicitly allowed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from deploy.supervisor import settings_problem
from services.kernel.settings import Settings

SECRET = "a-random-production-secret"


@pytest.mark.parametrize("url", ["http://10.0.0.5:8101", "http://funds.internal:8101"])
def test_plain_http_to_another_host_is_refused_in_production(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("FUNDTRACK_FUNDS_URL", url)
    monkeypatch.setenv("FUNDTRACK_ENV", "production")
    with pytest.raises(ValidationError, match="FUNDTRACK_FUNDS_URL"):
        Settings(service_secret=SECRET)
    problem = settings_problem()
    assert problem is not None and "FUNDTRACK_FUNDS_URL" in problem and "https://" in problem


@pytest.mark.parametrize(
    "url", ["https://funds.internal:8101", "http://127.0.0.1:8101", "http://localhost:8101", "http://[::1]:8101"]
)
def test_https_or_loopback_is_taken_in_production(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("FUNDTRACK_FUNDS_URL", url)
    monkeypatch.setenv("FUNDTRACK_ENV", "production")
    assert Settings(service_secret=SECRET).env == "production"
    assert settings_problem() is None


def test_plain_http_when_allowed_or_not_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FUNDTRACK_LOANS_URL", "http://10.0.0.7:8103")
    assert Settings(service_secret=SECRET).env == "development"  # development: as before
    monkeypatch.setenv("FUNDTRACK_ENV", "production")
    monkeypatch.setenv("FUNDTRACK_ALLOW_PLAIN_HTTP", "1")
    assert Settings(service_secret=SECRET).allow_plain_http is True
