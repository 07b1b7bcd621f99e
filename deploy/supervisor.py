"""`fundtrack up`: the database, migrations, four services and the gateway as separate processes on loopback.

Children die with the supervisor (PR_SET_PDEATHSIG), so nothing is orphaned even if it is killed. Each child is
the leader of its own process group, which holds its uvicorn workers: a child that dies (killed with -9, crashed)
has what is left of its group killed, so no orphaned worker keeps its port, and it is started again after a backoff
that grows while it keeps dying (1 s … 30 s), said loudly each time (issue #14). A port held by something else
refuses the start: a health check must be answered by the process this supervisor started.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from deploy.drift import SchemaDrift
from deploy.embedded import STOP_TIMEOUT_SECONDS, EmbeddedPostgres
from deploy.migrate import migrate, password_variable
from deploy.pools import pool_env
from deploy.secrets import kept_secret
from gateway.audit_settings import AuditSettings
from gateway.auth import ADMIN_TOKEN_FILE, admin_token
from services.kernel.evidence_config import EvidenceSettings
from services.kernel.orphans import become_subreaper, die_with_parent, reap_orphans
from services.kernel.settings import Settings
from services.kernel.topology import ALL_SCHEMAS, GATEWAY_APP, HOST, SERVICES, gateway_port

STOP_GRACE_SECONDS = 5.0
RESTART_BACKOFF_SECONDS = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
# A child that stayed up this long starts its backoff again from the shortest wait if it dies.
RESTART_RESET_SECONDS = 60.0
SERVER_KEEPALIVE_SECONDS = 75
START_TIMEOUT_SECONDS = 60.0
# S13: what a child process is given of the supervisor's environment (an operator's shell holds other secrets).
INHERITED = frozenset({"PATH", "HOME", "USER", "LANG", "TZ", "TMPDIR", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
                       "SSL_CERT_FILE", "SSL_CERT_DIR", "DATABASE_URL"})
INHERITED_PREFIXES = ("LC_", "PYTHON", "PG", "FUNDTRACK_", "MALLOC_")  # MALLOC_: glibc tunables (issue #14)
# A secret goes only to the processes that use it: the services check signatures, only the gateway knows the admin.
SECRET_USERS = {"FUNDTRACK_ADMIN_TOKEN": frozenset({"gateway"})}


@dataclass
class Child:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    app: str = ""
    env: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    deaths: int = 0  # deaths in a row, each less than RESTART_RESET_SECONDS after its start


def say(message: str) -> None:
    print(f"fundtrack: {message}", file=sys.stderr, flush=True)


def data_dir() -> Path:
    return Path(os.environ.get("FUNDTRACK_DATA_DIR", "./.fundtrack")).resolve()


def prepare_database(directory: Path) -> tuple[str, EmbeddedPostgres | None]:
    url = os.environ.get("DATABASE_URL")
    if url:
        say("using the PostgreSQL at DATABASE_URL")
        return url, None
    embedded = EmbeddedPostgres(directory)
    say(f"using the embedded PostgreSQL under {embedded.pgdata} (started if it is not running)")
    return embedded.start(), embedded


def child_env(directory: Path, url: str, roles: bool) -> dict[str, str]:
    """What every child shares. The database URL and password each is given are its own (own_env)."""
    env = {k: v for k, v in os.environ.items() if k not in {password_variable(p) for p in ALL_SCHEMAS}}
    env.update(
        DATABASE_URL=url,
        FUNDTRACK_DATA_DIR=str(directory),
        FUNDTRACK_SERVICE_SECRET=kept_secret(directory, "service_secret", "FUNDTRACK_SERVICE_SECRET"),
        FUNDTRACK_ADMIN_TOKEN=admin_token(str(directory)),
        FUNDTRACK_DB_ROLES="1" if roles else "0",
        PYTHONUNBUFFERED="1",
    )
    return env


def process_env(name: str, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of the process `name` (a service or "gateway"): the allow-listed variables of `env`, less
    the secrets it does not use."""
    return {
        k: v
        for k, v in env.items()
        if (k in INHERITED or k.startswith(INHERITED_PREFIXES)) and name in SECRET_USERS.get(k, frozenset({name}))
    }


def own_env(
    env: Mapping[str, str], name: str, urls: Mapping[str, str], pools: Mapping[str, Mapping[str, str]]
) -> dict[str, str]:
    """One child's environment: the shared one, its pool, and (S4) a DATABASE_URL with its own login role and
    password instead of the migrating user's; with no per-process roles ({}), the shared URL."""
    own = {**env, **pools.get(name, {})}
    if urls:
        own["DATABASE_URL"] = urls[name]
    return own


def spawn(name: str, app: str, port: int, env: dict[str, str]) -> Child:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        HOST,
        "--port",
        str(port),
        "--no-access-log",
        # S11: uvicorn would believe X-Forwarded-For from 127.0.0.1, i.e. from anyone on a loopback peer; the gateway
        # reads it itself, only from FUNDTRACK_TRUSTED_PROXIES (gateway/ratelimit.py client_address).
        "--no-proxy-headers",
        "--log-level",
        "warning",
        "--timeout-graceful-shutdown",
        "3",
        # Clients drop idle connections sooner (kernel http.KEEPALIVE_SECONDS), so a server never closes a
        # connection at the moment a client reuses it.
        "--timeout-keep-alive",
        str(SERVER_KEEPALIVE_SECONDS),
    ]
    workers = SERVICES[name].workers(env) if name in SERVICES else 1
    if workers > 1:
        command += ["--workers", str(workers)]
    process = subprocess.Popen(  # noqa: PLW1509 - preexec_fn: die_with_parent is async-signal-safe (one prctl)
        command, env=process_env(name, env), preexec_fn=die_with_parent, start_new_session=True
    )
    return Child(name, port, process, app, env)


def port_free(port: int) -> bool:
    """Nothing listens on HOST:port (a server of ours left from before, another program)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def kill_group(child: Child) -> None:
    """Kill what is left of a child's process group (its uvicorn workers, when the parent died first)."""
    try:
        os.killpg(child.process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):  # nothing there yet, or something that is not our server
        return False


def wait_healthy(children: list[Child], should_stop: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    waiting = list(children)
    while waiting and time.monotonic() < deadline and not should_stop():
        for child in list(waiting):
            if child.process.poll() is not None:
                say(f"!!! {child.name} exited with code {child.process.returncode} while starting")
                return False
            if healthy(child.port):
                waiting.remove(child)
        time.sleep(0.1)
    if waiting:
        say("!!! not healthy in time: " + ", ".join(c.name for c in waiting))
    return not waiting


def stop_all(children: list[Child]) -> None:
    """The gateway (started last) first, so no request reaches a stopping service; then the services together."""
    gateway, services = children[-1:], children[:-1]
    for group in (gateway, services):
        for child in group:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in group:
            try:
                child.process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop in {STOP_GRACE_SECONDS:.0f}s; killing it")
                child.process.kill()
                child.process.wait()
            kill_group(child)


def worst_stop_seconds() -> float:
    """The longest `up` takes to stop once asked: the gateway's grace, the services' grace, then the embedded
    PostgreSQL's shutdown. A service manager must wait longer than this before it kills (deploy/systemd)."""
    return 2 * STOP_GRACE_SECONDS + STOP_TIMEOUT_SECONDS


def settings_problem() -> str | None:
    """What is wrong with the FUNDTRACK_* settings of the environment, in words, or None."""
    try:
        # The service secret is checked where `up` provides it (child_env), not here.
        Settings(service_secret="provided-by-fundtrack-up")
        for spec in SERVICES.values():
            spec.workers(os.environ)
    except ValidationError as exc:
        return _said(exc, "FUNDTRACK_")
    except ValueError as exc:
        return str(exc)
    try:
        AuditSettings()
    except ValidationError as exc:
        return _said(exc, "FUNDTRACK_AUDIT_")
    try:
        EvidenceSettings()
    except ValidationError as exc:
        return _said(exc, "FUNDTRACK_EVIDENCE_")
    return None


def _said(exc: ValidationError, prefix: str) -> str:
    return "; ".join(f"{_variable(e['loc'], prefix)}{e['msg']}" for e in exc.errors())


def _variable(loc: tuple[int | str, ...], prefix: str) -> str:
    if not loc:
        return ""
    name = str(loc[0])
    return f"{name if name.isupper() else prefix + name.upper()}: "


def up() -> int:
    stop_requested: list[int] = []

    def on_signal(signum: int, _frame: object) -> None:
        stop_requested.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    become_subreaper()  # what our children leave behind (the embedded postmaster, orphaned workers) is ours to reap
    problem = settings_problem()
    if problem is not None:  # said before anything starts, not as a child's traceback
        say(problem)
        return 2
    held = [f"{port} ({name})" for name, port in [*((n, s.port) for n, s in SERVICES.items()),
                                                   ("gateway", gateway_port())] if not port_free(port)]
    if held:  # a health check there would be answered by someone else: refused, never reported "up"
        say("!!! ports held by another process (a FundTrack left running, another program): " + ", ".join(held))
        return 2
    directory = data_dir()
    url, embedded = prepare_database(directory)
    children: list[Child] = []
    code = 0
    try:
        say("migrating")
        try:
            urls = migrate(url, directory)
        except SchemaDrift as drift:  # refused before anything starts, a line per difference
            for difference in drift.differences:
                say(f"the database differs from the models: {difference}")
            return 2
        if not urls:
            say("!!! the DATABASE_URL user may not create roles: every process connects as that user (no least "
                "privilege); give a user with CREATEROLE, or see `fundtrack doctor`")
        env = child_env(directory, url, bool(urls))
        try:
            pools = pool_env(url, env)
        except ValueError as exc:  # a server with too few connections for the processes: said, not a traceback
            say(str(exc))
            return 2
        for name, spec in SERVICES.items():
            children.append(spawn(name, spec.app, spec.port, own_env(env, name, urls, pools)))
        if not wait_healthy(children, lambda: bool(stop_requested)):
            return 1
        children.append(spawn("gateway", GATEWAY_APP, gateway_port(), own_env(env, "gateway", urls, pools)))
        if not wait_healthy(children[-1:], lambda: bool(stop_requested)):
            return 1
        _banner(children, directory)
        code = _watch(children, stop_requested, embedded)
        return code
    finally:
        say("stopping")
        stop_all(children)
        if embedded is not None:
            embedded.stop()
        say("stopped")


def _banner(children: list[Child], directory: Path) -> None:
    lines = [f"  {c.name:<9} http://{HOST}:{c.port}" for c in children]
    say("FundTrack is up\n" + "\n".join(lines))
    say(f"gateway (the public door): http://{HOST}:{gateway_port()}   docs: http://{HOST}:{gateway_port()}/docs")
    say(f"admin token: {admin_token_whereabouts(directory)}")
    say(f"data directory: {directory}   (Ctrl-C stops everything)")


def admin_token_whereabouts(directory: Path) -> str:
    """S13: where the admin token is, never the token: this output ends in journald, docker logs, CI logs and
    terminal scrollback, a national admin key with it. `fundtrack admin-token` prints it when someone asks."""
    if os.environ.get("FUNDTRACK_ADMIN_TOKEN"):
        return "given in FUNDTRACK_ADMIN_TOKEN (not shown)"
    return f"kept in {directory / ADMIN_TOKEN_FILE} (mode 600); `fundtrack admin-token` prints it"


def _watch(children: list[Child], stop_requested: list[int], embedded: EmbeddedPostgres | None = None) -> int:
    """Until asked to stop: a child that died is started again after its backoff (its group's leftovers killed
    first, so its port is free); the embedded PostgreSQL, if it died, is started again (the services' pools replace
    their dead connections: pre-ping)."""
    restart_at: dict[int, float] = {}
    while not stop_requested:
        now = time.monotonic()
        reap_orphans({c.process.pid for c in children})
        if embedded is not None and not embedded.running():
            say("!!! the embedded PostgreSQL DIED; starting it again")
            try:
                embedded.restart()
                say("the embedded PostgreSQL started again")
            except Exception as exc:  # noqa: BLE001 - said, and tried again at the next turn
                say(f"!!! the embedded PostgreSQL did not start again ({exc}); trying again")
                time.sleep(1.0)
        for i, child in enumerate(children):
            if i not in restart_at and child.process.poll() is not None:
                kill_group(child)
                child.deaths = 1 if now - child.started >= RESTART_RESET_SECONDS else child.deaths + 1
                delay = RESTART_BACKOFF_SECONDS[min(child.deaths, len(RESTART_BACKOFF_SECONDS)) - 1]
                say(f"!!! {child.name} DIED with exit code {child.process.returncode}; starting it again in "
                    f"{delay:.0f}s (death {child.deaths} in a row)")
                restart_at[i] = now + delay
            elif i in restart_at and now >= restart_at[i]:
                if not port_free(child.port):
                    say(f"!!! {child.name}: port {child.port} is still held; waiting")
                    restart_at[i] = now + 1.0
                    continue
                del restart_at[i]
                again = spawn(child.name, child.app, child.port, child.env)
                again.deaths = child.deaths
                children[i] = again
                say(f"{child.name} started again (pid {again.process.pid})")
        time.sleep(0.2)
    return 0
