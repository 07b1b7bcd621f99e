"""Rendering a page: the templates (Jinja2, autoescaped), the words in the person's language, the formats, the
navigation for their role, and the headers every console answer carries (a strict Content-Security-Policy: nothing
but this origin; no inline script or style)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from gateway.console import fmt
from gateway.console.messages import DEFAULT, LANGUAGES, translate
from gateway.sessions import Signed

LANG_COOKIE = "ft_lang"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    path: str
    key: str  # a key of messages.MESSAGES
    roles: frozenset[str]


ALL = frozenset({"admin", "finance", "project_manager", "lender", "inspector"})
# The console's navigation, by role: the pages each role's desk opens from. The pages themselves check again.
NAV: tuple[NavItem, ...] = (
    NavItem("/console/", "nav.home", ALL),
    NavItem("/console/alerts", "nav.alerts", frozenset({"inspector", "admin", "finance", "project_manager", "lender"})),
    NavItem("/console/trace", "nav.trace", frozenset({"inspector"})),  # GET /funds/trace: inspectors only
    NavItem("/console/audit", "nav.audit", frozenset({"inspector", "admin"})),
    NavItem("/console/projects", "nav.projects", frozenset({"project_manager", "inspector", "finance"})),
    NavItem("/console/public/announcements", "nav.announcements", ALL),
    NavItem("/console/roster", "nav.roster", frozenset({"project_manager", "admin"})),
    NavItem("/console/allocations", "nav.allocations", frozenset({"finance", "inspector"})),
    NavItem("/console/reports", "nav.reports", frozenset({"finance", "inspector"})),
    NavItem("/console/users", "nav.users", frozenset({"admin"})),
    NavItem("/console/account", "nav.account", ALL),
)

ENV = Environment(
    loader=PackageLoader("gateway.console", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters["yuan"] = fmt.yuan
ENV.filters["day"] = fmt.china_day
ENV.filters["time"] = fmt.china_time


def language(request: Request) -> str:
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    accepted = request.headers.get("accept-language", "").lower()
    return "en" if accepted.startswith("en") else DEFAULT


def signed_of(request: Request) -> Signed | None:
    signed = request.scope.get("state", {}).get("signed")
    return signed if isinstance(signed, Signed) else None


def render(request: Request, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    signed = signed_of(request)
    role = signed.principal.role if signed is not None else None
    html = ENV.get_template(template).render(
        request=request,
        path=request.url.path,
        lang=lang,
        html_lang="zh-CN" if lang == "zh" else "en",
        t=lambda key: translate(key, lang),
        me=signed.principal if signed is not None else None,
        csrf=signed.csrf if signed is not None else "",
        nav=[item for item in NAV if role in item.roles],
        **context,
    )
    headers = dict(SECURITY_HEADERS)
    if request.scope.get("state", {}).get("secure"):
        headers["strict-transport-security"] = "max-age=31536000"
    return HTMLResponse(html, status_code=status, headers=headers)
