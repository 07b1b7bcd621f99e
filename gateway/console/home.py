"""The home page: who the person is, where they may act, and their desk's pages."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.console.api import ConsoleApi
from gateway.console.guard import page
from gateway.console.render import render
from gateway.sessions import Signed


@page()
async def home(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    return render(request, "home.html")


ROUTES = [Route("/", home, methods=["GET"])]
