"""The loans service app: small poverty loans (扶贫小额信贷), rules L1–L6."""

from __future__ import annotations

from services.kernel.app import create_service_app
from services.loans import records_api
from services.loans.api import router
from services.loans.detectors import detectors

# issue #18's routes first: `/loans/product-names` is theirs, not a loan's id
app = create_service_app("loans", routers=[records_api.router, router], detectors=detectors,
                         depends_on=("registry",))
