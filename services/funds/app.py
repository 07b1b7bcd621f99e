"""The funds service app: the ledger of integrated money (DOMAIN.md F1–F10)."""

from __future__ import annotations

from services.funds import input_detectors  # noqa: F401  (registers INPUT_OBLIGATION_FAILED)
from services.funds.api import internal_router, public_router, router
from services.funds.detectors import registry
from services.funds.plans_api import router as plans_router
from services.funds.reports_api import router as reports_router
from services.kernel.app import create_service_app

app = create_service_app(
    "funds",
    routers=[router, reports_router, plans_router, public_router, internal_router],
    detectors=registry,
    depends_on=("projects", "registry", "gateway"),
)
