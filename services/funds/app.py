"""The funds service app: the ledger of integrated money (DOMAIN.md F1–F10)."""

from __future__ import annotations

# concentration and input_detectors register their detectors (F19, F20; INPUT_OBLIGATION_FAILED)
from services.funds import basis_api, concentration, input_detectors  # noqa: F401
from services.funds.api import internal_router, public_router, router
from services.funds.detectors import registry
from services.funds.dividends_api import dividends_router
from services.funds.plans_api import router as plans_router
from services.funds.reports_api import router as reports_router
from services.kernel.app import create_service_app

app = create_service_app(
    "funds",
    routers=[router, reports_router, basis_api.router, plans_router, public_router, internal_router, dividends_router],
    detectors=registry,
    depends_on=("projects", "registry", "gateway"),
)
