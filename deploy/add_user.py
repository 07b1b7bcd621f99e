"""`fundtrack add-user`: a person's account made on the running system, through its public API with the built-in
admin's token (issue #19): the first people of a new installation, before any admin person exists. The password is
read from FUNDTRACK_NEW_PASSWORD or asked for (never an argument: it would stay in the shell's history)."""

from __future__ import annotations

import argparse
import getpass
import json
import os

import httpx

from deploy import supervisor
from services.kernel.topology import gateway_url

ROLES = ("admin", "finance", "project_manager", "lender", "inspector")


def add_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    command = commands.add_parser(
        "add-user", help="make a person's console account on the running system (password asked for)"
    )
    command.add_argument("--login", required=True)
    command.add_argument("--name", required=True)
    command.add_argument("--role", required=True, choices=ROLES)
    command.add_argument("--region", required=True, help="the jurisdiction's region code, e.g. 430000")
    command.add_argument("--organisation", help="the organisation (单位) id; none: a new one for this person")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gateway.auth import admin_token

    password = os.environ.get("FUNDTRACK_NEW_PASSWORD") or getpass.getpass("password (12 characters or more): ")
    body = {"login": args.login, "password": password, "name": args.name, "role": args.role,
            "region_code": args.region}
    if args.organisation:
        body["organisation_id"] = args.organisation
    token = admin_token(str(supervisor.data_dir()))
    try:
        answer = httpx.post(f"{gateway_url()}/admin/users", json=body, headers={"authorization": f"Bearer {token}"},
                            timeout=30)
    except httpx.HTTPError as error:
        supervisor.say(f"the gateway at {gateway_url()} did not answer ({error}): is `fundtrack up` running?")
        return 2
    if answer.status_code != 201:
        supervisor.say(f"refused ({answer.status_code}): {answer.text}")
        return 1
    made = answer.json()
    supervisor.say(f"user {made['login']} ({made['role']}, {made['region_code']}) made: sign in at "
                   f"{gateway_url()}/console/")
    print(json.dumps(made, ensure_ascii=False))
    return 0
