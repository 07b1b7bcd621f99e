"""`fundtrack up` as a user runs it: embedded PostgreSQL, migrations, the processes; it stops cleanly on
SIGTERM leaving no process behind, keeps its data between runs, and stops everything if one child dies."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from services.kernel.topology import SERVICE_OFFSETS
from tests.stack import free_port_block

# The gateway's port after the services' block (the services at FUNDTRACK_SERVICE_PORT_BASE + their offsets).
GATEWAY_OFFSET = len(SERVICE_OFFSETS) + 1


class Up:
    def __init__(self, data_dir: Path, base: int, **extra: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "FUNDTRACK_ADMIN_TOKEN")}
        env.update(extra)
        env.update(
            FUNDTRACK_DATA_DIR=str(data_dir),
            FUNDTRACK_SERVICE_PORT_BASE=str(base),
            FUNDTRACK_GATEWAY_PORT=str(base + GATEWAY_OFFSET),
            FUNDTRACK_DETECTOR_HOUR="-1",
        )
        self.gateway = f"http://127.0.0.1:{base + GATEWAY_OFFSET}"
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deploy.cli", "up"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if "data directory:" in line:  # the last line of the banner
                self.ready.set()

    def wait_up(self) -> None:
        deadline = time.monotonic() + 120
        while not self.ready.wait(0.2):
            assert self.process.poll() is None and time.monotonic() < deadline, "".join(self.lines[-40:])

    def family(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def environments(self) -> dict[str, list[dict[str, str]]]:
        """The environment of each uvicorn process (workers included), by the app it serves."""
        found: dict[str, list[dict[str, str]]] = {}
        for p in self.family():
            parent = p.parent()
            app = next((a for a in [*p.cmdline(), *(parent.cmdline() if parent else [])] if a.endswith(":app")), "")
            if app:  # a uvicorn process, or one of its workers
                name = "gateway" if app.startswith("gateway") else app.split(".")[1]
                found.setdefault(name, []).append(p.environ())
        return found


def _assert_secrets_kept(up: Up, token: str) -> None:
    """S13: the admin token is not in fundtrack up's output, and only the gateway's environment holds it; a secret of
    the operator's shell reaches no process."""
    assert not any(token in line for line in up.lines), "the admin token was printed"
    assert any("admin token:" in line for line in up.lines)
    environments = up.environments()
    assert set(environments) == {"gateway", "funds", "projects", "loans", "registry", "oversight"}
    for name, envs in environments.items():
        for env in envs:
            assert ("FUNDTRACK_ADMIN_TOKEN" in env) == (name == "gateway"), name
            assert "OPERATOR_CLOUD_SECRET" not in env and env["FUNDTRACK_SERVICE_SECRET"], name


def _ready(gateway: str) -> bool:
    try:
        return httpx.get(f"{gateway}/readyz", timeout=10).status_code == 200
    except httpx.HTTPError:  # the gateway itself is being started again
        return False


def _all_gone(processes: list[psutil.Process], timeout: float = 10) -> bool:
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    return not alive


@pytest.mark.destructive
def test_up_starts_serves_stops_and_keeps_its_data() -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="fundtrack-up-"))
    launched: list[Up] = []
    try:
        up = Up(data_dir, free_port_block(GATEWAY_OFFSET), OPERATOR_CLOUD_SECRET="planted")
        launched.append(up)
        up.wait_up()
        token = (data_dir / "admin_token").read_text().strip()  # generated now: said where it is, not printed
        assert any(str(data_dir / "admin_token") in line for line in up.lines)
        _assert_secrets_kept(up, token)
        assert httpx.get(f"{up.gateway}/readyz", timeout=10).status_code == 200
        created = httpx.post(
            f"{up.gateway}/admin/principals",
            headers={"authorization": f"Bearer {token}"},
            json={"name": "persisted", "role": "inspector", "region_code": "430000"},
            timeout=10,
        )
        assert created.status_code == 201
        key = created.json()["api_key"]
        # Another command on the same data directory adopts the running database and leaves it running.
        seeded = subprocess.run([sys.executable, "-m", "deploy.cli", "seed-funds"], env=up.env, capture_output=True,
                                text=True, timeout=120)
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        ready = httpx.get(f"{up.gateway}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["checks"]["database"] is True, ready.text
        sources = httpx.get(f"{up.gateway}/funds/sources", headers={"authorization": f"Bearer {token}"}, timeout=10)
        assert sources.status_code == 200 and len(sources.json()["items"]) >= 17, sources.text
        family = up.family()  # the services and the gateway
        assert len([p for p in family if "uvicorn" in " ".join(p.cmdline())]) == len(SERVICE_OFFSETS) + 1
        postmaster = [
            p
            for p in psutil.process_iter(["cmdline"])
            if str(data_dir) in " ".join(p.info["cmdline"] or []) and "postgres" in " ".join(p.info["cmdline"] or [])
        ]
        assert postmaster, "the embedded PostgreSQL runs under the data directory"
        started = time.monotonic()
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(30) == 0
        assert time.monotonic() - started < 15
        assert _all_gone(family) and _all_gone(postmaster), "no orphan process"

        given = "ft_admin_given_" + os.urandom(8).hex()  # the same data directory, the admin token given this time
        again = Up(data_dir, free_port_block(GATEWAY_OFFSET), FUNDTRACK_ADMIN_TOKEN=given,
                   OPERATOR_CLOUD_SECRET="planted")
        launched.append(again)
        again.wait_up()
        response = httpx.get(f"{again.gateway}/audit/verify", headers={"authorization": f"Bearer {key}"}, timeout=10)
        assert response.status_code == 200 and response.json()["ok"] is True  # the key issued before still works
        as_admin = {"authorization": f"Bearer {given}"}
        listed = httpx.get(f"{again.gateway}/admin/principals", headers=as_admin, timeout=10)
        assert listed.status_code == 200, listed.text
        _assert_secrets_kept(again, given)

        # issue #14: a child killed with -9 is started again without hands; a parent's orphaned workers go with it
        for name in ("loans", "funds", "gateway"):
            family = again.family()
            victim = next(p for p in family if f"{name}.app:app" in " ".join(p.cmdline())
                          and p.ppid() == again.process.pid)
            workers = victim.children(recursive=True)
            victim.kill()
            assert _all_gone([victim, *workers]), f"{name}'s workers outlived it"
            deadline = time.monotonic() + 30
            while not any(f"{name} started again" in line for line in again.lines):
                assert time.monotonic() < deadline and again.process.poll() is None, "".join(again.lines[-20:])
                time.sleep(0.2)
            while not _ready(again.gateway):
                assert time.monotonic() < deadline, f"{name} was not started again"
                time.sleep(0.2)
        assert any("loans DIED" in line for line in again.lines)
        # and the embedded PostgreSQL, killed with -9, is started again; the services' pools replace their connections
        postmaster_pid = int((data_dir / "pg" / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(postmaster_pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not any("embedded PostgreSQL started again" in line for line in again.lines):
            assert time.monotonic() < deadline and again.process.poll() is None, "".join(again.lines[-20:])
            time.sleep(0.2)
        while not _ready(again.gateway):
            assert time.monotonic() < deadline, "not ready after the database came back"
            time.sleep(0.2)
        verified = httpx.get(f"{again.gateway}/audit/verify", headers={"authorization": f"Bearer {key}"}, timeout=10)
        assert verified.status_code == 200 and verified.json()["ok"] is True
        family = again.family()
        again.process.send_signal(signal.SIGTERM)
        assert again.process.wait(30) == 0
        assert _all_gone(family)
    finally:
        for running in launched:  # a failed assertion must not leave a system running
            if running.process.poll() is None:
                running.process.terminate()
                running.process.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)


def test_help_is_useful() -> None:
    out = subprocess.run([sys.executable, "-m", "deploy.cli", "--help"], capture_output=True, text=True, check=True)
    for word in ("up", "migrate", "DATABASE_URL", "FUNDTRACK_DATA_DIR"):
        assert word in out.stdout


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        *(("FUNDTRACK_FUNDS_WORKERS", v, "from 1 to 64") for v in ("two", "0", "-1", "1.5", "65", "")),
        ("FUNDTRACK_DETECTOR_HOUR", "24", "less than or equal to 23"),
        ("FUNDTRACK_DETECTOR_HOUR", "-2", "greater than or equal to -1"),
        ("FUNDTRACK_DETECTOR_HOUR", "two", "integer"),
        ("FUNDTRACK_IDLE_FUNDS_DAYS", "0", "greater than or equal to 1"),
        ("FUNDTRACK_DB_POOL_SIZE", "0", "greater than or equal to 1"),
        ("FUNDTRACK_TRUSTED_PROXIES", "10.0.0.0/33", "is not an IP address or CIDR"),  # S11
        ("FUNDTRACK_TRUSTED_PROXIES", "10.0.0.1, proxy.example", "'proxy.example' is not an IP address or CIDR"),
        ("FUNDTRACK_BODY_TIMEOUT_SECONDS", "0", "greater than 0"),  # S12
        ("FUNDTRACK_BODY_MIN_BYTES_PER_SECOND", "-1", "greater than or equal to 0"),
        ("FUNDTRACK_AUDIT_VERIFY_WORKERS", "-1", "greater than or equal to 0"),  # A7
        ("FUNDTRACK_AUDIT_CHECKPOINT_SECONDS", "0", "greater than 0"),  # A6
        ("FUNDTRACK_AUDIT_ORIGIN", "two words", "should match pattern"),
    ],
)
def test_up_refuses_a_bad_setting_before_starting_anything(
    variable: str, value: str, said: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"FUNDTRACK_DATA_DIR": str(tmp_path / "data"), variable: value})
    done = subprocess.run([sys.executable, "-m", "deploy.cli", "up"], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2, done.stderr
    assert variable in done.stderr and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "data").exists()  # no database was started


def test_settings_accepted_at_their_edges() -> None:
    from deploy.supervisor import settings_problem

    for variable, value in [("FUNDTRACK_DETECTOR_HOUR", "-1"), ("FUNDTRACK_DETECTOR_HOUR", "23"),
                            ("FUNDTRACK_IDLE_FUNDS_DAYS", "1"), ("FUNDTRACK_FUNDS_WORKERS", "1"),
                            ("FUNDTRACK_TRUSTED_PROXIES", ""),
                            ("FUNDTRACK_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7,::1"),
                            ("FUNDTRACK_AUDIT_VERIFY_WORKERS", "0"), ("FUNDTRACK_AUDIT_VERIFY_WORKERS", "64")]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(variable, value)
            assert settings_problem() is None, (variable, value)


def test_worker_counts_accepted() -> None:
    from services.kernel.topology import SERVICES

    funds = SERVICES["funds"]
    assert funds.workers({}) == funds.default_workers
    assert funds.workers({"FUNDTRACK_FUNDS_WORKERS": "3"}) == 3
    assert funds.workers({"FUNDTRACK_FUNDS_WORKERS": "64"}) == 64
    assert SERVICES["loans"].workers({"FUNDTRACK_FUNDS_WORKERS": "3"}) == 1


def test_up_refuses_to_start_on_a_port_another_process_holds(tmp_path: Path) -> None:
    """Issue #14: a port held by something else (a FundTrack left running, another program) would answer the
    health check of the process up starts: refused before anything starts, naming the port."""
    base = free_port_block(GATEWAY_OFFSET)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", base + 2))
        squatter.listen()
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        env.update(FUNDTRACK_DATA_DIR=str(tmp_path / "data"), FUNDTRACK_SERVICE_PORT_BASE=str(base),
                   FUNDTRACK_GATEWAY_PORT=str(base + GATEWAY_OFFSET))
        done = subprocess.run([sys.executable, "-m", "deploy.cli", "up"], env=env, capture_output=True, text=True,
                              timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"{base + 2} (" in done.stderr and "held by another process" in done.stderr, done.stderr
    assert not (tmp_path / "data").exists()  # refused before the database was started
