"""L19 through the gateway: credit evaluations (授信) recorded in bulk from a CSV, line by line; a loan above the
household's latest recorded limit before its issue date is LOAN_ABOVE_CREDIT_LINE (an alert, not a refusal)."""

from __future__ import annotations

from typing import Any

from services.loans import codes
from tests.conftest import Api, scan_alerts
from tests.loans.conftest import Household, Seed
from tests.loans.helpers import household_id, loan_body

HEADER = ",".join(codes.CREDIT_LINES_HEADER)


async def upload(lender: Api, *lines: str, content_type: str = "text/csv") -> Any:
    body = "\n".join([HEADER, *lines]) + "\n"
    return await lender.post("/loans/credit-lines/import", content=body.encode(),
                             headers={"content-type": content_type})


def line(h: Household, limit_fen: int | str, evaluated_on: str, grade: str = "AA") -> str:
    return f"{h.household_id},{h.county_code},县农商银行,{limit_fen},{evaluated_on},{grade}"


async def test_good_lines_are_recorded_and_bad_ones_reported(lender: Api, seed: Seed) -> None:
    h, late = await seed(), await seed(effective_on="2019-01-01")
    answer = await upload(
        lender,
        line(h, 3_000_000, "2018-01-10"),
        line(h, "-5", "2018-01-10"),
        line(h, 3_000_000, "2018-02-30"),
        f"{h.household_id},450101,县农商银行,100,2018-01-10,A",
        line(late, 100, "2018-06-01"),  # not on the roster on the evaluation's day
        f"{household_id()},{h.county_code},县农商银行,100,2018-01-10,A",
        "too,few",
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["imported"] == 1
    assert [(r["line"], r["code"], r["field"]) for r in result["rejected"]] == [
        (3, "VALIDATION_ERROR", "limit_fen"), (4, "VALIDATION_ERROR", "evaluated_on"),
        (5, "NOT_IN_JURISDICTION", "county_code"), (6, codes.BORROWER_NOT_REGISTERED, "household_id"),
        (7, codes.BORROWER_NOT_REGISTERED, "household_id"), (8, "VALIDATION_ERROR", "line"),
    ]


async def test_a_file_that_is_not_the_csv_is_refused(lender: Api, inspector: Api) -> None:
    wrong_type = await upload(lender, content_type="application/pdf")
    assert wrong_type.status_code == 415, wrong_type.text
    wrong_header = await lender.post("/loans/credit-lines/import", content=b"a,b\n1,2\n",
                                     headers={"content-type": "text/csv"})
    assert wrong_header.status_code == 422 and wrong_header.json()["field"] == "body", wrong_header.text
    nul = await upload(lender, "HH1,\x00,县农商银行,1,2018-01-10,A")
    assert nul.status_code == 200 and nul.json()["rejected"] == [{"line": 2, "code": "VALIDATION_ERROR",
                                                                  "field": "county_code"}], nul.text
    huge = await upload(lender, "x" * 200_000)  # over the csv module's field limit: not a bank's export
    assert huge.status_code == 422 and huge.json()["field"] == "body", huge.text
    assert (await upload(inspector)).status_code == 403


async def above(inspector: Api, county: str) -> dict[str, dict[str, Any]]:
    response = await inspector.get("/alerts", params={"type": codes.ALERT_LOAN_ABOVE_CREDIT_LINE, "region": county,
                                                      "limit": 500})
    assert response.status_code == 200, response.text
    return {a["subject"]["id"]: a for a in response.json()["items"]}


async def test_a_loan_above_the_latest_credit_line_is_alerted_not_refused(
    admin: Api, lender: Api, inspector: Api, seed: Seed, county: str
) -> None:
    within_h, over_h, raised_h, none_h = await seed(), await seed(), await seed(), await seed()
    answer = await upload(lender, line(within_h, 3_000_000, "2018-01-10"), line(over_h, 2_000_000, "2018-01-10"),
                          line(raised_h, 1_000_000, "2017-06-01"), line(raised_h, 3_000_000, "2018-01-10", "AAA"),
                          line(raised_h, 100, "2018-04-01"))  # after the loan: not the one that counts
    assert answer.json()["imported"] == 5, answer.text

    async def lend(h: Household) -> str:
        made = await lender.post("/loans", json=loan_body(h.household_id, h.head_id_number, amount_fen=3_000_000))
        assert made.status_code == 201, made.text  # above the line or not: the loan is made
        return str(made.json()["id"])

    within, over, raised, none = [await lend(h) for h in (within_h, over_h, raised_h, none_h)]
    await scan_alerts(admin, "2018-03-15")
    found = await above(inspector, county)
    assert set(found) == {over}, found
    facts = found[over]["facts"]
    assert (facts["amount_fen"], facts["limit_fen"], facts["evaluated_on"], facts["rule"]) == (
        3_000_000, 2_000_000, "2018-01-10", "L19")
    assert not {within, raised, none} & set(found)
