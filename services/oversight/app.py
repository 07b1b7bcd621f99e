"""The oversight service app (issue #16): cases from alert to accountability, and the CASE_OVERDUE and
REPEATED_MISUSE detectors."""

from __future__ import annotations

from services.kernel.app import create_service_app
from services.oversight.api import complaints_router, documents_router, public_router, report_router, router
from services.oversight.clients import ALERT_SERVICES, GATEWAY
from services.oversight.detectors import registry

app = create_service_app(
    "oversight",
    routers=[router, report_router, complaints_router, public_router, documents_router()],
    detectors=registry,
    depends_on=(*ALERT_SERVICES, GATEWAY),
    title="FundTrack oversight",
)
