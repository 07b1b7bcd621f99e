"""The oversight service's work (issue #16): open a case from alerts or a complaint, move it through its states
(O4) by new event rows, record accountability, and show a case only to whom it concerns (O6). What other
processes own (alerts, organisations) is asked first, before this request's transaction writes anything."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel import clock
from services.kernel.alerts import AlertDraft
from services.kernel.alerts_store import get_alert, raise_alerts
from services.kernel.errors import Problem
from services.kernel.evidence import EvidenceRef, EvidenceStore, unknown_document
from services.kernel.identity import Principal
from services.kernel.ids import new_id
from services.kernel.pagination import Page, decode_cursor, page_of
from services.kernel.scope import check_covers, scope_prefix
from services.kernel.uow import BriefReads
from services.oversight import codes, problems, repository, rules
from services.oversight.clients import Lookups
from services.oversight.schemas import (
    COMPLAINT_ID_PATTERN,
    Accountability,
    AccountabilityIn,
    AssignIn,
    CaseAlert,
    CaseEvent,
    CaseOpen,
    CaseRead,
    ComplaintIn,
    ComplaintRead,
    ComplaintReceipt,
    DecisionIn,
    DocumentRef,
    OrganisationFigures,
    RectificationIn,
    ReferIn,
    Report,
    ReportFigures,
)

INSPECTOR = "inspector"
OVERSIGHT = "oversight"
COMPLAINT_ID = re.compile(COMPLAINT_ID_PATTERN)


def _recorded(principal: Principal) -> dict[str, str]:
    return {"principal_id": principal.id, "principal_organisation_id": principal.organisation_id}


def _standing(events: list[Row[Any]]) -> tuple[str, str | None, Any]:
    """The case's state, responsible organisation and deadline: its latest event's state, its latest assignment's."""
    assigned = [e for e in events if e.action == "assigned"]
    last = assigned[-1] if assigned else None
    return events[-1].state, (last.organisation_id if last else None), (last.deadline if last else None)


def _check_sees(principal: Principal, case: Row[Any], responsible: str | None) -> None:
    """O6: the inspectors whose jurisdiction covers the case, and the principals of its responsible organisation."""
    if principal.role == INSPECTOR:
        check_covers(principal, case.region_code, subject=f"case {case.id}", rule=codes.O6)
    elif not principal.organisation_id or principal.organisation_id != responsible:
        raise problems.not_answerable(case.id)


async def _read(session: AsyncSession, rows: list[Row[Any]]) -> list[CaseRead]:
    ids = [r.id for r in rows]
    events, alerts, measures = (
        await repository.events_of(session, ids),
        await repository.alerts_of(session, ids),
        await repository.accountability_of(session, ids),
    )
    out = []
    for row in rows:
        state, responsible, deadline = _standing(events[row.id])
        out.append(CaseRead(
            id=row.id, region_code=row.region_code, title=row.title, complaint_ref=row.complaint_ref,
            severity=row.severity, money_involved_fen=row.money_involved_fen, state=state,
            responsible_organisation_id=responsible, deadline=deadline, opened_by=row.principal_id,
            opened_at=row.at,
            alerts=[CaseAlert(service=a.service, alert_id=a.alert_id, type=a.alert_type, severity=a.alert_severity,
                              region_code=a.alert_region_code) for a in alerts[row.id]],
            events=[CaseEvent.model_validate(dict(e._mapping)) for e in events[row.id]],
            accountability=[Accountability.model_validate(dict(m._mapping)) for m in measures[row.id]],
        ))
    return out


async def open_case(session: AsyncSession, principal: Principal, body: CaseOpen, lookups: Lookups) -> CaseRead:
    """O2: from alerts that exist and lie in the case's region (asked of their services first), not in another
    case; or from a complaint reference."""
    check_covers(principal, body.region_code, field="region_code")
    if not body.alerts and body.complaint_ref is None:
        raise problems.no_grounds()
    found: dict[tuple[str, str], dict[str, Any]] = {}
    # the other services' alerts are asked first, before this request's first statement; then its own (O12)
    for index, ref in sorted(enumerate(body.alerts), key=lambda item: item[1].service == OVERSIGHT):
        field = f"alerts.{index}.alert_id"
        if (ref.service, ref.alert_id) in found:
            raise problems.alert_named_twice(ref.alert_id, field)
        alert = await _own_alert(session, ref.alert_id) if ref.service == OVERSIGHT else await lookups.alert(
            ref.service, ref.alert_id)
        if alert is None:
            raise problems.unknown_alert(ref.service, ref.alert_id, field)
        rules.check_alert_region(str(alert["region_code"]), body.region_code, field)
        found[(ref.service, ref.alert_id)] = {
            "service": ref.service, "alert_id": ref.alert_id, "alert_type": alert["type"],
            "alert_severity": alert["severity"], "alert_region_code": alert["region_code"]}
        if alert["type"] == codes.PUBLIC_COMPLAINT:  # O12: the case names its complaint, one
            complaint_id = str(alert["subject"]["id"])
            rules.check_complaint_alert(complaint_id, body.complaint_ref, field)
            body = body.model_copy(update={"complaint_ref": complaint_id})
    for grounds in await _complaint_grounds(session, body):
        found[(grounds["service"], grounds["alert_id"])] = grounds
    refs = list(found)
    await repository.lock_alerts(session, refs)  # two opens from one alert at once: the second sees the first's
    taken = await repository.cases_of_alerts(session, refs)
    if taken:
        (service, alert_id), case_id = next(iter(taken.items()))
        raise problems.alert_in_case(alert_id, case_id)
    case_id = new_id("case")
    severity = rules.case_severity([a["alert_severity"] for a in found.values()], body.severity)
    await repository.insert_case(
        session,
        {"id": case_id, "region_code": body.region_code, "title": body.title,
         "complaint_ref": body.complaint_ref or "", "severity": severity,
         "money_involved_fen": body.money_involved_fen, **_recorded(principal)},
        list(found.values()),
        {"case_id": case_id, "seq": 1, "action": "opened", "state": "open", **_recorded(principal)},
    )
    return await get_case(session, principal, case_id)


async def _own_alert(session: AsyncSession, alert_id: str) -> dict[str, Any] | None:
    """One of this service's own alerts (PUBLIC_COMPLAINT, CASE_OVERDUE), as the other services answer theirs."""
    alert = await get_alert(session, alert_id)
    return None if alert is None else alert.model_dump(mode="json")


async def _complaint_grounds(session: AsyncSession, body: CaseOpen) -> list[dict[str, Any]]:
    """O12: a complaint reference that names a public complaint (`cmp_…`) names one that exists, in the case's
    region; its PUBLIC_COMPLAINT alert joins the case (so the complaint is in one case only, O2). Any other
    reference is kept as text."""
    if body.complaint_ref is None or COMPLAINT_ID.match(body.complaint_ref) is None:
        return []
    complaint = await repository.find_complaint(session, body.complaint_ref)
    if complaint is None:
        raise problems.unknown_complaint(body.complaint_ref)
    rules.check_complaint_region(complaint.region_code, body.region_code)
    alert = await repository.complaint_alert(session, complaint.id, codes.PUBLIC_COMPLAINT)
    if alert is None:
        return []
    return [{"service": OVERSIGHT, "alert_id": alert.id, "alert_type": alert.type, "alert_severity": alert.severity,
             "alert_region_code": alert.region_code}]


async def receive_complaint(session: AsyncSession, body: ComplaintIn) -> ComplaintReceipt:
    """O12: a complaint from the public, kept as made (nothing of who sent it but the contact they chose to give),
    and a PUBLIC_COMPLAINT alert for the inspectors of its region, in the same transaction. The alert holds no
    contact: admins see alerts too."""
    complaint_id = new_id("cmp")
    await repository.insert_complaint(session, {
        "id": complaint_id, "region_code": body.region_code, "text": body.text, "contact": body.contact or "",
        "subject_ref": body.subject_ref or "",
    })
    facts = {"complaint_id": complaint_id, "subject_ref": body.subject_ref, "text": body.text,
             "has_contact": body.contact is not None}
    draft = AlertDraft(type=codes.PUBLIC_COMPLAINT, severity="medium", region_code=body.region_code,
                       subject_kind="complaint", subject_id=complaint_id, facts=facts)
    await raise_alerts(session, [draft], service=OVERSIGHT, as_of=clock.today())
    read = await _complaint(session, complaint_id)
    return ComplaintReceipt(id=read.id, region_code=read.region_code, subject_ref=read.subject_ref,
                            received_at=read.received_at)


async def _complaint(session: AsyncSession, complaint_id: str) -> ComplaintRead:
    row = await repository.find_complaint(session, complaint_id)
    if row is None:
        raise problems.complaint_not_found(complaint_id)
    return ComplaintRead(id=row.id, region_code=row.region_code, subject_ref=row.subject_ref or None,
                         received_at=row.at, text=row.text, contact=row.contact or None)


async def get_complaint(session: AsyncSession, principal: Principal, complaint_id: str) -> ComplaintRead:
    """O12: a complaint, its contact included, to an inspector whose jurisdiction covers its region only."""
    if principal.role != INSPECTOR:  # the gateway lets no other role reach it; this holds the service to it too
        raise problems.complaint_not_found(complaint_id)
    complaint = await _complaint(session, complaint_id)
    check_covers(principal, complaint.region_code, subject=f"complaint {complaint_id}", rule=codes.O12)
    return complaint


async def get_case(session: AsyncSession, principal: Principal, case_id: str) -> CaseRead:
    row = await repository.find_case(session, case_id)
    if row is None:
        raise problems.case_not_found(case_id)
    read = (await _read(session, [row]))[0]
    _check_sees(principal, row, read.responsible_organisation_id)
    return read


async def list_cases(
    session: AsyncSession, principal: Principal, *, region: str | None, cursor: str | None, limit: int
) -> Page[CaseRead]:
    """O6: an inspector's are those of its jurisdiction (or of `region` in it); anyone else's are those its
    organisation was made responsible for."""
    key = decode_cursor(cursor, 1)
    after = str(key[0]) if key is not None else None
    if principal.role == INSPECTOR:
        rows = await repository.list_cases(
            session, prefix=scope_prefix(principal, region), organisation_id=None, after=after, limit=limit
        )
    elif principal.organisation_id:
        rows = await repository.list_cases(
            session, prefix=None if region is None else scope_prefix(principal, region),
            organisation_id=principal.organisation_id, after=after, limit=limit,
        )
    else:
        rows = []
    page = page_of(rows, limit, lambda r: [r.id])
    return Page(items=await _read(session, page.items), next_cursor=page.next_cursor)


async def _decide(
    session: AsyncSession, principal: Principal, case_id: str
) -> tuple[Row[Any], list[Row[Any]], str | None]:
    """The case, locked while this move is decided, its events and its responsible organisation; the caller must
    be one who may move it (O6)."""
    row = await repository.find_case(session, case_id, lock=True)
    if row is None:
        raise problems.case_not_found(case_id)
    events = (await repository.events_of(session, [case_id]))[case_id]
    _, responsible, _ = _standing(events)
    _check_sees(principal, row, responsible)
    return row, events, responsible


async def _organisation(lookups: Lookups, organisation_id: str) -> dict[str, Any]:
    found = await lookups.organisation(organisation_id)
    if found is None:
        raise problems.unknown_organisation(organisation_id)
    return found


async def _move(
    session: AsyncSession, principal: Principal, case_id: str, move: str, **event: Any
) -> CaseRead:
    row, events, _ = await _decide(session, principal, case_id)
    state = rules.next_state(move, events[-1].state)
    check = event.pop("check", None)
    if check is not None:
        check(row)
    await repository.append_event(session, {
        "case_id": case_id, "seq": events[-1].seq + 1, "action": state, "state": state, **event,
        **_recorded(principal),
    })
    return await get_case(session, principal, case_id)


async def assign(
    session: AsyncSession, principal: Principal, case_id: str, body: AssignIn, lookups: Lookups
) -> CaseRead:
    """O5 and O3: to an organisation of the case's region line, with a deadline after today (by default from the
    case's severity)."""
    organisation = await _organisation(lookups, body.organisation_id)  # asked before anything is written

    def check(row: Row[Any]) -> None:
        rules.check_assignee(str(organisation["kind"]), str(organisation["region_code"]), row.region_code)

    row = await repository.find_case(session, case_id)
    deadline = rules.deadline(row.severity if row is not None else "medium", body.deadline, clock.today())
    return await _move(session, principal, case_id, "assign", organisation_id=body.organisation_id,
                       deadline=deadline, note=body.note, check=check)


async def confirmed(
    brief: BriefReads, principal: Principal, store: EvidenceStore, documents: list[DocumentRef]
) -> list[dict[str, Any]]:
    """E1: each document a move cites is one the caller may cite (`may_cite`), kept intact in the evidence store, of
    that size and type; else 422 naming `documents.N.<field>`. One the caller may not cite is refused exactly as one
    never uploaded, before its size or type is compared. Read in a session of its own, before the move's unit of work
    begins (its asks of other services come first)."""
    refs = []
    for index, document in enumerate(documents):
        field = f"documents.{index}"
        try:
            refs.append((field, EvidenceRef.model_validate(document.model_dump())))
        except ValidationError as exc:
            error = exc.errors()[0]
            raise problems.bad_document(f"{field}.{error['loc'][0]}", error["msg"]) from None
    allowed = []
    if refs:
        async with brief() as session:
            allowed = [await may_cite(session, principal, ref.sha256) for _, ref in refs]
    kept = []
    for (field, ref), may in zip(refs, allowed, strict=True):  # the first document refused, in their order
        if not may:
            raise unknown_document(ref.sha256, field=field)
        kept.append((await store.confirm(ref, field=field)).model_dump())
    return kept


async def may_cite(session: AsyncSession, principal: Principal, sha256: str) -> bool:
    """E1 (who may cite a document): one the caller's organisation uploaded (a principal of none: one it uploaded
    itself); an inspector also one a case it sees cites already. Anything else is answered as a document never
    uploaded, so a hash learnt elsewhere neither attaches a document to a case nor tells that it exists."""
    if await repository.uploaded_by(session, sha256, organisation_id=principal.organisation_id,
                                    principal_id=principal.id):
        return True
    return principal.role == INSPECTOR and await cited_document(session, principal, sha256) is not None


async def record_upload(session: AsyncSession, principal: Principal, sha256: str) -> None:
    """E1: who uploaded the document (its organisation may cite it from now on), in the upload's unit of work."""
    await repository.record_upload(session, sha256, organisation_id=principal.organisation_id,
                                   principal_id=principal.id)


async def submit(
    session: AsyncSession, principal: Principal, case_id: str, body: RectificationIn, store: EvidenceStore,
    lookups: Lookups, brief: BriefReads,
) -> CaseRead:
    """The responsible organisation answers with its rectification (O6: its principals only, not an inspector),
    naming the funds reversals that recovered the money (O10: each asked of funds first; the money recovered is
    their sum when none is given)."""
    if principal.role == INSPECTOR:
        raise problems.not_answerable(case_id)
    documents = await confirmed(brief, principal, store, body.documents)
    reversals = await _reversals(lookups, body.reversal_ids)  # asked before anything is written
    money_recovered = body.money_recovered_fen
    if money_recovered is None and reversals:
        money_recovered = sum(int(r["amount_fen"]) for r in reversals)

    named: dict[str, str] = {}
    if body.reversal_ids:  # before the case's lock, in one order: two rectifications naming one reversal queue here
        await repository.lock_reversals(session, body.reversal_ids)
        named = await repository.cases_naming_reversals(session, body.reversal_ids, other_than=case_id)

    def check(row: Row[Any]) -> None:  # once the caller is known to answer this case (O6): nothing leaks before
        rules.check_reversals([(str(r["id"]), str(r["region_code"])) for r in reversals], row.region_code)
        rules.check_reversals_free(body.reversal_ids, named)

    return await _move(session, principal, case_id, "submit", note=body.note, documents=documents,
                       money_recovered_fen=money_recovered, reversal_ids=body.reversal_ids, check=check)


async def _reversals(lookups: Lookups, reversal_ids: list[str]) -> list[dict[str, Any]]:
    """O10: each reversal named, as funds answers it (asked once each); one funds does not know is 422 naming
    `reversal_ids.N`."""
    answered: dict[str, dict[str, Any]] = {}
    found = []
    for index, reversal_id in enumerate(reversal_ids):
        if reversal_id not in answered:
            reversal = await lookups.reversal(reversal_id)
            if reversal is None:
                raise problems.unknown_reversal(reversal_id, f"reversal_ids.{index}")
            answered[reversal_id] = reversal
        found.append(answered[reversal_id])
    return found


async def decide(session: AsyncSession, principal: Principal, case_id: str, move: str, body: DecisionIn) -> CaseRead:
    """An inspector's return, acceptance or closing, with a note."""
    _inspector_only(principal, case_id)
    return await _move(session, principal, case_id, move, note=body.note)


async def refer(
    session: AsyncSession, principal: Principal, case_id: str, body: ReferIn, lookups: Lookups, store: EvidenceStore,
    brief: BriefReads,
) -> CaseRead:
    """O7: to a discipline commission of the case's level or higher."""
    organisation = await _organisation(lookups, body.organisation_id)
    documents = await confirmed(brief, principal, store, body.documents)

    def check(row: Row[Any]) -> None:
        rules.check_referral(str(organisation["kind"]), str(organisation["region_code"]), row.region_code)

    _inspector_only(principal, case_id)
    return await _move(session, principal, case_id, "refer", organisation_id=body.organisation_id, note=body.note,
                       documents=documents, check=check)


async def record_accountability(
    session: AsyncSession, principal: Principal, case_id: str, body: AccountabilityIn, store: EvidenceStore,
    brief: BriefReads,
) -> CaseRead:
    """O8: once the case is accepted or referred."""
    _inspector_only(principal, case_id)
    documents = await confirmed(brief, principal, store, body.documents)
    _, events, _ = await _decide(session, principal, case_id)
    rules.check_accountability(events[-1].state)
    await repository.insert_accountability(session, {
        "id": new_id("acct"), "case_id": case_id, "person_name": body.person_name, "person_post": body.person_post,
        "measure": body.measure, "decided_on": body.decided_on, "decision_number": body.decision_number,
        "documents": documents, **_recorded(principal),
    })
    return await get_case(session, principal, case_id)


async def may_upload(session: AsyncSession, principal: Principal) -> None:
    """E1 with O6: an inspector, or a principal of an organisation made responsible for a case, uploads documents."""
    if principal.role == INSPECTOR:
        return
    if not principal.organisation_id or not await repository.has_case(session, principal.organisation_id):
        raise problems.no_case_to_document(principal.organisation_id)


async def cited_document(session: AsyncSession, principal: Principal, sha256: str) -> EvidenceRef | None:
    """E1 with O6: the reference kept of document `sha256` by a move or accountability record of a case the caller
    may see (as the record names it), or None: nobody learns a document exists from a case not theirs."""
    if principal.role == INSPECTOR:
        prefix, organisation_id = scope_prefix(principal, None), None
    elif principal.organisation_id:
        prefix, organisation_id = None, principal.organisation_id
    else:
        return None
    for case_id, document in await repository.citing(session, sha256, prefix=prefix,
                                                      organisation_id=organisation_id):
        row = await repository.find_case(session, case_id)
        if row is None:
            continue
        _, responsible, _ = _standing((await repository.events_of(session, [case_id]))[case_id])
        try:
            _check_sees(principal, row, responsible)
        except Problem:
            continue
        try:
            return EvidenceRef.model_validate(document)
        except ValidationError:  # a reference kept before E1's present checks: not one to serve, look further
            continue
    return None


def _inspector_only(principal: Principal, case_id: str) -> None:
    """O6: the inspector's moves are the inspector's (the gateway lets no other role reach them; this holds the
    service to it too)."""
    if principal.role != INSPECTOR:
        raise problems.not_answerable(case_id)


def _add(figures: ReportFigures, case: Row[Any], standing: rules.Standing, measures: list[str]) -> None:
    figures.opened += 1
    figures.closed_on_time += standing.closed_on_time
    figures.overdue += standing.overdue
    figures.referred += standing.referred
    for measure in measures:
        figures.accountability[measure] += 1
    figures.money_involved_fen += case.money_involved_fen
    figures.money_recovered_fen += standing.money_recovered_fen


def _figures() -> dict[str, Any]:
    return {"accountability": dict.fromkeys(rules.MEASURES, 0)}


async def report(
    session: AsyncSession, principal: Principal, *, region: str | None, start: date, end: date
) -> Report:
    """O11: the cases opened in [start, end] (days in China) in `region` (the caller must cover it; none: its
    jurisdiction), as they stand at the end of `end`, by responsible organisation. An inspector's are every such
    case; another role's (O6) those its organisation is responsible for then."""
    if start > end:
        raise problems.bad_period(start, end)
    prefix = scope_prefix(principal, region)
    organisation_id = None if principal.role == INSPECTOR else principal.organisation_id
    as_of = min(end, clock.today())
    since = datetime.combine(start, time(), clock.CHINA)
    until = datetime.combine(end + timedelta(days=1), time(), clock.CHINA)
    rows = [] if organisation_id == "" else await repository.report_cases(
        session, prefix=prefix, organisation_id=organisation_id, since=since, until=until)
    ids = [r.id for r in rows]
    events, measures = await repository.events_of(session, ids), await repository.accountability_of(session, ids)
    totals = ReportFigures(**_figures())
    by_organisation: dict[str | None, OrganisationFigures] = {}
    for row in rows:
        steps = [rules.Step(e.action, e.state, e.organisation_id, e.deadline, e.at.astimezone(clock.CHINA).date(),
                            e.money_recovered_fen) for e in events[row.id] if e.at < until]
        standing = rules.standing(steps, as_of)
        if organisation_id is not None and standing.responsible != organisation_id:
            continue
        recorded = [m.measure for m in measures[row.id] if m.at < until]
        figures = by_organisation.setdefault(
            standing.responsible, OrganisationFigures(organisation_id=standing.responsible, **_figures()))
        _add(figures, row, standing, recorded)
        _add(totals, row, standing, recorded)
    ordered = sorted(by_organisation.values(), key=lambda f: (f.organisation_id is None, f.organisation_id or ""))
    return Report(region_code=region or principal.region_code, from_=start, to=end, as_of=as_of,
                  organisations=ordered, totals=totals)
