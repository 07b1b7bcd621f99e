"""INPUT_OBLIGATION_FAILED (issue #17 point 4, F17–F18): an input obligation a region failed in the last full year
before the scan's date (a year is judged once it is over: mid-year every budget would still be short). Registered on
the funds detectors' registry; the projects service is asked for the industry share, and when it does not answer
the detector is skipped for the scan, its open alerts left as they are."""

from __future__ import annotations

import logging

from services.funds import codes, input_obligations
from services.funds.clients import Projects
from services.funds.detectors import registry
from services.funds.repository import inputs
from services.kernel.alerts import AlertDraft, DetectorContext
from services.kernel.errors import ServiceUnavailable
from services.kernel.http import client_in

log = logging.getLogger("fundtrack.funds.detectors")


@registry.register(codes.INPUT_OBLIGATION_FAILED)
async def input_obligation_failed(ctx: DetectorContext) -> list[AlertDraft]:
    year = ctx.as_of.year - 1
    projects = Projects(client_in(ctx.state, "projects"))
    drafts: list[AlertDraft] = []
    regions = await inputs.judged_regions(ctx.session, fiscal_year=year, prefix=ctx.region_prefix)
    try:
        industries = await input_obligations.industry_by_region(ctx.session, projects=projects, regions=regions,
                                                                fiscal_year=year)
    except ServiceUnavailable:
        log.warning("projects unavailable: %s skipped for as_of %s", codes.INPUT_OBLIGATION_FAILED, ctx.as_of)
        return []
    for region in regions:
        results = await input_obligations.judge(ctx.session, industry=industries.get(region), region_code=region,
                                                fiscal_year=year)
        drafts.extend(
            AlertDraft(
                type=codes.INPUT_OBLIGATION_FAILED, severity="medium", region_code=region, subject_kind="obligation",
                subject_id=f"{region}:{r.code}:{year}" + (f":{r.key}" if r.key else ""),
                facts={"fiscal_year": year, "obligation": r.code, "kind": r.kind, "rule": r.rule, "doc_no": r.doc_no,
                       "share_bp": r.share_bp, "fund_source": r.key or None, "required_fen": r.required_fen,
                       "actual_fen": r.actual_fen, **r.facts},
            )
            for r in results if r.status == "fail"
        )
    return drafts
