"""deploy/compose/compose.yaml as written, run without a container engine (none runs on these machines): its
migration job and the five processes, each with the command and the environment the compose file gives it (its
variables interpolated from an .env like env.example's), on loopback against a fresh database. Only what a container
network changes is mapped: the hostnames (`postgres`, `funds`, …) and ports to free loopback ones, and the paths
of the mounted secret and volume to temporary ones. So a variable the compose file forgets or misnames, a role's
URL that does not log in, a health check that never answers or a gateway that cannot reach a service fails here."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import yaml

from deploy.migrate import url_as
from services.kernel.orphans import die_with_parent
from services.kernel.topology import SERVICES, ServiceSpec
from tests.stack import TestDatabase, create_test_database, free_port_block, workdir

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose" / "compose.yaml"
ENV_EXAMPLE = COMPOSE.parent / "env.example"
ORIGIN = "compose-test.example/audit"
START_SECONDS = 60.0
GATEWAY = ServiceSpec("gateway", 8000, "gateway.app:app")  # where the services reach it (FUNDTRACK_GATEWAY_URL)


def dot_env() -> dict[str, str]:
    """An .env as an operator fills env.example in: every variable it names, given a random hex value."""
    names = re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE)
    env = {name: secrets.token_hex(16) for name in names}
    env.update(
        FUNDTRACK_ADMIN_TOKEN="ft_admin_" + secrets.token_hex(16),
        FUNDTRACK_AUDIT_ORIGIN=ORIGIN,
        FUNDTRACK_DB_POOL_SIZE="2",
        FUNDTRACK_GATEWAY_DB_POOL_SIZE="4",
        FUNDTRACK_AUDIT_VERIFY_WORKERS="1",
        FUNDTRACK_DETECTOR_HOUR="-1",
    )
    for name in ("FUNDTRACK_IMAGE", "FUNDTRACK_PUBLISH", "FUNDTRACK_TRUSTED_PROXIES"):
        env.pop(name, None)
    return env


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (an unset required variable is a failure)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        if env.get(name):
            return env[name]
        assert op != ":?", f"{name} is required by the compose file: {arg}"
        return arg if op == ":-" else ""

    return re.sub(r"\$\{([A-Z0-9_]+)(?:(:-|:\?)([^}]*))?\}", one, value)


class Mapping:
    """Container network → loopback: service hostnames and ports, the database, the mounted paths."""

    def __init__(self, database_url: str, tmp: Path) -> None:
        base = free_port_block(len(SERVICES) + 1)
        self.ports = {8000: base + len(SERVICES) + 1,
                      **{spec.default_port: base + i for i, spec in enumerate(SERVICES.values(), 1)}}
        self.database_url = database_url
        self.paths = {"/run/secrets/audit_signing_key": str(tmp / "audit-signing.key"),
                      "/var/lib/fundtrack/witness": str(tmp / "witness")}

    def value(self, text: str) -> str:
        if text.startswith("postgresql://"):  # the same user and password, on the test database
            parts = urlsplit(text)
            assert parts.hostname == "postgres" and parts.path == "/fundtrack", text
            return url_as(self.database_url, parts.username or "", parts.password or "")
        for name, spec in {**SERVICES, "gateway": GATEWAY}.items():
            text = text.replace(f"http://{name}:{spec.default_port}", f"http://127.0.0.1:{self.ports[spec.default_port]}")
        text = re.sub(r"http://127\.0\.0\.1:(8000|810[1-9])\b", lambda m: f"http://127.0.0.1:{self.ports[int(m[1])]}",
                      text)
        return self.paths.get(text, text)

    def command(self, command: list[str]) -> list[str]:
        if command[0] == "fundtrack":
            return [sys.executable, "-m", "deploy.cli", *command[1:]]
        assert command[0] == "uvicorn", command
        mapped = [sys.executable, "-m", "uvicorn", *command[1:]]
        mapped[mapped.index("--host") + 1] = "127.0.0.1"
        port = mapped.index("--port") + 1
        mapped[port] = str(self.ports[int(mapped[port])])
        return mapped


def process_env(service: dict[str, Any], env: dict[str, str], mapping: Mapping, data_dir: Path) -> dict[str, str]:
    """What the container would see: the image's ENV, then the service's environment."""
    data_dir.mkdir(parents=True, exist_ok=True)
    image = {"PATH": os.environ["PATH"], "HOME": str(data_dir), "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
             "FUNDTRACK_ENV": "production", "FUNDTRACK_DATA_DIR": str(data_dir)}
    given = {k: mapping.value(interpolate(str(v), env)) for k, v in (service.get("environment") or {}).items()}
    return {**image, **given}


def health_url(service: dict[str, Any], mapping: Mapping) -> str:
    test = " ".join(service["healthcheck"]["test"])
    (url,) = re.findall(r"http://127\.0\.0\.1:\d+/\w+", test)
    return mapping.value(url)


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{url}: the process exited with {process.returncode}"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer 200 within {START_SECONDS:.0f}s")


def test_the_compose_files_processes_run_as_written() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    env = dot_env()
    tmp = workdir()
    database: TestDatabase = asyncio.run(create_test_database(tmp))
    children: list[subprocess.Popen[bytes]] = []
    try:
        mapping = Mapping(database.url, tmp)
        key = subprocess.run(  # as the README makes it (mode 600; chowned to the image's user)
            [sys.executable, "-m", "deploy.cli", "audit", "new-key", "--out",
             mapping.paths["/run/secrets/audit_signing_key"]],
            env={**os.environ, "FUNDTRACK_AUDIT_ORIGIN": ORIGIN}, capture_output=True, text=True, timeout=60,
        )
        assert key.returncode == 0, key.stderr
        migrate = compose["migrate"]
        done = subprocess.run(mapping.command(migrate["command"]),
                              env=process_env(migrate, env, mapping, tmp / "migrate"),
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "per-process login roles: yes" in done.stderr  # every process logs in as its own role below

        def start(name: str) -> None:
            service = compose[name]
            process = subprocess.Popen(  # noqa: PLW1509 - dies with the test run
                mapping.command(service["command"]), env=process_env(service, env, mapping, tmp / name),
                preexec_fn=die_with_parent,
            )
            children.append(process)
            wait_ready(health_url(service, mapping), process)

        for name in SERVICES:
            start(name)
        start("gateway")
        gateway = f"http://127.0.0.1:{mapping.ports[8000]}"
        ready = httpx.get(f"{gateway}/readyz", timeout=5).json()
        assert ready["ready"] is True and all(ready["checks"].values()), ready
        admin = {"Authorization": f"Bearer {env['FUNDTRACK_ADMIN_TOKEN']}"}
        assert httpx.get(f"{gateway}/funds/sources", headers=admin, timeout=10).status_code == 200
        # the oversight service asks the gateway's internal API at FUNDTRACK_GATEWAY_URL (an organisation)
        bureau = httpx.post(f"{gateway}/admin/organisations", headers=admin, timeout=10, json={
            "name": "县财政局", "kind": "finance_bureau", "region_code": "430523"}).json()["id"]
        key = httpx.post(f"{gateway}/admin/principals", headers=admin, timeout=10, json={
            "name": "督查", "role": "inspector", "region_code": "430523"}).json()["api_key"]
        inspector = {"Authorization": f"Bearer {key}"}
        case = httpx.post(f"{gateway}/oversight/cases", headers=inspector, timeout=10, json={
            "region_code": "430523", "title": "举报", "complaint_ref": "C-1"}).json()["id"]
        assigned = httpx.post(f"{gateway}/oversight/cases/{case}/assign", headers=inspector, timeout=10,
                              json={"organisation_id": bureau})
        assert assigned.status_code == 200 and assigned.json()["state"] == "assigned", assigned.text
        deadline = time.monotonic() + 20
        while not any(Path(mapping.paths["/var/lib/fundtrack/witness"]).glob("checkpoint-*.txt")):
            assert time.monotonic() < deadline, "no checkpoint was written to the witness volume"
            time.sleep(0.5)
        verified = httpx.get(f"{gateway}/audit/verify", headers=admin, timeout=30).json()
        assert verified["ok"] is True, verified
        # The containers' root filesystem is read-only (x-image: read_only), /tmp and the volumes aside: nothing is
        # written to the data directory (also $HOME), which in a container is the image's, not a volume.
        for name in ("migrate", *SERVICES, "gateway"):
            assert not any((tmp / name).iterdir()), f"{name} wrote {sorted((tmp / name).iterdir())}"
    finally:
        for child in reversed(children):  # the gateway first, as compose stops it before the services it depends on
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        asyncio.run(database.drop())
