"""What origination records and asks beside a loan for issue #18 (L16, L15, L18): the partner households' standing
in the registry, the province's official product names, the agreement and partner rows. service.originate calls
these; nothing here is on the path of a self-mode loan of the national name but two empty checks."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.identity import Principal
from services.loans import codes, records_rules, repository
from services.loans.clients import Registry
from services.loans.models import Agreement, Loan, Partner
from services.loans.rules import Eligibility
from services.loans.schemas import LoanCreate


async def official_names(session: AsyncSession, product_name: str, county_code: str | None) -> tuple[str, ...]:
    """L18: the names the product may bear in the household's province. The national name asks nothing (the bench's
    hot path is unchanged); another reads the province's few registered names."""
    if product_name == codes.PRODUCT_NAME or county_code is None:
        return (codes.PRODUCT_NAME,)
    province = records_rules.province_of(county_code)
    return records_rules.official_names(province, await repository.registered_names(session, province))


async def partner_eligibilities(registry: Registry, body: LoanCreate) -> dict[str, Eligibility]:
    """L16: the registry's judgement of each partner household on the issue date (one batch; none asked without)."""
    if not body.partners:
        return {}
    return {e.household_id: e for e in await registry.eligibilities(body.partners, body.issued_on)}


async def record_mode_records(session: AsyncSession, loan: Loan, body: LoanCreate, principal: Principal) -> None:
    """The cooperative mode's agreement (L15) and the partnership mode's partners (L16), beside the loan."""
    records: list[Agreement | Partner] = []
    if body.agreement is not None:
        a = body.agreement
        records.append(Agreement(
            county_code=loan.county_code, loan_id=loan.id, signed_on=a.signed_on, cooperative_uscc=a.cooperative_uscc,
            return_terms=a.return_terms, annual_return_fen=a.annual_return_fen, document_sha256=a.document_sha256,
            created_by=principal.id,
        ))
    records += [Partner(county_code=loan.county_code, loan_id=loan.id, partner_household_id=p)
                for p in body.partners or ()]
    if records:
        await repository.add_all(session, records)
