"""The loans service app: small poverty loans (扶贫小额信贷), rules L1–L6, and the money and records around the
loans (issue #18: L7–L19)."""

from __future__ import annotations

from services.kernel.app import create_service_app
from services.loans import records_api
from services.loans.api import router
from services.loans.detectors import detectors
from services.loans.risk_api import router as risk_router
from services.loans.subsidy_api import router as subsidy_router

# issue #18's routes first: `/loans/subsidy-rates`, `/loans/risk-funds`, `/loans/product-names`… are theirs, not a
# loan's (`/loans/{loan_id}`)
app = create_service_app("loans", routers=[subsidy_router, risk_router, records_api.router, router],
                         detectors=detectors, depends_on=("registry", "funds"))
