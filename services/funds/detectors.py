"""Misuse detectors of the funds service (run by POST /alerts/scan and daily), each as of a date: only data dated
on or before `as_of` is considered, so a scan can be replayed for any day. A scan of a jurisdiction reads only its
counties' payments (S2); the account and growth detectors compare regions with each other and read them all, the
kernel keeping the alerts the jurisdiction covers."""

from __future__ import annotations

import logging
from contextlib import aclosing
from datetime import timedelta

from services.funds import codes, reports, rules
from services.funds.clients import gateway_of, registry_of
from services.funds.repository import disbursements, passdown
from services.kernel import marks
from services.kernel.alerts import AlertDraft, DetectorContext, DetectorRegistry
from services.kernel.errors import ServiceUnavailable
from services.kernel.regions import region_level

registry = DetectorRegistry()


log = logging.getLogger("fundtrack.funds.detectors")
INELIGIBLE_LOOKBACK_DAYS = 400
INELIGIBLE_PART = 20_000  # payments read, and asked about, at a time


async def _bureaus(ctx: DetectorContext, detector: str, regions: list[str]) -> dict[str, str | None] | None:
    """O13: the finance bureau of each region holding the money an alert is about (None for a region with none);
    None when the gateway does not answer: the detector is then skipped for this scan, as INELIGIBLE_PAYEE is when
    the registry does not answer, so that its open alerts are left as they are rather than rewritten to name no
    bureau, and back at the next scan."""
    if not regions:
        return {}
    try:
        return await gateway_of(ctx.state).finance_bureaus(regions)
    except ServiceUnavailable:
        log.warning("gateway unavailable: %s skipped for as_of %s", detector, ctx.as_of)
        return None


@registry.register(codes.IDLE_FUNDS)
async def idle_funds(ctx: DetectorContext) -> list[AlertDraft]:
    """F3 (extended): a county pool, fund or project account holding money received more than N days ago, first in,
    first out (a payment spends the oldest money: paying part of an account leaves the rest ageing)."""
    days = int(ctx.state.settings.idle_funds_days)
    found = await reports.idle_holdings(ctx.session, kinds=reports.IDLE_KINDS, as_of=ctx.as_of, days=days)
    found = [h for h in found if region_level(h.region_code) == "county"]
    bureaus = await _bureaus(ctx, codes.IDLE_FUNDS, [h.region_code for h in found])
    if bureaus is None:
        return []
    drafts = []
    for h in found:
        idle = reports.idle_fen(h)
        drafts.append(AlertDraft(
            type=codes.IDLE_FUNDS,
            severity="medium",
            region_code=h.region_code,
            subject_kind="account",
            subject_id=f"{h.region_code}:{h.kind}:{h.fund_source}" + (f":{h.ref}" if h.ref else ""),
            # no count of days: it grows every day, and an open alert whose facts did not change is not written
            # again (issue #20); `since` and the scan's `as_of` say how long
            facts={"amount": idle, "amount_fen": idle, "balance_fen": h.balance_fen,
                   "since": (h.oldest_held or h.since).isoformat(), "account": h.kind, "fund_source": h.fund_source,
                   "project_id": h.ref or None, "threshold_days": days},
            responsible_org=rules.holding_responsible_org(finance_bureau=bureaus[h.region_code]),  # O13
        ))
    return drafts


@registry.register(codes.LATE_PASS_DOWN)
async def late_pass_down(ctx: DetectorContext) -> list[AlertDraft]:
    """F9 (extended): central money not at the counties 30 days after its central document, however many levels it
    passed (first in, first out over the province's chain; its own appropriations are not central transfers)."""
    window = codes.LATE_PASS_DOWN_DAYS
    late = await passdown.late_central(ctx.session, prefix="", as_of=ctx.as_of, window_days=window)
    bureaus = await _bureaus(ctx, codes.LATE_PASS_DOWN, [r.province for r in late])
    if bureaus is None:
        return []
    return [
        AlertDraft(
            type=codes.LATE_PASS_DOWN, severity="high", region_code=r.province, subject_kind="central_transfer",
            subject_id=f"{r.province}:central:{r.fund_source}",
            facts={"amount": int(r.late_fen), "amount_fen": int(r.late_fen),  # no days: as IDLE_FUNDS
                   "since": r.since.isoformat(), "central_doc_no": r.doc_no, "threshold_days": window,
                   "fund_source": r.fund_source},
            # O13: the province passes central transfers on (国办发〔2016〕22号), its finance bureau answers
            responsible_org=rules.holding_responsible_org(finance_bureau=bureaus[r.province]),
        )
        for r in late
    ]


@registry.register(codes.GROWTH_BELOW_AVERAGE)
async def growth_below_average(ctx: DetectorContext) -> list[AlertDraft]:
    """F2: for an integrable fund, what a province gives its poor counties grew less than the fund on average."""
    rows = await reports.growth(ctx.session, prefix="", fiscal_year=None, as_of=ctx.as_of)
    below = [r for r in rows if not r.growth.ok and r.fiscal_year <= ctx.as_of.year]
    bureaus = await _bureaus(ctx, codes.GROWTH_BELOW_AVERAGE, [r.province for r in below])
    if bureaus is None:
        return []
    return [
        AlertDraft(
            type=codes.GROWTH_BELOW_AVERAGE, severity="medium", region_code=r.province, subject_kind="fund_year",
            subject_id=f"{r.province}:{r.fund_source}:{r.fiscal_year}", facts=r.as_item(),
            responsible_org=rules.holding_responsible_org(finance_bureau=bureaus[r.province]),  # O13
        )
        for r in below
    ]


# More groups touched since the mark than this (a county's payments re-recorded, a year's reversals back-dated): a
# full run, one ordered pass over every payment, rather than a list of groups of that size in one statement
DUPLICATE_TOUCHED_MAX = 50_000


async def _groups_to_judge(ctx: DetectorContext, since: marks.Mark | None) -> list[disbursements.Group] | None:
    """F8 incremental (D1): the groups whose pairing a run following `since` must judge again (None: every payment,
    a full run). A payment's finding depends only on the live payments of its group (payee, project, amount) on or
    before it, and those change as of a later day only where a payment or reversal was recorded since the mark
    (back-dated too) or is dated after the mark's day and on or before this run's."""
    if since is None:
        return None
    touched = await disbursements.touched_groups(ctx.session, prefix=ctx.region_prefix, as_of=ctx.as_of,
                                                 recorded_from=since.read_from, last_as_of=since.as_of,
                                                 most=DUPLICATE_TOUCHED_MAX)
    return None if len(touched) > DUPLICATE_TOUCHED_MAX else touched


@registry.register(codes.DUPLICATE_PAYMENT)
async def duplicate_payment(ctx: DetectorContext) -> list[AlertDraft]:
    """The same payee paid the same amount for the same project twice within 30 days (虚报冒领, F8/F10): a payment
    against the nearest earlier live one of its group. Incremental (D1, F8 incremental): a run following the scope's
    mark pairs again only the groups touched since (`_groups_to_judge`); nothing touched, only the index ranges past
    the mark are read, and no payment paired."""
    run = await marks.begin(ctx, codes.DUPLICATE_PAYMENT)
    groups = await _groups_to_judge(ctx, run.since)
    rows = await disbursements.repeated(ctx.session, prefix=ctx.region_prefix, as_of=ctx.as_of,
                                        days=codes.DUPLICATE_PAYMENT_DAYS, groups=groups)
    await marks.finish(ctx.session, run)
    return [
        AlertDraft(
            type=codes.DUPLICATE_PAYMENT, severity="high", region_code=r.county_code, subject_kind="disbursement",
            subject_id=r.id,
            facts={"payee_id": r.payee_id, "project_id": r.project_id, "amount_fen": r.amount_fen,
                   "paid_on": r.paid_on.isoformat(), "voucher_no": r.voucher_no, "first_disbursement_id": r.first_id,
                   "first_paid_on": r.first_paid_on.isoformat(), "first_voucher_no": r.first_voucher_no,
                   "days_apart": (r.paid_on - r.first_paid_on).days},
            responsible_org=r.responsible_org,  # O13: the county's finance bureau, as the payment recorded it
        )
        for r in rows
    ]


REGISTRY = "registry"  # the mark's transaction of the registry's changes (kernel/marks: Mark.others)
# More households changed than this since the mark (a province's roster re-imported back-dated): a full run, which
# streams every payment once, rather than an id list of that size in one statement
INELIGIBLE_CHANGED_MAX = 50_000
NO_TRANSACTION_YET = 2**62  # asked what changed since it, the registry answers nothing but its own transaction


async def _what_changed(ctx: DetectorContext,
                        mark: marks.Mark | None) -> tuple[disbursements.Since | None, int | None]:
    """What a run following `mark` must judge again (None: everything, a full run), and the registry's transaction
    from which to ask next time (asked first, before any eligibility: a change the eligibility reads could not see
    is at or after it; None: the registry did not say, and this run keeps no mark). A full run asks only for that
    transaction (what changed since its own snapshot)."""
    registry_client = registry_of(ctx.state)
    try:
        if mark is None or REGISTRY not in mark.others:
            _, registry_from = await registry_client.changed_households(NO_TRANSACTION_YET)
            return None, registry_from
        changed, registry_from = await registry_client.changed_households(mark.others[REGISTRY],
                                                                          most=INELIGIBLE_CHANGED_MAX)
    except ServiceUnavailable:
        # a registry that cannot say what changed (one not yet upgraded to the route, in a rolling upgrade): a full
        # run, which needs only the eligibility, and no mark, so the next run is a full one too
        log.warning("registry's changes unavailable: INELIGIBLE_PAYEE runs in full for as_of %s", ctx.as_of)
        return None, None
    if len(changed) > INELIGIBLE_CHANGED_MAX:
        return None, registry_from
    if registry_from < mark.others[REGISTRY]:
        # the registry's transaction counter behind the mark (kernel/marks.begin checks this database's)
        log.warning("registry's transaction ids behind INELIGIBLE_PAYEE's mark: a full run for as_of %s", ctx.as_of)
        return None, registry_from
    return disbursements.Since(recorded_from=mark.read_from, last_as_of=mark.as_of, payees=changed), registry_from


@registry.register(codes.INELIGIBLE_PAYEE)
async def ineligible_payee(ctx: DetectorContext) -> list[AlertDraft]:
    """F10: a household paid while not poor/exited/returned, or with a village cadre, or not yet registered, all as
    the registry stood on the payment date (a later change of status neither raises nor clears the finding).

    Incremental (issue #20): the finding about a payment does not change as days pass, only with the payment
    recorded or the household's standing on its day changed; so a run following the scope's mark (kernel/marks)
    judges only the payments recorded since, paid after its as_of, or to a household whose standing changed since
    (the registry's POST /internal/households/changed); any other run judges every payment of the lookback. The alert
    store never closes an alert a run did not find, so what it raises is what a full run would."""
    since = ctx.as_of - timedelta(days=INELIGIBLE_LOOKBACK_DAYS)
    registry_client = registry_of(ctx.state)
    run = await marks.begin(ctx, codes.INELIGIBLE_PAYEE)
    changed, registry_from = await _what_changed(ctx, run.since)
    drafts = []
    # a part of the payments at a time (a province pays a million households a year): the registry is asked about
    # each (household, day) once, and the scan holds one part's payments and the findings, never all the payments
    parts = disbursements.to_households(ctx.session, prefix=ctx.region_prefix, as_of=ctx.as_of, since=since,
                                        part=INELIGIBLE_PART, changed=changed)
    async with aclosing(parts):
        async for payments in parts:
            asked = list(dict.fromkeys((p.payee_id, p.paid_on) for p in payments))
            try:
                judged = dict(zip(asked, await registry_client.household_eligibility(asked), strict=True))
            except ServiceUnavailable:
                log.warning("registry unavailable: INELIGIBLE_PAYEE skipped for as_of %s", ctx.as_of)
                return []
            for p in payments:
                eligibility = judged[(p.payee_id, p.paid_on)]
                reason = rules.ineligibility_on_date(eligibility)
                if reason is None:
                    continue
                drafts.append(AlertDraft(
                    type=codes.INELIGIBLE_PAYEE, severity="high", region_code=p.county_code,
                    subject_kind="disbursement", subject_id=p.id,
                    facts={"household_id": p.payee_id, "project_id": p.project_id, "amount_fen": p.amount_fen,
                           "paid_on": p.paid_on.isoformat(), "reason": reason,
                           "status": eligibility["status"], "village_cadre": eligibility["village_cadre"]},
                    responsible_org=p.responsible_org,  # O13: the county's finance bureau, as the payment recorded it
                ))
    if registry_from is not None:
        await marks.finish(ctx.session, run, others={REGISTRY: registry_from})
    return drafts
