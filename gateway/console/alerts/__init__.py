"""The inspector's desk, first half (issue #19 point 2): alerts and cases. Its pages, relative to /console."""

from __future__ import annotations

from starlette.routing import Route

from gateway.console.alerts import cases, pages

ROUTES = [
    Route("/alerts", pages.alert_list, methods=["GET"]),
    Route("/alerts/{alert_id}", pages.alert_detail, methods=["GET"]),
    Route("/alerts/{alert_id}/acknowledge", pages.acknowledge, methods=["POST"]),
    Route("/alerts/{alert_id}/resolve", pages.resolve, methods=["POST"]),
    Route("/alerts/{alert_id}/case", pages.open_case, methods=["POST"]),
    Route("/cases", cases.case_list, methods=["GET"]),
    Route("/cases/{case_id}", cases.case_detail, methods=["GET"]),
]
