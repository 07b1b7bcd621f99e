"""`fundtrack add-user` (issue #19): the first people of an installation, made on the running system through its
API with the built-in admin's token; refused as the API refuses."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import httpx

from tests.console.people import PASSWORD, Person
from tests.stack import Stack


async def _add_user(stack: Stack, *args: str) -> tuple[int, str]:
    env = {**os.environ, "FUNDTRACK_GATEWAY_URL": stack.gateway_url, "FUNDTRACK_ADMIN_TOKEN": stack.admin_token,
           "FUNDTRACK_NEW_PASSWORD": PASSWORD}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "deploy.cli", "add-user", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    return int(process.returncode or 0), out.decode()


async def test_add_user_makes_a_person_who_can_sign_in(stack: Stack) -> None:
    login = f"cli-{uuid.uuid4().hex[:8]}"
    code, out = await _add_user(stack, "--login", login, "--name", "县扶贫办 张三", "--role", "project_manager",
                                "--region", "430523")
    assert code == 0, out
    assert "/console/" in out
    client = httpx.AsyncClient(base_url=stack.gateway_url, timeout=30)
    person = Person(login, PASSWORD, "", "project_manager", "430523", client)
    try:
        assert (await person.sign_in()).status_code == 303
    finally:
        await person.aclose()


async def test_add_user_says_what_the_api_refused(stack: Stack) -> None:
    code, out = await _add_user(stack, "--login", "x", "--name", "n", "--role", "finance", "--region", "430523")
    assert code == 1 and "refused (422)" in out and "login" in out
