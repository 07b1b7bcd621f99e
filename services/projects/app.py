"""The projects service app."""

from __future__ import annotations

from services.kernel.app import create_service_app

app = create_service_app("projects", routers=[], depends_on=("registry",))
