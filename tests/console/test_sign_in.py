"""People sign in (issue #19, S18–S20): accounts made by an admin, passwords as argon2id hashes, sessions in
PostgreSQL behind an HttpOnly SameSite=Strict cookie, CSRF on every state-changing request a cookie authenticates,
lockout after repeated failures; and a person acts through the same API and policy as a key, named in the trail."""

from __future__ import annotations

import asyncpg

from gateway.ratelimit import over_tls
from services.kernel.settings import proxy_networks
from tests.conftest import Api, MakePrincipal, wait_for_audit
from tests.console.people import PASSWORD, make_person
from tests.stack import Stack


async def test_an_admin_makes_a_user_who_signs_in_with_a_session_cookie(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000", sign_in=False)
    try:
        answer = await person.sign_in()
        assert answer.status_code == 303
        assert answer.headers["location"] == "/console/"
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("ft_session="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
        assert "Secure" not in cookie  # plain http in the tests; Secure over TLS (test below)
        home = await person.client.get("/console/")
        assert home.status_code == 200
        assert person.login in home.text and "纪检监察" in home.text
        assert "default-src 'self'" in home.headers["content-security-policy"]
    finally:
        await person.aclose()


async def test_a_forwarded_proto_from_a_stranger_is_not_believed(admin: Api, stack: Stack) -> None:
    """X-Forwarded-Proto is anyone's to write: only a configured proxy's makes the cookie Secure (below)."""
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        person.client.headers["x-forwarded-proto"] = "https"
        answer = await person.sign_in()
        assert answer.status_code == 303
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("ft_session="))
        assert "Secure" not in cookie
    finally:
        await person.aclose()


def test_the_cookie_is_secure_over_tls_direct_or_through_a_configured_proxy() -> None:
    proxies = proxy_networks("10.0.0.0/8")
    assert over_tls("https", "203.0.113.9", None, proxies)
    assert over_tls("http", "10.1.2.3", "https", proxies)
    assert not over_tls("http", "203.0.113.9", "https", proxies)
    assert not over_tls("http", "10.1.2.3", "http", proxies)


async def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        wrong = await person.sign_in(password="not the password at all")
        assert wrong.status_code == 401 and "登录名或密码错误" in wrong.text
        assert not [c for c in wrong.headers.get_list("set-cookie") if c.startswith("ft_session=")]
        person.login = "nobody-" + person.login
        unknown = await person.sign_in()
        assert unknown.status_code == 401 and "登录名或密码错误" in unknown.text
    finally:
        await person.aclose()


async def test_the_sign_in_form_refuses_a_post_without_its_own_token(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        forged = await person.client.post(
            "/console/login", data={"login": person.login, "password": PASSWORD, "pre": "forged"}
        )
        assert forged.status_code == 403
        assert not [c for c in forged.headers.get_list("set-cookie") if c.startswith("ft_session=")]
    finally:
        await person.aclose()


async def test_five_failures_lock_the_login_even_against_the_right_password(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    try:
        for _ in range(4):
            assert (await person.sign_in(password="wrong password 123")).status_code == 401
        assert (await person.sign_in()).status_code == 303  # four failures: not yet locked; a success resets
        person.client.cookies.clear()
        for _ in range(5):
            assert (await person.sign_in(password="wrong password 123")).status_code == 401
        locked = await person.sign_in()
        assert locked.status_code == 401 and "锁定" in locked.text
    finally:
        await person.aclose()


async def test_a_person_acts_through_the_api_with_their_role_and_is_named_in_the_trail(
    admin: Api, stack: Stack
) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000")
    try:
        alerts = await person.api("GET", "/alerts")
        assert alerts.status_code == 200, alerts.text
        refused = await person.api("POST", "/admin/principals", json={"name": "x", "role": "admin",
                                                                        "region_code": "430000"})
        assert refused.status_code == 403 and refused.json()["code"] == "FORBIDDEN"  # the role, as for a key
        await wait_for_audit(admin)
        trail = await admin.get("/audit", params={"principal_id": person.principal_id})
        assert trail.status_code == 200
        paths = {(e["method"], e["path"], e["status"]) for e in trail.json()["items"]}
        assert ("GET", "/alerts", 200) in paths and ("POST", "/admin/principals", 403) in paths
    finally:
        await person.aclose()


async def test_a_state_change_by_cookie_needs_the_csrf_token(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000")
    try:
        body = {"kind": "complaint", "region_code": "430000", "summary": "csrf probe"}
        without = await person.api("POST", "/oversight/cases", csrf=False, json=body)
        assert without.status_code == 403 and without.json()["code"] == "CSRF_REJECTED"
        assert without.json()["rule"] == "S20"
        wrong = await person.api("POST", "/oversight/cases", csrf=False, json=body,
                                 headers={"x-csrf-token": "0" * 64})
        assert wrong.status_code == 403 and wrong.json()["code"] == "CSRF_REJECTED"
        with_token = await person.api("POST", "/oversight/cases", json=body)
        assert with_token.json().get("code") != "CSRF_REJECTED", with_token.text
    finally:
        await person.aclose()


async def test_signing_out_ends_the_session_for_the_api_too(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000")
    try:
        assert (await person.api("GET", "/alerts")).status_code == 200
        no_token = await person.client.post("/console/logout", data={})
        assert no_token.status_code == 403  # a sign-out is a state change too (S20)
        out = await person.client.post("/console/logout", data={"csrf_token": person.csrf})
        assert out.status_code == 303
        person.client.cookies.clear()
        token_cookie = next(c for c in no_token.request.headers["cookie"].split("; ") if c.startswith("ft_session="))
        again = await person.client.get("/alerts", headers={"cookie": token_cookie})
        assert again.status_code == 401
        page = await person.client.get("/console/", headers={"cookie": token_cookie})
        assert page.status_code == 303 and page.headers["location"].startswith("/console/login")
    finally:
        await person.aclose()


async def test_a_revoked_person_is_signed_out_at_once(admin: Api, stack: Stack) -> None:
    person = await make_person(admin, stack.gateway_url, "inspector", "430000")
    try:
        assert (await person.api("GET", "/alerts")).status_code == 200
        assert (await admin.delete(f"/admin/principals/{person.principal_id}")).status_code == 200
        assert (await person.api("GET", "/alerts")).status_code == 401
        assert (await person.sign_in()).status_code == 401
    finally:
        await person.aclose()


async def test_an_admin_makes_users_only_in_its_jurisdiction(
    admin: Api, stack: Stack, make_principal: MakePrincipal
) -> None:
    hunan_admin = await make_principal("admin", "430000")
    inside = await make_person(hunan_admin, stack.gateway_url, "finance", "430100", sign_in=False)
    await inside.aclose()
    outside = await hunan_admin.post(
        "/admin/users",
        json={"login": "guizhou-x", "password": PASSWORD, "name": "x", "role": "finance", "region_code": "520000"},
    )
    assert outside.status_code == 403 and outside.json()["field"] == "region_code"
    taken = await admin.post(
        "/admin/users",
        json={"login": inside.login.upper(), "password": PASSWORD, "name": "y", "role": "finance",
              "region_code": "430100"},
    )
    assert taken.status_code == 409 and taken.json()["code"] == "LOGIN_TAKEN"
    short = await admin.post(
        "/admin/users",
        json={"login": "short-pw", "password": "short", "name": "y", "role": "finance", "region_code": "430100"},
    )
    assert short.status_code == 422 and short.json()["field"] == "password"


async def test_passwords_are_kept_only_as_argon2id_hashes(admin: Api, stack: Stack, db: asyncpg.Pool) -> None:
    person = await make_person(admin, stack.gateway_url, "finance", "430000", sign_in=False)
    await person.aclose()
    stored = await db.fetchval(
        "SELECT password_hash FROM gateway.user_passwords WHERE principal_id = $1", person.principal_id
    )
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
