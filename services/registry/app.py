"""The registry service app."""

from __future__ import annotations

from services.kernel.app import create_service_app

app = create_service_app("registry", routers=[], depends_on=())
