"""The projects service app: the county project library (项目库), its public announcements, asset income and
contracts."""

from __future__ import annotations

from services.kernel.app import create_service_app
from services.projects import contracts_api
from services.projects.api import internal_router, public_projects_router, public_router, router
from services.projects.closeout_api import closeout_internal_router, closeout_router
from services.projects.detectors import registry

app = create_service_app(
    "projects",
    routers=[contracts_api.router, closeout_router, router, public_router, public_projects_router,
             contracts_api.internal_router, internal_router, closeout_internal_router],
    detectors=registry,
    depends_on=("registry", "funds", "gateway"),
    title="FundTrack projects",
)
