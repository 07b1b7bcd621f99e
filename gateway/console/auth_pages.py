"""Signing in and out of the console (S18–S20), and the language a person reads it in."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from gateway import people, totp
from gateway.console.guard import cross_site, csrf_ok
from gateway.console.messages import LANGUAGES
from gateway.console.render import LANG_COOKIE, render, signed_of
from gateway.sessions import COOKIE, SESSION_HOURS
from services.kernel.settings import get_settings

REFUSALS = {"LOCKED_OUT": "auth.locked", "TOTP_REQUIRED": "account.totp_required", "TOTP_WRONG": "auth.totp_wrong"}
PRE_COOKIE = "ft_pre"  # the sign-in form's own CSRF token (no session yet): a double-submit cookie


def _secure(request: Request) -> bool:
    """Secure cookies when served over TLS (directly, or behind a configured proxy that terminates it: the door
    decides, gateway/ratelimit.py `over_tls`)."""
    return bool(request.scope.get("state", {}).get("secure", False))


def _next(value: str | None) -> str:
    """Back to the console page that sent the person here, never elsewhere (no open redirect)."""
    if value and value.startswith("/console") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console/"


def _form(request: Request, *, status: int = 200, error_key: str | None = None, login: str = "") -> Response:
    pre = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", status=status, pre=pre, error_key=error_key, login=login,
        next=_next(request.query_params.get("next")),
    )
    response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=_secure(request), path="/console")
    return response


async def login_page(request: Request) -> Response:
    if signed_of(request) is not None:
        return RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    return _form(request)


async def login(request: Request) -> Response:
    gateway = request.app.state.gateway.state
    form = await request.form()
    login_name, password = str(form.get("login", ""))[:200], str(form.get("password", ""))[:256]
    pre = request.cookies.get(PRE_COOKIE, "")
    if cross_site(request) or not pre or not hmac.compare_digest(pre, str(form.get("pre", ""))):
        return _form(request, status=403, error_key="auth.expired", login=login_name)
    state = request.scope.get("state", {})
    admission = await gateway.sign_ins.admit(str(state.get("client", "")))  # S19: per address, before any hashing
    if not admission.allowed:
        response = _form(request, status=429, error_key="auth.too_many", login=login_name)
        response.headers["retry-after"] = str(admission.retry_after_s)
        return response
    outcome = await people.sign_in(
        gateway.engine, login_name, password, str(form.get("totp", ""))[:16],
        fernet=totp.fernet_for(get_settings().service_secret), client=str(state.get("client_tag", "")),
        request_id=str(state.get("request_id", "")),
    )
    if outcome.principal_id is None:
        if outcome.refused == "BUSY":
            return _form(request, status=503, error_key="error.unavailable", login=login_name)
        key = REFUSALS.get(outcome.refused or "", "auth.wrong")
        return _form(request, status=401, error_key=key, login=login_name)
    earlier = signed_of(request)
    if earlier is not None:  # a browser signs in as one person at a time: the session it had ends
        await gateway.session_store.end(earlier.token, reason="signed_in_again")
    token = await gateway.session_store.open(outcome.principal_id)
    response = RedirectResponse(_next(str(form.get("next", ""))), status_code=303)
    response.set_cookie(
        COOKIE, token, max_age=SESSION_HOURS * 3600, httponly=True, samesite="strict", secure=_secure(request),
        path="/",
    )
    response.delete_cookie(PRE_COOKIE, path="/console")
    return response


async def logout(request: Request) -> Response:
    signed = signed_of(request)
    if signed is not None:
        if not await csrf_ok(request, signed):
            return render(request, "error.html", status=403, message_key="auth.expired", problem=None)
        await request.app.state.gateway.state.session_store.end(signed.token)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


async def choose_language(request: Request) -> Response:
    lang = request.path_params["lang"]
    response = RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict", path="/console")
    return response


ROUTES = [
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang/{lang}", choose_language, methods=["GET"]),
]
