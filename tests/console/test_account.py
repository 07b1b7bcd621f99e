"""A person's own account (issue #19): who I am (GET /me), my password (S22), my second factor (S21), through the
gateway as the person (httpx, session cookie and CSRF token) and through the console's account page."""

from __future__ import annotations

import re

import asyncpg
import httpx
import pytest

from gateway import totp
from tests.conftest import Api, MakePrincipal
from tests.console.codes import code_at, steady_step
from tests.console.people import PASSWORD, Person, make_person
from tests.stack import Stack

NEW_PASSWORD = "a new and longer passphrase"
IDEMPOTENCY = re.compile(r'name="idempotency_key" value="([^"]+)"')


async def _enrolled(person: Person) -> tuple[str, int]:
    """The second factor turned on (S21): its secret, and the current step (the one before it used to confirm)."""
    enrolled = await person.api("POST", "/me/totp", json={"current_password": PASSWORD})
    assert enrolled.status_code == 201, enrolled.text
    secret = str(enrolled.json()["secret"])
    step = steady_step()
    confirmed = await person.api("POST", "/me/totp/confirm", json={"code": code_at(secret, step - 1)})
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "enabled", confirmed.text
    return secret, step


async def test_who_am_i_as_a_person_and_as_a_key(admin: Api, stack: Stack, make_principal: MakePrincipal) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        me = await person.api("GET", "/me")
        assert me.status_code == 200, me.text
        assert me.json()["login"] == person.login and me.json()["principal_id"] == person.principal_id
        assert me.json()["totp_enabled"] is False and me.json()["totp_pending"] is False
    finally:
        await person.aclose()
    key = await make_principal("finance", "430000")
    keyed = await key.get("/me")
    assert keyed.status_code == 200 and keyed.json()["login"] is None and keyed.json()["role"] == "finance"
    for path, body in (("/me/password", {"current_password": "x", "new_password": NEW_PASSWORD}),
                       ("/me/totp", {"current_password": "x"}), ("/me/totp/confirm", {"code": "123456"})):
        refused = await key.post(path, json=body)
        assert refused.status_code == 409 and refused.json()["code"] == "NOT_A_PERSON", (path, refused.text)


async def test_a_person_changes_their_password_and_their_other_sessions_end(
    admin: Api, stack: Stack, db: asyncpg.Pool
) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000")
    elsewhere = Person(person.login, PASSWORD, person.principal_id, person.role, person.region_code,
                       httpx.AsyncClient(base_url=stack.gateway_url, timeout=60, follow_redirects=False))
    assert (await elsewhere.sign_in()).status_code == 303  # the same person, signed in a second time
    try:
        wrong = await person.api("POST", "/me/password", json={"current_password": "not it at all",
                                                                "new_password": NEW_PASSWORD})
        assert wrong.status_code == 422, wrong.text
        assert (wrong.json()["code"], wrong.json()["field"], wrong.json()["rule"]) == (
            "WRONG_PASSWORD", "current_password", "S22")
        same = await person.api("POST", "/me/password", json={"current_password": PASSWORD, "new_password": PASSWORD})
        assert same.status_code == 422 and same.json()["code"] == "PASSWORD_UNCHANGED"
        short = await person.api("POST", "/me/password", json={"current_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 422 and short.json()["field"] == "new_password"
        no_csrf = await person.api("POST", "/me/password", csrf=False,
                                   json={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
        assert no_csrf.status_code == 403 and no_csrf.json()["code"] == "CSRF_REJECTED"
        changed = await person.api("POST", "/me/password", json={"current_password": PASSWORD,
                                                                  "new_password": NEW_PASSWORD})
        assert changed.status_code == 200, changed.text
        assert changed.json()["sessions_ended"] == 1  # the other sign-in
        assert (await person.api("GET", "/me")).status_code == 200  # this session goes on
        assert (await elsewhere.api("GET", "/me")).status_code == 401  # the other one ended
        reasons = await db.fetch(
            "SELECT e.reason FROM gateway.session_ends e JOIN gateway.sessions s USING (token_sha256) "
            "WHERE s.principal_id = $1", person.principal_id)
        assert {r["reason"] for r in reasons} == {"password_changed"}
        hashes = await db.fetchval("SELECT count(*) FROM gateway.user_passwords WHERE principal_id = $1",
                                   person.principal_id)
        assert hashes == 2  # a new row; the old one kept (append-only)
        elsewhere.client.cookies.clear()
        assert (await elsewhere.sign_in()).status_code == 401  # the old password no longer signs in
        assert (await elsewhere.sign_in(password=NEW_PASSWORD)).status_code == 303
    finally:
        await person.aclose()
        await elsewhere.aclose()


async def test_totp_enrol_confirm_sign_in_once_per_code_and_turn_off(
    admin: Api, stack: Stack, db: asyncpg.Pool
) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        enrolled = await person.api("POST", "/me/totp", json={"current_password": PASSWORD})
        assert enrolled.status_code == 201, enrolled.text
        secret, uri = enrolled.json()["secret"], enrolled.json()["otpauth_uri"]
        assert uri.startswith("otpauth://totp/FundTrack:") and f"secret={secret}" in uri and person.login in uri
        assert (await person.api("GET", "/me")).json()["totp_pending"] is True
        stored = await db.fetchval("SELECT secret_encrypted FROM gateway.user_totp WHERE principal_id = $1 "
                                   "ORDER BY id DESC LIMIT 1", person.principal_id)
        assert secret not in stored  # encrypted at rest, under the service secret's key
        assert totp.fernet_for(stack.secret).decrypt(stored.encode()).decode() == secret
        step = steady_step()
        wrong = await person.api("POST", "/me/totp/confirm", json={"code": code_at(secret, step + 5)})
        assert wrong.status_code == 422, wrong.text
        assert (wrong.json()["code"], wrong.json()["field"], wrong.json()["rule"]) == ("TOTP_WRONG", "code", "S21")
        confirmed = await person.api("POST", "/me/totp/confirm", json={"code": code_at(secret, step - 1)})
        assert confirmed.status_code == 200 and confirmed.json()["state"] == "enabled"
        again = await person.api("POST", "/me/totp", json={"current_password": PASSWORD})
        assert again.status_code == 409 and again.json()["code"] == "TOTP_ENABLED"

        person.client.cookies.clear()
        without = await person.sign_in()
        assert without.status_code == 401 and "请输入验证器应用显示的动态验证码" in without.text
        wrong_code = await person.sign_in(totp=code_at(secret, step + 5))
        assert wrong_code.status_code == 401 and "动态验证码错误" in wrong_code.text
        assert (await person.sign_in(totp=code_at(secret, step))).status_code == 303
        person.client.cookies.clear()
        replayed = await person.sign_in(totp=code_at(secret, step))
        assert replayed.status_code == 401, "a code is accepted once"
        earlier = await person.sign_in(totp=code_at(secret, step - 1))
        assert earlier.status_code == 401, "nor a code of a step before the last one accepted"
        reasons = [r["reason"] for r in await db.fetch(
            "SELECT reason FROM gateway.sign_in_attempts WHERE login = $1 ORDER BY id", person.login)]
        assert reasons[-5:] == ["TOTP_REQUIRED", "TOTP_WRONG", "ok", "TOTP_WRONG", "TOTP_WRONG"]

        assert (await person.sign_in(totp=code_at(secret, step + 1))).status_code == 303
        used = await person.api("POST", "/me/totp/disable", json={"code": code_at(secret, step + 1)})
        assert used.status_code == 422 and used.json()["code"] == "TOTP_WRONG"  # used to sign in just now
        assert (await person.api("GET", "/me")).json()["totp_enabled"] is True
        states = [r["state"] for r in await db.fetch(
            "SELECT state FROM gateway.user_totp WHERE principal_id = $1 ORDER BY id", person.principal_id)]
        assert states == ["pending", "enabled"]
    finally:
        await person.aclose()


async def test_totp_is_turned_off_with_a_current_code(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        secret, step = await _enrolled(person)
        off = await person.api("POST", "/me/totp/disable", json={"code": code_at(secret, step)})
        assert off.status_code == 200 and off.json()["state"] == "disabled", off.text
        assert (await person.api("GET", "/me")).json()["totp_enabled"] is False
        twice = await person.api("POST", "/me/totp/disable", json={"code": code_at(secret, step + 1)})
        assert twice.status_code == 409 and twice.json()["code"] == "TOTP_NOT_ENABLED"
        person.client.cookies.clear()
        assert (await person.sign_in()).status_code == 303  # no code asked any more
    finally:
        await person.aclose()


@pytest.mark.parametrize("where", ["sign-in", "account"])
async def test_wrong_codes_count_towards_the_lockout(admin: Api, stack: Stack, where: str) -> None:
    """S19 with S21: a wrong code is a failure like a wrong password, at sign-in and on one's own account."""
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        secret, step = await _enrolled(person)
        if where == "account":
            for _ in range(5):
                wrong = await person.api("POST", "/me/totp/disable", json={"code": code_at(secret, step + 7)})
                assert wrong.status_code == 422 and wrong.json()["code"] == "TOTP_WRONG"
            locked = await person.api("POST", "/me/totp/disable", json={"code": code_at(secret, step)})
            assert locked.status_code == 403
            assert (locked.json()["code"], locked.json()["rule"]) == ("LOCKED_OUT", "S19")
        person.client.cookies.clear()
        if where == "sign-in":
            for _ in range(5):
                assert (await person.sign_in(totp=code_at(secret, step + 7))).status_code == 401
        refused = await person.sign_in(totp=code_at(secret, step + 1))
        assert refused.status_code == 401 and "锁定" in refused.text
    finally:
        await person.aclose()


async def test_the_account_page_changes_the_password_and_shows_a_refusal_next_to_its_field(
    admin: Api, stack: Stack
) -> None:
    person = await make_person(admin, stack.gateway_url, "project_manager", "520000")
    try:
        shown = await person.client.get("/console/account")
        assert shown.status_code == 200 and person.login in shown.text
        key = IDEMPOTENCY.search(shown.text)
        assert key is not None
        refused = await person.client.post("/console/account/password", data={
            "csrf_token": person.csrf, "idempotency_key": key.group(1), "current_password": "not the password",
            "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
        assert refused.status_code == 422
        assert 'id="e-current_password"' in refused.text and "S22" in refused.text and "当前密码错误" in refused.text
        mismatch = await person.client.post("/console/account/password", data={
            "csrf_token": person.csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD + "x"})
        assert mismatch.status_code == 422 and 'id="e-new_password_again"' in mismatch.text
        forged = await person.client.post("/console/account/password", data={
            "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
        assert forged.status_code == 403  # no CSRF token (S20): nothing done
        changed = await person.client.post("/console/account/password", data={
            "csrf_token": person.csrf, "current_password": PASSWORD, "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD})
        assert changed.status_code == 303 and changed.headers["location"] == "/console/account?done=password"
        done = await person.client.get(changed.headers["location"])
        assert "密码已修改" in done.text
        person.client.cookies.clear()
        assert (await person.sign_in(password=NEW_PASSWORD)).status_code == 303
    finally:
        await person.aclose()


async def test_the_account_page_turns_totp_on_showing_the_secret_once(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "lender", "430000")
    try:
        enrolled = await person.client.post("/console/account/totp",
                                            data={"csrf_token": person.csrf, "password_for_totp": PASSWORD})
        assert enrolled.status_code == 200
        secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', enrolled.text)
        assert secret is not None and "otpauth://totp/FundTrack" in enrolled.text
        step = steady_step()
        wrong = await person.client.post("/console/account/totp/confirm", data={
            "csrf_token": person.csrf, "code": code_at(secret.group(1), step + 6)})
        assert wrong.status_code == 422 and 'id="e-code"' in wrong.text and "S21" in wrong.text
        assert secret.group(1) not in wrong.text  # shown once, in the enrolment's answer only
        right = await person.client.post("/console/account/totp/confirm", data={
            "csrf_token": person.csrf, "code": code_at(secret.group(1), step)})
        assert right.status_code == 303
        page = await person.client.get(right.headers["location"])
        assert "动态验证码已启用" in page.text and 'action="/console/account/totp/disable"' in page.text
    finally:
        await person.aclose()


async def test_a_second_factor_is_put_on_only_with_the_persons_password(admin: Api, stack: Stack) -> None:
    """S21: a stolen session alone cannot put its own second factor on, and lock the person out."""
    person = await make_person(admin, stack.gateway_url, "finance", "430000")
    try:
        wrong = await person.api("POST", "/me/totp", json={"current_password": "not the password"})
        assert wrong.status_code == 422 and wrong.json()["code"] == "WRONG_PASSWORD"
        assert wrong.json()["field"] == "current_password"
        missing = await person.api("POST", "/me/totp", json={})
        assert missing.status_code == 422 and missing.json()["field"] == "current_password"
        assert (await person.api("GET", "/me")).json()["totp_pending"] is False
        right = await person.api("POST", "/me/totp", json={"current_password": PASSWORD})
        assert right.status_code == 201 and right.json()["state"] == "pending"
    finally:
        await person.aclose()
