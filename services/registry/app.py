"""The registry service app: the roster of registered poor households (建档立卡)."""

from __future__ import annotations

from services.kernel.app import create_service_app
from services.registry.api import internal, router
from services.registry.cadre import detectors

app = create_service_app("registry", routers=[router, internal], detectors=detectors, depends_on=())
