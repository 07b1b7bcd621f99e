"""The contract run (issue #14): schemathesis 4 against the real system's `/openapi.json`, with a real key of each
role, every one of its checks on. A failure is a place where the system and the document a client generator reads
disagree (an undocumented status or media type, a schema-valid request refused, a schema-violating one accepted, a
5xx, a route that ignores its key...). Each is fixed in the code, or, when no OpenAPI document can say the rule
(a check digit, a date not after today, one parameter against another), listed in `contract_baseline.txt` with
one line of why; anything else fails this test.

The system is started here, on a database of its own: the run writes what it generates (keys, counties, projects,
imports), which the rest of the suite must not see. Each role's run is one `st run` process, the five at once,
seeded and without a stored example database, so a run is repeatable; a run's figures (cases, operations) are
checked too, so that a run that tested nothing cannot pass.
"""

from __future__ import annotations

import asyncio
import base64
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.policy import ROUTES
from tests.stack import Stack, create_test_database, start_stack, stop_all, workdir

pytestmark = pytest.mark.contract

BASELINE = Path(__file__).with_name("contract_baseline.txt")
REGION = "430523"  # the jurisdiction of each regional key (a county)
ROLES = {"admin": "000000", "finance": REGION, "inspector": REGION, "lender": REGION, "project_manager": REGION}
SEED = 14
EXAMPLES = 5  # fuzzed cases per operation and role, on top of the coverage phase's (its edges and wrong types)
MIN_CASES = 2000
BUSY_CODES = frozenset({"DATABASE_UNAVAILABLE", "DATABASE_TIMEOUT", "DEPENDENCY_UNAVAILABLE", "SERVICE_UNAVAILABLE"})
BUSY_SHARE = 0.02  # of the cases: more 503s than that is not load but a fault
RUN_SECONDS = 200  # the five runs together; CI's whole suite stays well inside its 30 minutes
ST = Path(sys.executable).with_name("st")


@dataclass(frozen=True)
class Finding:
    check: str  # ST103, ST202...
    operation: str  # "GET /audit"
    field: str  # the problem's `field` ("-": no problem, or none named)
    status: int
    request: str
    code: str = "-"  # the problem's `code`

    @property
    def busy(self) -> bool:
        """A 503 that says to ask again (the database or a service busy: the suite's other stacks share the server),
        which is the documented answer under load, not a disagreement with the document."""
        return self.status == 503 and (self.code in BUSY_CODES or self.operation == "GET /readyz")  # not ready

    def line(self) -> str:
        return f"{self.check} {self.operation} {self.field}  ({self.status}: {self.request[:300]})"


@dataclass(frozen=True)
class Accepted:
    check: str
    operation: str  # fnmatch pattern
    field: str  # fnmatch pattern
    why: str

    def covers(self, finding: Finding) -> bool:
        return (
            self.check == finding.check
            and fnmatch.fnmatchcase(finding.operation, self.operation)
            and fnmatch.fnmatchcase(finding.field, self.field)
        )


def load_baseline(text: str) -> list[Accepted]:
    """`CHECK METHOD PATH FIELD | why`, one a line; `#` starts a comment. Every entry says why."""
    accepted = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        what, bar, why = line.partition("|")
        parts = what.split()
        if not bar or not why.strip() or len(parts) != 4:
            raise ValueError(f"{BASELINE.name}:{number}: want `CHECK METHOD PATH FIELD | why`, got {raw!r}")
        check, method, path, field = parts
        accepted.append(Accepted(check, f"{method} {path}", field, why.strip()))
    return accepted


def _problem(response: dict[str, Any]) -> tuple[str, str]:
    """The problem's `field` and `code` ("-" for what it does not say)."""
    content = response.get("content") or {}
    raw = base64.b64decode(content["$base64"]) if isinstance(content, dict) and "$base64" in content else b""
    try:
        body = json.loads(raw)
    except ValueError:
        return "-", "-"
    if not isinstance(body, dict):
        return "-", "-"
    return str(body.get("field", "-")), str(body.get("code", "-"))


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    with path.open() as lines:
        for line in lines:
            yield json.loads(line)


def findings_of(path: Path) -> tuple[list[Finding], set[str], list[str]]:
    """The failed checks of one run's NDJSON report, the operations it tested, and its errors."""
    found: list[Finding] = []
    tested: set[str] = set()
    errors: list[str] = []
    for event in read_events(path):
        if "NonFatalError" in event:
            errors.append(json.dumps(event["NonFatalError"])[:500])
        finished = event.get("ScenarioFinished")
        if finished is None:
            continue
        recorder = finished["recorder"]
        tested.add(recorder["label"])
        for case_id, checks in recorder.get("checks", {}).items():
            interaction = recorder.get("interactions", {}).get(case_id) or {}
            response = interaction.get("response") or {}
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = check["failure_info"]["failure"]
                field, code = _problem(response)
                found.append(Finding(
                    check=failure["code"],
                    operation=failure.get("operation") or recorder["label"],
                    field=field,
                    code=code,
                    status=int(response.get("status_code", 0)),
                    request=f"{interaction.get('request', {}).get('method', '')} "
                            f"{interaction.get('request', {}).get('uri', '')}",
                ))
    return found, tested, errors


def operations_by_role(document: dict[str, Any]) -> dict[str, list[str]]:
    """Each documented operation, run once, by one of the roles that may call it (any, for a public one), the
    runs kept even: every operation and every role's key are exercised within the time. Who may not call what is
    `tests/platform/test_policy_matrix.py`'s."""
    paths = document["paths"]
    runs: dict[str, list[str]] = {role: [] for role in ROLES}
    for route in ROUTES:
        if route.method.lower() not in paths.get(route.template, {}):
            continue
        callers = [role for role in ROLES if route.public or role in route.roles]
        role = min(callers, key=lambda r: (len(runs[r]), list(ROLES).index(r)))
        runs[role].append(f"{route.method} {route.template}")
    return runs


def st_run(url: str, key: str, operations: list[str], report: Path) -> list[str]:
    command = [
        str(ST), "run", f"{url}/openapi.json", "--header", f"Authorization: Bearer {key}",
        "--checks", "all", "--phases", "examples,coverage,fuzzing", "--max-examples", str(EXAMPLES),
        "--seed", str(SEED), "--generation-database", "none", "--no-shrink", "--workers", "1",
        "--request-timeout", "30", "--report", "ndjson,json",
        "--report-ndjson-path", str(report.with_suffix(".ndjson")),
        "--report-json-path", str(report.with_suffix(".json")),
        "--no-color",
    ]
    for operation in operations:
        command += ["--include-name", operation]
    return command


async def _issue_keys(stack: Stack) -> dict[str, str]:
    keys = {"admin": stack.admin_token}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as client:
        for role, region in ROLES.items():
            if role == "admin":
                continue
            for _ in range(20):  # a 503 (the database busy with the rest of the suite) says: ask again
                response = await client.post(
                    "/admin/principals", headers={"authorization": f"Bearer {stack.admin_token}"},
                    json={"name": f"contract {role}", "role": role, "region_code": region},
                )
                if response.status_code != 503:
                    break
                await asyncio.sleep(0.5)
            assert response.status_code == 201, response.text
            keys[role] = response.json()["api_key"]
    return keys


@pytest.fixture(scope="module")
def contract_stack() -> Iterator[Stack]:
    directory = workdir()
    database = asyncio.run(create_test_database(directory))
    running: Stack | None = None
    try:
        running = start_stack(database, workdir(), pool_fraction=0.25)
        yield running
    finally:
        if running is not None:
            stop_all(running.children)
        asyncio.run(database.drop())
        shutil.rmtree(directory, ignore_errors=True)


def test_the_baseline_reads_and_says_why() -> None:
    accepted = load_baseline(BASELINE.read_text())
    assert accepted, "an empty baseline: delete the file rather than keep it empty"
    assert all(entry.check.startswith("ST") and len(entry.why) > 20 for entry in accepted)
    with pytest.raises(ValueError):
        load_baseline("ST202 GET /audit cursor\n")  # no why: refused


def test_a_finding_is_covered_only_by_its_own_entry() -> None:
    entry = Accepted("ST202", "POST /funds/allocations*", "*issued_on", "a date after today")
    finding = Finding("ST202", "POST /funds/allocations:batch", "items.0.issued_on", 422, "POST …")
    assert entry.covers(finding)
    assert not entry.covers(Finding("ST201", finding.operation, finding.field, 200, ""))
    assert not entry.covers(Finding("ST202", "POST /loans", "issued_on", 422, ""))
    assert not entry.covers(Finding("ST202", finding.operation, "amount_fen", 422, ""))


def test_schemathesis_finds_nothing_the_baseline_does_not_explain(contract_stack: Stack, tmp_path: Path) -> None:
    started = time.monotonic()
    keys = asyncio.run(_issue_keys(contract_stack))
    document = httpx.get(f"{contract_stack.gateway_url}/openapi.json", timeout=30).json()
    env = {**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""}
    runs = {}
    for role, operations in operations_by_role(document).items():
        assert operations, f"no operation for {role}'s key"
        report = tmp_path / role
        command = st_run(contract_stack.gateway_url, keys[role], operations, report)
        log = (tmp_path / f"{role}.log").open("w")
        runs[role] = (subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path), report)
    deadline = started + RUN_SECONDS
    for role, (process, _) in runs.items():
        try:
            process.wait(timeout=max(deadline - time.monotonic(), 1))
        except subprocess.TimeoutExpired:
            for other, _ in runs.values():
                other.kill()
            pytest.fail(f"the contract run took more than {RUN_SECONDS} s (at {role}'s)")
    accepted = load_baseline(BASELINE.read_text())
    unexplained: list[str] = []
    errors: list[str] = []
    tested: set[str] = set()
    busy: set[str] = set()
    cases = 0
    for role, (_, report) in runs.items():
        assert report.with_suffix(".ndjson").exists(), (tmp_path / f"{role}.log").read_text()[-3000:]
        found, exercised, role_errors = findings_of(report.with_suffix(".ndjson"))
        tested |= exercised
        errors += [f"{role}: {e}" for e in role_errors]
        busy |= {f"{role}: {f.request}" for f in found if f.busy}
        unexplained += sorted({
            f"{role}: {f.line()}" for f in found if not f.busy and not any(a.covers(f) for a in accepted)
        })
        cases += json.loads(report.with_suffix(".json").read_text())["test_cases"]["generated"]
    documented = {f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops}
    assert unexplained == [], "schemathesis found what the baseline does not explain:\n" + "\n".join(unexplained)
    assert errors == [], "\n".join(errors)
    assert documented <= tested, f"operations no role's run tested: {sorted(documented - tested)}"
    assert cases >= MIN_CASES, f"only {cases} cases generated"
    assert len(busy) <= BUSY_SHARE * cases, f"{len(busy)} answers 503 (busy) of {cases}:\n" + "\n".join(sorted(busy))
