"""The finance reports (issue #19 point 4), each a table and an ECharts chart of the same rows:
- growth parity (F2): GET /funds/reports/growth, per integrable fund, the poor counties' growth against the average;
- idle money (F3): GET /funds/reports/progress, per county, received, spent and idle (first in, first out);
- late pass-down (F9): the LATE_PASS_DOWN alerts (GET /alerts), central money not at the counties in 30 days.
A chart's data travels in a <script type="application/json"> block that static/finance.js reads (no inline script)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from gateway.console.api import ApiError, ConsoleApi
from gateway.console.finance.forms import PAGE_SIZE, on_form, side_by_side
from gateway.console.fmt import today_in_china
from gateway.console.guard import page
from gateway.console.messages import translate
from gateway.console.render import language, render
from gateway.sessions import Signed

FILTERS = ("province", "fiscal_year", "region", "as_of", "status")
API_FIELDS = {"year": "fiscal_year"}
ALERT_STATUSES = ("open", "acknowledged", "resolved")
SHOWN_REFUSALS = (403, 422)
IDLE_ROWS, IDLE_BARS = 50, 20  # the counties with the most idle money first: in the table, in the chart
NATIONAL = "000000"


def _own_province(region_code: str) -> str:
    """F2 is a province's figure: a provincial person sees their own by default; the centre chooses a province, and
    a city's or county's person, whom the API does not show a province's figures, is not refused by default."""
    return region_code if region_code.endswith("0000") and region_code != NATIONAL else ""


@page("finance", "inspector")
async def reports_page(request: Request, api: ConsoleApi, signed: Signed) -> Response:
    query = request.query_params
    chosen = {name: query.get(name, "").strip() for name in FILTERS}
    chosen["province"] = chosen["province"] or _own_province(signed.principal.region_code)
    chosen["fiscal_year"] = chosen["fiscal_year"] or str(today_in_china().year)
    chosen["status"] = chosen["status"] if chosen["status"] in (*ALERT_STATUSES, "all") else "open"
    growth, progress, late = await side_by_side(
        _growth(api, chosen),
        api.get("/funds/reports/progress", region=chosen["region"], as_of=chosen["as_of"]),
        api.get("/alerts", type="LATE_PASS_DOWN", region=chosen["region"], limit=PAGE_SIZE,
                status=None if chosen["status"] == "all" else chosen["status"]),
    )
    lang = language(request)
    growth_rows = [] if isinstance(growth, ApiError) or growth is None else growth["items"]
    counties = [] if isinstance(progress, ApiError) else progress["items"]
    late_rows = [] if isinstance(late, ApiError) else late["items"]
    idle = sorted(counties, key=lambda c: (-int(c["idle_fen"]), c["county_code"]))
    refused = {name: _shown(o) for name, o in (("growth", growth), ("idle", progress), ("late", late))
               if isinstance(o, ApiError)}
    return render(
        request, "finance/reports.html", status=422 if refused else 200, chosen=chosen, refused=refused,
        on_field={p["field"]: p for p in refused.values() if p["field"]},
        growth_asked=growth is not None, growth=growth_rows, growth_chart=_growth_chart(growth_rows, lang),
        idle=idle[:IDLE_ROWS], idle_total=_totals(counties), counties=len(counties),
        idle_chart=_idle_chart(idle[:IDLE_BARS], lang),
        as_of=None if isinstance(progress, ApiError) else progress["as_of"],
        late=late_rows, late_chart=_late_chart(late_rows, lang), statuses=ALERT_STATUSES,
    )


async def _growth(api: ConsoleApi, chosen: dict[str, str]) -> Any:
    """None until a province is chosen."""
    if not chosen["province"]:
        return None
    return await api.get("/funds/reports/growth", province=chosen["province"], fiscal_year=chosen["fiscal_year"])


def _shown(error: ApiError) -> dict[str, Any]:
    if error.status not in SHOWN_REFUSALS:
        raise error
    return on_form(error.problem, API_FIELDS, frozenset(FILTERS))


def _totals(counties: list[dict[str, Any]]) -> dict[str, int]:
    return {k: sum(int(c[k]) for c in counties) for k in ("received_fen", "disbursed_fen", "idle_fen")}


def _growth_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    return {
        "unit": "percent",
        "categories": [r["fund_source"] for r in rows],
        "series": [
            {"name": translate("finance.col.poor_growth", lang), "values": [r["poor_growth"] for r in rows]},
            {"name": translate("finance.col.average_growth", lang), "values": [r["average_growth"] for r in rows]},
        ],
    }


def _idle_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    return {
        "unit": "yuan",
        "categories": [r["county_code"] for r in rows],
        "series": [
            {"name": translate("finance.col.idle", lang), "values": [r["idle_fen"] for r in rows]},
            {"name": translate("finance.col.disbursed", lang), "values": [r["disbursed_fen"] for r in rows]},
        ],
    }


def _late_chart(rows: list[dict[str, Any]], lang: str) -> dict[str, Any]:
    return {
        "unit": "yuan",
        "categories": [f"{a['region_code']} · {a['facts'].get('fund_source', '')}" for a in rows],
        "series": [{"name": translate("finance.col.late", lang),
                    "values": [a["facts"].get("amount_fen", 0) for a in rows]}],
    }
