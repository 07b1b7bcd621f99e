"""Who may call what: the role × route matrix of API.md, in one table an auditor can read.

The gateway decides the role; the service that owns an object decides the jurisdiction (it receives the signed
principal). `PUBLIC` routes need no key and are still audited. A3 (inspectors read, never write business data) and
A5's least privilege live here: the inspector role is on no route that writes business data, only on reads, on
alert acknowledge/resolve/scan, on objections (which anyone with a key may raise), and on oversight cases (their own
records of what they found, issue #16).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.kernel.evidence_config import EvidenceSettings

ADMIN, FINANCE, PM, LENDER, INSPECTOR = "admin", "finance", "project_manager", "lender", "inspector"
ANY_ROLE = frozenset({ADMIN, FINANCE, PM, LENDER, INSPECTOR})
PUBLIC = frozenset({"public"})
GATEWAY = "gateway"

# Body limits (issue #14), enforced by the door before a body is forwarded (413 PAYLOAD_TOO_LARGE) and declared in
# the OpenAPI document (`x-max-body-bytes`). A JSON body of ours is a few kilobytes; a batch of 1,000 allocations a
# few hundred; a county's roster a hundred megabytes and more. A route that takes no body takes none.
NO_BODY = 0
SMALL_BODY = 64 * 1024  # a state change with a note, a public objection, a key's request
JSON_BODY = 1024 * 1024
BATCH_BODY = 8 * 1024 * 1024
IMPORT_BODY = 1024 * 1024 * 1024  # streamed, never whole in memory
EVIDENCE_BODY = EvidenceSettings().max_bytes  # a document: streamed, the evidence store's own limit (E1)


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    roles: frozenset[str]
    target: str  # GATEWAY, or the service that owns the path
    streamed: bool = False  # forward the body as a stream (large uploads)
    max_body: int = JSON_BODY  # bytes; over it, 413 before anything is forwarded
    problems: frozenset[int] = frozenset()  # problem statuses besides those its shape implies (gateway/contract.py)
    # S18: a body that carries a secret (a password): the trail keeps a keyed hash of it, not its SHA-256, which
    # would let whoever reads the trail test guesses at hash speed (gateway/door.py).
    secret_body: bool = False
    pattern: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def public(self) -> bool:
        return self.roles == PUBLIC


def _r(
    method: str,
    template: str,
    *roles: str,
    target: str | None = None,
    streamed: bool = False,
    max_body: int | None = None,
    problems: tuple[int, ...] = (),
    secret_body: bool = False,
) -> Route:
    if target is None:
        target = template.strip("/").split("/")[0]
    allowed = PUBLIC if roles == ("public",) else frozenset(roles)
    if max_body is None:
        max_body = NO_BODY if method in ("GET", "DELETE") else JSON_BODY
    return Route(method, template, allowed, target, streamed, max_body, frozenset(problems), secret_body)


ROUTES: tuple[Route, ...] = (
    # Gateway
    _r("POST", "/admin/principals", ADMIN, target=GATEWAY, max_body=SMALL_BODY),
    _r("GET", "/admin/principals", ADMIN, target=GATEWAY),
    # People (issue #19): an admin creates users inside its jurisdiction (S1); they sign in to the console
    _r("POST", "/admin/users", ADMIN, target=GATEWAY, max_body=SMALL_BODY, problems=(422,), secret_body=True),
    _r("GET", "/admin/users", ADMIN, target=GATEWAY),
    # A person's own account (issue #19, S21, S22): anyone may ask who they are; only a person (no key) has a
    # password and a second factor to change (409 NOT_A_PERSON for a key). Passwords and codes: keyed in the trail.
    _r("GET", "/me", *ANY_ROLE, target=GATEWAY),
    _r("POST", "/me/password", *ANY_ROLE, target=GATEWAY, max_body=SMALL_BODY, secret_body=True),
    _r("POST", "/me/totp", *ANY_ROLE, target=GATEWAY, max_body=SMALL_BODY, secret_body=True),
    _r("POST", "/me/totp/confirm", *ANY_ROLE, target=GATEWAY, max_body=SMALL_BODY, secret_body=True),
    _r("POST", "/me/totp/disable", *ANY_ROLE, target=GATEWAY, max_body=SMALL_BODY, secret_body=True),
    _r("DELETE", "/admin/principals/{principal_id}", ADMIN, target=GATEWAY),
    _r("POST", "/admin/organisations", ADMIN, target=GATEWAY),
    _r("GET", "/admin/organisations", ADMIN, target=GATEWAY),
    _r("GET", "/audit", INSPECTOR, ADMIN, target=GATEWAY),
    _r("GET", "/audit/verify", INSPECTOR, ADMIN, target=GATEWAY),
    _r("POST", "/audit/verify/full", ADMIN, target=GATEWAY, max_body=SMALL_BODY),
    _r("GET", "/audit/verify/full/{check_id}", ADMIN, target=GATEWAY),
    _r("GET", "/audit/export", INSPECTOR, ADMIN, target=GATEWAY),
    # The trail's Merkle tree (A6): what an inspector checks it with, away from our database
    _r("GET", "/audit/public-key", INSPECTOR, ADMIN, target=GATEWAY),
    _r("GET", "/audit/checkpoints/latest", INSPECTOR, ADMIN, target=GATEWAY),
    _r("GET", "/audit/checkpoints", INSPECTOR, ADMIN, target=GATEWAY),
    _r("POST", "/audit/checkpoints", ADMIN, target=GATEWAY, max_body=SMALL_BODY),
    _r("GET", "/audit/entries/{seq}", INSPECTOR, ADMIN, target=GATEWAY),
    _r("GET", "/audit/consistency", INSPECTOR, ADMIN, target=GATEWAY, problems=(404,)),
    _r("GET", "/alerts", INSPECTOR, ADMIN, FINANCE, PM, LENDER, target=GATEWAY),
    # issue #19: the counts of a filter, and one alert, to whom the list shows them (their domain, their jurisdiction)
    _r("GET", "/alerts/summary", INSPECTOR, ADMIN, FINANCE, PM, LENDER, target=GATEWAY),
    _r("GET", "/alerts/{alert_id}", INSPECTOR, ADMIN, FINANCE, PM, LENDER, target=GATEWAY),
    _r("POST", "/alerts/scan", ADMIN, INSPECTOR, target=GATEWAY, max_body=SMALL_BODY),
    _r("GET", "/alerts/scans/{scan_id}", ADMIN, INSPECTOR, target=GATEWAY),
    _r("POST", "/alerts/{alert_id}/acknowledge", INSPECTOR, target=GATEWAY, max_body=SMALL_BODY),
    _r("POST", "/alerts/{alert_id}/resolve", INSPECTOR, target=GATEWAY, max_body=SMALL_BODY),
    _r("GET", "/healthz", "public", target=GATEWAY),
    _r("GET", "/readyz", "public", target=GATEWAY),
    _r("GET", "/metrics", "public", target=GATEWAY),
    _r("GET", "/docs", "public", target=GATEWAY),
    _r("GET", "/openapi.json", "public", target=GATEWAY),
    # Public announcements (P1): no key, audited all the same
    _r("GET", "/public/announcements", "public", target="projects"),
    _r("GET", "/public/announcements/{project_id}", "public", target="projects"),
    _r("POST", "/public/announcements/{project_id}/objections", "public", target="projects", max_body=SMALL_BODY),
    # Issue #16 point 5: the public sees money (U1, U2)
    _r("GET", "/public/allocations", "public", target="funds"),
    _r("GET", "/public/projects/{project_id}", "public", target="projects"),
    # Issue #16 point 5: the public complains (监督举报) to the inspectors of a region (O12)
    _r("POST", "/public/complaints", "public", target="oversight", max_body=SMALL_BODY),
    # Funds
    _r("PUT", "/funds/sources/{code}", ADMIN),
    _r("GET", "/funds/sources", *ANY_ROLE),
    _r("GET", "/funds/sources/{code}", *ANY_ROLE),
    _r("PUT", "/funds/sources/{code}/scopes/{year}", ADMIN),  # F7 by year (issue #17)
    _r("GET", "/funds/sources/{code}/scopes", *ANY_ROLE),
    _r("PUT", "/funds/counties/{code}", ADMIN, FINANCE),
    _r("GET", "/funds/counties", *ANY_ROLE),
    _r("POST", "/funds/appropriations", FINANCE),
    _r("POST", "/funds/allocations", FINANCE),
    _r("POST", "/funds/allocations:batch", FINANCE, max_body=BATCH_BODY),
    _r("GET", "/funds/allocations", FINANCE, INSPECTOR),
    _r("GET", "/funds/allocations/{allocation_id}", FINANCE, INSPECTOR),
    _r("POST", "/funds/reversals", FINANCE, problems=(404,)),
    _r("GET", "/funds/balances", FINANCE, INSPECTOR),
    _r("POST", "/funds/arrangements", FINANCE),
    _r("POST", "/funds/disbursements", FINANCE),
    # F13 (issue #17 point 2): the county's published subsidy standards (分类补助标准)
    _r("POST", "/funds/subsidy-standards", FINANCE),
    _r("GET", "/funds/subsidy-standards", FINANCE, INSPECTOR),
    _r("GET", "/funds/reports/growth", FINANCE, INSPECTOR),
    _r("GET", "/funds/reports/progress", FINANCE, INSPECTOR),
    _r("GET", "/funds/trace", INSPECTOR),
    # The county's integration plan (issue #17, F15–F16): filed, adjusted and reported by the county's finance
    # office (the service keeps it to the county's own principals); read by finance above it and by inspectors
    _r("POST", "/funds/plans", FINANCE),
    _r("POST", "/funds/plans/{plan_id}/adjustments", FINANCE),
    _r("POST", "/funds/plans/{plan_id}/report", FINANCE, max_body=SMALL_BODY),
    _r("GET", "/funds/plans", FINANCE, INSPECTOR),
    _r("GET", "/funds/plans/{plan_id}", FINANCE, INSPECTOR),
    _r("GET", "/funds/reports/plan-execution", FINANCE, INSPECTOR),
    # Obligations as reference data (F15's plan requirement, F17–F18's input obligations): declared from above
    _r("PUT", "/funds/obligations/{code}", ADMIN, FINANCE),
    _r("GET", "/funds/obligations/{code}", *ANY_ROLE),
    # Input obligations (issue #17, F17–F18): the figures they are judged on, declared by finance; the report
    _r("POST", "/funds/revenues", FINANCE),
    _r("POST", "/funds/recoveries", FINANCE),
    _r("GET", "/funds/reports/input", FINANCE, INSPECTOR),
    # Projects
    _r("POST", "/projects", PM),
    _r("GET", "/projects", PM, FINANCE, INSPECTOR),
    _r("GET", "/projects/{project_id}", PM, FINANCE, INSPECTOR),
    _r("POST", "/projects/{project_id}/revisions", PM),  # P14: a draft edited (issue #19 point 3)
    _r("GET", "/projects/{project_id}/revisions", PM, FINANCE, INSPECTOR),
    *(
        _r("POST", f"/projects/{{project_id}}/{action}", PM, max_body=SMALL_BODY)
        for action in ("submit", "review", "announce", "approve", "start", "complete", "accept", "reject", "withdraw")
    ),
    _r("POST", "/projects/{project_id}/objections", *ANY_ROLE, max_body=SMALL_BODY),
    _r("GET", "/projects/{project_id}/objections", PM, FINANCE, INSPECTOR),
    _r("POST", "/projects/{project_id}/objections/{objection_id}/resolve", PM, max_body=SMALL_BODY),
    _r("POST", "/projects/{project_id}/assets", PM),
    _r("GET", "/projects/{project_id}/assets", PM, FINANCE, INSPECTOR),
    _r("POST", "/projects/{project_id}/assets/{asset_id}/dividends", PM),
    # P8, P9 (issue #17 point 2): a project's contracts; the county's tender threshold (its project office or admin)
    _r("POST", "/projects/{project_id}/contracts", PM),
    _r("GET", "/projects/{project_id}/contracts", PM, FINANCE, INSPECTOR),
    _r("POST", "/projects/tender-thresholds", ADMIN, PM),
    _r("GET", "/projects/tender-thresholds/{county_code}", ADMIN, PM, FINANCE, INSPECTOR),
    # Close-out (issue #17 point 3): the asset register (资产登记造册) and an asset's handover (P11)
    _r("GET", "/projects/assets", PM, FINANCE, INSPECTOR),
    _r("POST", "/projects/{project_id}/assets/{asset_id}/handover", PM, max_body=SMALL_BODY),
    # Registry
    _r("POST", "/registry/households/import", ADMIN, PM, streamed=True, max_body=IMPORT_BODY, problems=(415,)),
    # how far the caller's own import under an Idempotency-Key has read (issue #19: the console's progress bar)
    _r("GET", "/registry/imports/{key}/progress", ADMIN, PM),
    _r("GET", "/registry/households", *ANY_ROLE),
    _r("GET", "/registry/households/{household_id}", *ANY_ROLE),
    _r("POST", "/registry/households/{household_id}/cadre-exceptions", ADMIN, PM),  # R1 (issue #17)
    _r("GET", "/registry/cadre-exceptions", *ANY_ROLE),
    # Loans
    _r("POST", "/loans", LENDER),
    _r("GET", "/loans", LENDER, INSPECTOR),
    _r("GET", "/loans/reports/overdue", LENDER, INSPECTOR),
    _r("GET", "/loans/reports/outstanding", LENDER, INSPECTOR, FINANCE),
    _r("GET", "/loans/reports/subsidy", LENDER, FINANCE, INSPECTOR),
    # Subsidy settlement (issue #18 point 3): finance declares a county's rates (L11), a bank claims (L12), finance
    # checks and approves, two people (L13); the claim is read, and downloaded, by both and by inspectors
    _r("POST", "/loans/subsidy-rates", FINANCE),
    _r("GET", "/loans/subsidy-rates", LENDER, FINANCE, INSPECTOR),
    _r("POST", "/loans/subsidy-claims", LENDER),
    _r("GET", "/loans/subsidy-claims/{claim_id}", LENDER, FINANCE, INSPECTOR),
    _r("POST", "/loans/subsidy-claims/{claim_id}/decisions", FINANCE, max_body=SMALL_BODY),
    _r("GET", "/loans/{loan_id}", LENDER, INSPECTOR),
    _r("GET", "/loans/{loan_id}/subsidy", LENDER, FINANCE, INSPECTOR),
    _r("POST", "/loans/{loan_id}/repayments", LENDER),
    _r("POST", "/loans/{loan_id}/usage-reports", LENDER),
    _r("POST", "/loans/{loan_id}/extensions", LENDER),
    # Issue #18 (L7–L10): the county's risk-compensation fund (set up by finance) and the banks' claims on it; a
    # claim is recorded by the bank or by finance, decided by finance (another person than the recorder, L9)
    _r("POST", "/loans/risk-funds", FINANCE),
    _r("GET", "/loans/risk-funds/{fund_id}", LENDER, FINANCE, INSPECTOR),
    _r("POST", "/loans/{loan_id}/compensation-claims", LENDER, FINANCE),
    _r("GET", "/loans/compensation-claims/{claim_id}", LENDER, FINANCE, INSPECTOR),
    _r("POST", "/loans/compensation-claims/{claim_id}/approve", FINANCE, max_body=SMALL_BODY),
    _r("POST", "/loans/compensation-claims/{claim_id}/reject", FINANCE, max_body=SMALL_BODY),
    _r("POST", "/loans/compensation-claims/{claim_id}/recoveries", LENDER, FINANCE),
    # Issue #18 points 4–7: renewals (L14), returns to households (L17), the provinces' product names (L18), credit
    # lines (L19)
    _r("POST", "/loans/{loan_id}/renewals", LENDER),
    _r("POST", "/loans/{loan_id}/returns", LENDER),
    _r("GET", "/loans/{loan_id}/records", LENDER, INSPECTOR),
    _r("GET", "/loans/product-names", *ANY_ROLE),
    _r("POST", "/loans/product-names", ADMIN),
    _r("POST", "/loans/credit-lines/import", LENDER, max_body=BATCH_BODY, problems=(415,)),
    # Oversight (issue #16): an inspector's cases; the responsible organisation answers them (O6, in the service).
    # Cases are the inspectors' own records, not business data (A3).
    _r("POST", "/oversight/cases", INSPECTOR),
    _r("GET", "/oversight/cases", INSPECTOR, FINANCE, PM, LENDER),
    _r("GET", "/oversight/cases/{case_id}", INSPECTOR, FINANCE, PM, LENDER),
    *(_r("POST", f"/oversight/cases/{{case_id}}/{a}", INSPECTOR)
      for a in ("assign", "return", "accept", "refer", "accountability", "close")),
    _r("POST", "/oversight/cases/{case_id}/rectifications", FINANCE, PM, LENDER),
    # O11: the figures of the cases of a region the caller covers (an inspector's all; another's its organisation's)
    _r("GET", "/oversight/report", INSPECTOR, FINANCE, PM, LENDER),
    # a public complaint with its contact (personal data): the inspectors of its region only (O12)
    _r("GET", "/oversight/complaints/{complaint_id}", INSPECTOR),
    # The documents the moves cite (E1): uploaded by an inspector or by a member of an organisation that has a case,
    # read by whom sees a case citing them (both decided in the service, O6).
    _r("POST", "/oversight/evidence", INSPECTOR, FINANCE, PM, LENDER, streamed=True, max_body=EVIDENCE_BODY,
       problems=(415,)),
    _r("GET", "/oversight/evidence/{sha256}", INSPECTOR, FINANCE, PM, LENDER),
)

# Which services' alerts a role sees on GET /alerts ("their own domain"); inspectors and admins see all.
ALERT_DOMAINS: dict[str, tuple[str, ...]] = {
    FINANCE: ("funds",),
    PM: ("projects", "registry"),
    LENDER: ("loans", "registry"),
}


LITERAL_TEMPLATES = frozenset(r.template for r in ROUTES if "{" not in r.template)


@dataclass(frozen=True)
class Match:
    route: Route | None
    params: dict[str, str]
    method_allowed: bool
    methods: tuple[str, ...] = ()  # the methods the path takes, for a 405's Allow header


def match(method: str, path: str) -> Match:
    """The route for (method, path); `method_allowed` False when the path exists under another method."""
    methods: list[str] = []
    literal = path in LITERAL_TEMPLATES  # `/registry/households/import` is that route's, not a household's
    for route in ROUTES:
        if literal and route.template != path:
            continue
        found = route.pattern.match(path)
        if found is None:
            continue
        if route.method == method or (method == "HEAD" and route.method == "GET"):
            return Match(route, found.groupdict(), True)
        methods.extend(("GET", "HEAD") if route.method == "GET" else (route.method,))
    return Match(None, {}, not methods, tuple(sorted(set(methods))))
