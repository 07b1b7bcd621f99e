"""Every query of the funds service, one module per entity (in the sense of Polar's server repositories): the
accounts and their hot statements, the transfers' reads, reference data, appropriations and allocations,
arrangements, disbursements and reversals. Jurisdiction is applied in each entity's readable statement, through the
kernel's seam (services/kernel/scope.py `within`). Nothing outside this package writes SQL."""

from services.funds.repository import (
    accounts,
    allocations,
    arrangements,
    disbursements,
    passdown,
    reference,
    reversals,
    transfers,
    unique,
)

__all__ = ["accounts", "allocations", "arrangements", "disbursements", "passdown", "reference", "reversals",
           "transfers", "unique"]
