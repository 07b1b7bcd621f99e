"""The finance desk (issue #19 point 4): allocations and balances by county, the growth-parity, idle-money and late
pass-down reports as tables and charts, and a new allocation form that shows the rule refusing it next to its field.
Every page reads and writes through the public API as the person (gateway/console/api.py), nothing else."""

from __future__ import annotations

from starlette.routing import Route

from gateway.console.finance import allocations, new_allocation, reports

ROUTES = [
    Route("/allocations", allocations.list_page, methods=["GET"]),
    # before /allocations/{allocation_id}, which would take "new" for an id
    Route("/allocations/new", new_allocation.form_page, methods=["GET"]),
    Route("/allocations/new", new_allocation.create, methods=["POST"]),
    Route("/allocations/{allocation_id}", allocations.detail_page, methods=["GET"]),
    Route("/reports", reports.reports_page, methods=["GET"]),
]
