"""The console app, mounted by the gateway at /console (the door lets it in: gateway/door.py `_console`). Its pages
are declared once, each desk's in its own module's ROUTES; its static files are the project's own and vendored
libraries (static/vendor/README.md), nothing from outside."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from gateway.console import account, alerts, audit, auth_pages, finance, home, projects, roster, trace, users
from gateway.console.api import Loopback
from gateway.console.render import render

STATIC = Path(__file__).parent / "static"
PAGES: tuple[BaseRoute, ...] = (
    *auth_pages.ROUTES,
    *home.ROUTES,
    *trace.ROUTES,
    *audit.ROUTES,
    *finance.ROUTES,
    *alerts.ROUTES,
    *account.ROUTES,
    *users.ROUTES,
    *roster.ROUTES,
    *projects.ROUTES,
)


async def _not_found(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", status=404, message_key="error.not_found", problem=None)


def create_console(gateway: ASGIApp) -> Starlette:
    console = Starlette(
        routes=[*PAGES, Mount("/static", app=StaticFiles(directory=STATIC), name="static")],
        exception_handlers={404: _not_found},
    )
    console.state.gateway = gateway
    console.state.loopback = Loopback(gateway)
    return console
