"""Who may open a page: a person signed in (else to the sign-in page, and back after), of a role the page is for
(else 403); and a form's CSRF token checked before any handler runs (S20)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.api import ApiError, ConsoleApi, Loopback
from gateway.console.render import render, signed_of
from gateway.sessions import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, Signed

Handler = Callable[[Request, ConsoleApi, Signed], Awaitable[Response]]


def loopback_of(request: Request) -> Loopback:
    loopback: Loopback = request.app.state.loopback
    return loopback


def page(*roles: str) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A console page for `roles` (all roles when none): signed in, of the role, CSRF-checked when it writes. An
    ApiError the handler lets through is shown as the API's problem (its status, code, rule and detail)."""

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            signed = signed_of(request)
            if signed is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return RedirectResponse(f"/console/login?next={quote(target, safe='')}", status_code=303)
            if roles and signed.principal.role not in roles:
                return render(request, "error.html", status=403, message_key="error.forbidden", problem=None)
            writes = request.method not in SAFE_METHODS
            if writes and (cross_site(request) or not await csrf_ok(request, signed)):
                return render(request, "error.html", status=403, message_key="auth.expired", problem=None)
            try:
                api = ConsoleApi(loopback_of(request), request, signed, may_write=writes)
                return await handler(request, api, signed)
            except ApiError as error:
                status = error.status if error.status in (400, 401, 403, 404, 409, 422, 429) else 503
                key = {401: "auth.expired", 403: "error.forbidden", 404: "error.not_found"}.get(
                    error.status, "error.unavailable")
                return render(request, "error.html", status=status, message_key=key, problem=error.problem)

        return endpoint

    return wrap


def cross_site(request: Request) -> bool:
    """A request sent by another site's page (the browser says so: Sec-Fetch-Site, else Origin): never a write of
    the console's (S20; with SameSite=Strict the cookie would not come either, but a sibling subdomain is same-site)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")  # its host against ours (behind a TLS proxy the schemes differ)
    return origin is not None and urlsplit(origin).netloc != request.url.netloc


async def csrf_ok(request: Request, signed: Signed) -> bool:
    """S20 for the console's own forms: the token in X-CSRF-Token (htmx sends it) or in the form's csrf_token."""
    store = request.app.state.gateway.state.session_store
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        presented = value if isinstance(value, str) else None
    ok: bool = store.csrf_ok(signed.token, presented)
    return ok
