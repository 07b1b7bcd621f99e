"""The internal route of P12: the projects service asks funds to pay an asset's dividend through the ledger."""

from __future__ import annotations

from services.funds import dividends
from services.funds.clients import RegistryDep
from services.funds.schemas_dividends import DividendPaid, DividendPayIn
from services.kernel.routers import service_router
from services.kernel.uow import PrincipalDep, SessionDep

dividends_router = service_router("/internal", include_in_schema=False)


@dividends_router.post("/dividends", response_model=DividendPaid)
async def pay_dividend(
    body: DividendPayIn, session: SessionDep, principal: PrincipalDep, registry: RegistryDep
) -> DividendPaid:
    return await dividends.pay(session, principal=principal, registry=registry, body=body)
