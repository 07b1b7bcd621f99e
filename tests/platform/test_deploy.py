"""deploy/ as an operator would use it, checked offline (issue #15): the systemd unit keeps the supervisor's stop
order and outlasts its worst-case stop; the Dockerfile passes hadolint; the compose file is valid against the
vendored compose-spec schema; the Kubernetes overlays render with `kubectl kustomize` and validate against the
Kubernetes schemas. Each check is also shown to refuse a broken input, so a tool that silently passes everything
fails here. What each manifest runs is checked against the topology (ports, apps, workers), so a process moved in
the code and not in deploy/ fails too. No image is built (no container engine runs on these machines)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.embedded import STOP_TIMEOUT_SECONDS
from deploy.migrate import password_variable
from deploy.supervisor import STOP_GRACE_SECONDS, worst_stop_seconds
from services.kernel.topology import ALL_SCHEMAS, GATEWAY_APP, SERVICES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "systemd" / "fundtrack.service"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
COMPOSE_SCHEMA = DEPLOY / "schemas" / "compose-spec.json"
K8S = DEPLOY / "k8s"
OVERLAYS = {"base": K8S / "base", "production": K8S / "overlays" / "production"}
KUBERNETES_VERSION = "1.31.0"
BIN = Path(sys.executable).parent
GATEWAY_PORT = 8000
PROCESSES = ("gateway", *SERVICES)
# Variables whose value is a secret: never written in a manifest, always given from .env or a Secret.
SECRET_VARIABLES = ("FUNDTRACK_SERVICE_SECRET", "FUNDTRACK_ADMIN_TOKEN", *(password_variable(p) for p in ALL_SCHEMAS))


def tool(name: str) -> str:
    """A validator installed in the virtualenv (dev extras): missing is a failure, not a skip."""
    path = BIN / name
    assert path.exists(), f"{name} is missing from {BIN}: pip install -e '.[dev]'"
    return str(path)


# --- systemd -------------------------------------------------------------------------------------------------------


def unit_settings(text: str) -> dict[str, str]:
    settings = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            key, _, value = line.partition("=")
            settings[key.strip()] = value.strip()
    return settings


def seconds(value: str) -> float:
    """systemd's time span (`60`, `90s`, `1min 30s`, `2m`) in seconds; `infinity` never kills."""
    if value == "infinity":
        return float("inf")
    units = {"": 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "ms": 0.001}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value):
        assert unit in units, f"unknown unit {unit!r} in {value!r}"
        total += float(number) * units[unit]
    return total


def stop_problems(text: str) -> list[str]:
    """What in a unit would lose the supervisor's stop order, or kill it before its own worst case."""
    settings = unit_settings(text)
    problems = []
    if settings.get("KillMode") != "mixed":
        problems.append(f"KillMode={settings.get('KillMode', 'control-group (default)')}: every process gets SIGTERM "
                        "at once and the gateway-first order is lost; use mixed")
    timeout = seconds(settings.get("TimeoutStopSec", "90"))  # systemd's DefaultTimeoutStopSec
    if timeout <= worst_stop_seconds():
        problems.append(f"TimeoutStopSec={timeout:g}s is not longer than the supervisor's worst stop "
                        f"({worst_stop_seconds():g}s)")
    if settings.get("KillSignal", "SIGTERM") not in {"SIGTERM", "SIGINT"}:
        problems.append(f"KillSignal={settings['KillSignal']}: the supervisor stops in order on SIGTERM or SIGINT")
    return problems


def test_worst_stop_is_the_sum_of_the_supervisors_waits() -> None:
    assert worst_stop_seconds() == 2 * STOP_GRACE_SECONDS + STOP_TIMEOUT_SECONDS
    assert worst_stop_seconds() >= 40


def test_systemd_unit_keeps_the_stop_order_and_outlasts_the_supervisor() -> None:
    assert stop_problems(UNIT.read_text()) == []


@pytest.mark.parametrize(
    ("unit", "problem"),
    [
        ("[Service]\nTimeoutStopSec=60\n", "KillMode=control-group"),
        ("[Service]\nKillMode=control-group\nTimeoutStopSec=60\n", "KillMode=control-group"),
        ("[Service]\nKillMode=mixed\nTimeoutStopSec=20\n", "TimeoutStopSec=20s"),
        ("[Service]\nKillMode=mixed\nTimeoutStopSec=40s\n", "TimeoutStopSec=40s"),
        ("[Service]\nKillMode=mixed\nTimeoutStopSec=1min\nKillSignal=SIGKILL\n", "KillSignal=SIGKILL"),
    ],
)
def test_a_unit_that_loses_the_order_or_kills_too_soon_is_refused(unit: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in stop_problems(unit)), stop_problems(unit)


def test_time_spans_read_as_systemd_reads_them() -> None:
    assert seconds("60") == seconds("60s") == seconds("1min") == 60
    assert seconds("1min 30s") == 90
    assert seconds("infinity") == float("inf")


# --- Dockerfile ----------------------------------------------------------------------------------------------------


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool("hadolint"), "--no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_dockerfile_passes_hadolint() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_refuses_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install fastapi\nCMD uvicorn app:app\n")
    result = hadolint(bad)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # the :latest tag


def test_image_is_slim_and_runs_as_a_numeric_non_root_user() -> None:
    stages = DOCKERFILE.read_text().split("\nFROM ")
    final = stages[-1]
    assert final.split()[0].endswith("-slim-bookworm"), final.split()[0]
    users = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0", users


# --- compose -------------------------------------------------------------------------------------------------------


def check_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("check-jsonschema"), "--schemafile", str(COMPOSE_SCHEMA), str(path)],
        capture_output=True, text=True, timeout=120,
    )


def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


def test_compose_file_is_valid_against_the_vendored_compose_spec() -> None:
    result = check_compose(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_compose_spec_check_refuses_an_unknown_key(tmp_path: Path) -> None:
    bad = tmp_path / "compose.yaml"
    original = '    restart: "no"\n'
    bad.write_text(COMPOSE.read_text().replace(original, original + "    restrat: always\n", 1))
    assert "restrat" in bad.read_text()
    result = check_compose(bad)
    assert result.returncode != 0
    assert "restrat" in result.stdout


def uvicorn_target(command: list[str]) -> tuple[str, int, int]:
    """(app, port, workers) of a `uvicorn …` command."""
    assert command[0] == "uvicorn", command
    workers = int(command[command.index("--workers") + 1]) if "--workers" in command else 1
    return command[1], int(command[command.index("--port") + 1]), workers


def expected_target(process: str) -> tuple[str, int, int]:
    if process == "gateway":
        return GATEWAY_APP, GATEWAY_PORT, 1
    spec = SERVICES[process]
    return spec.app, spec.default_port, spec.default_workers


def test_compose_runs_every_process_as_the_topology_declares_it() -> None:
    services = compose()["services"]
    assert set(services) == {"postgres", "migrate", *PROCESSES}
    assert services["migrate"]["command"] == ["fundtrack", "migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    for process in (*PROCESSES, "migrate"):  # one image, read-only but for /tmp (test_compose_run: nothing else)
        assert services[process]["image"] == services["gateway"]["image"] and services[process]["read_only"] is True
        assert services[process]["tmpfs"] == ["/tmp"]
    for process in PROCESSES:
        service = services[process]
        assert uvicorn_target(service["command"]) == expected_target(process), process
        assert "healthcheck" in service, process
        for name in SERVICES:
            assert service["environment"][f"FUNDTRACK_{name.upper()}_URL"] == f"http://{name}:{SERVICES[name].default_port}"
    for name in SERVICES:
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services["gateway"]["depends_on"][name]["condition"] == "service_healthy"
    for process in PROCESSES:  # ready: reaches its database (and, for the gateway, every service)
        port = expected_target(process)[1]
        assert f"http://127.0.0.1:{port}/readyz" in " ".join(services[process]["healthcheck"]["test"]), process
    assert [s for s, body in services.items() if "ports" in body] == ["gateway"]


def test_compose_gives_each_process_only_its_own_secrets_and_writes_none() -> None:
    services = compose()["services"]
    for process in PROCESSES:
        env = services[process]["environment"]
        url = env["DATABASE_URL"]
        assert url.startswith(f"postgresql://fundtrack_{process}:${{{password_variable(process)}}}@"), url
        assert ("FUNDTRACK_ADMIN_TOKEN" in env) == (process == "gateway"), process
        others = [p for p in ALL_SCHEMAS if p != process]
        assert not any(password_variable(p) in str(env) for p in others), process
    for body in services.values():
        for name, value in (body.get("environment") or {}).items():
            if name in SECRET_VARIABLES:
                assert str(value).startswith("${"), f"{name} is written in the compose file"
    gateway = services["gateway"]["environment"]
    assert gateway["FUNDTRACK_AUDIT_SIGNING_KEY_FILE"] == "/run/secrets/audit_signing_key"
    assert services["gateway"]["secrets"] == ["audit_signing_key"]
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "deploy/compose/.env" in ignored and "deploy/compose/secrets/" in ignored


# --- Kubernetes ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=sorted(OVERLAYS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:  # a developer's machine; .ci/run renders them with kubectl, which CI has
        pytest.skip("kubectl is not installed")
    result = subprocess.run(
        [kubectl, "kustomize", str(OVERLAYS[request.param])], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return request.param, [d for d in yaml.safe_load_all(result.stdout) if d]


def objects(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_rendered_manifests_validate_against_kubernetes(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kubernetes_validate_refuses_a_misspelt_field(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = rendered
    deployment = dict(objects(docs, "Deployment")["gateway"])
    deployment["spec"] = {**deployment["spec"], "replica": 2}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_every_process_has_a_deployment_service_and_budget(rendered: tuple[str, list[dict[str, Any]]]) -> None:
    overlay, docs = rendered
    deployments, services = objects(docs, "Deployment"), objects(docs, "Service")
    assert set(deployments) == set(services) == set(objects(docs, "PodDisruptionBudget")) == set(PROCESSES)
    images = set()
    for process in PROCESSES:
        pod = deployments[process]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        images.add(container["image"])
        app, port, workers = expected_target(process)
        assert uvicorn_target(container["command"]) == (app, port, workers), process
        assert services[process]["spec"]["ports"][0]["port"] == port
        for probe in ("livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["port"] == "http", (process, probe)
        # a gateway is ready on its own database: one service down must not take every gateway out of the Ingress
        ready = "/readyz?scope=self" if process == "gateway" else "/readyz"
        assert container["readinessProbe"]["httpGet"]["path"] == ready, process
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, (process, bound)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        env = {e["name"]: e for e in container["env"]}
        assert env["DATABASE_URL"]["value"].startswith(f"postgresql://fundtrack_{process}:$(DB_PASSWORD)@")
        assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == f"db-password-{process}"
        assert ("FUNDTRACK_ADMIN_TOKEN" in env) == (process == "gateway"), process
        for name in SECRET_VARIABLES:
            assert name not in env or "value" not in env[name], f"{name} is written in a manifest"
        if overlay == "production":
            assert deployments[process]["spec"]["replicas"] >= 2, process
    (job,) = [d for d in docs if d["kind"] == "Job"]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["command"] == ["fundtrack", "migrate"]
    assert {migrate["image"]} == images and len(images) == 1
    job_env = {e["name"]: e for e in migrate["env"]}
    assert all("valueFrom" in job_env[password_variable(p)] for p in ALL_SCHEMAS)
    (ingress,) = objects(docs, "Ingress").values()
    backends = [p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]]
    assert backends == ["gateway"]
    gateway_pod = deployments["gateway"]["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in gateway_pod["volumes"]}
    # The key the gateway reads is a copy only its user may read (gateway/signing.py refuses a group-readable one, and
    # a Secret's files are group-readable under fsGroup), made by an init container from the Secret.
    (gateway_container,) = gateway_pod["containers"]
    key_file = {e["name"]: e.get("value") for e in gateway_container["env"]}["FUNDTRACK_AUDIT_SIGNING_KEY_FILE"]
    (key_mount,) = [m for m in gateway_container["volumeMounts"] if key_file.startswith(m["mountPath"] + "/")]
    assert "emptyDir" in volumes[key_mount["name"]]
    (init,) = gateway_pod["initContainers"]
    assert "umask 077" in init["command"][-1] and key_mount["mountPath"] in init["command"][-1]
    secret_mounts = [m for m in init["volumeMounts"] if "secret" in volumes[m["name"]]]
    assert [volumes[m["name"]]["secret"]["secretName"] for m in secret_mounts] == ["fundtrack-audit-signing-key"]
    assert not any("secret" in volumes[m["name"]] for m in gateway_container["volumeMounts"])
    assert volumes["witness"]["persistentVolumeClaim"]["claimName"] == "fundtrack-witness"
    if deployments["gateway"]["spec"].get("replicas", 1) > 1:  # every gateway must sign against one witness
        claim = objects(docs, "PersistentVolumeClaim")["fundtrack-witness"]
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
