"""POST /alerts/scan as a job (issue #20): a scan of a province's data takes minutes, far longer than a request may
wait (the gateway gives up on a service after 30 s, and the scan went on running after its caller was told 503).
The gateway answers 202 with the job's id at once and runs the scan in the background, asking every service's
detectors at the same time, signed as the caller (so each service scopes it to the caller's jurisdiction, S2);
GET /alerts/scans/{id} shows each service's progress and, once all are done, the merged result.

One scan at a time per gateway: a scan asked for while another runs waits its turn (`queued`); asking again for the
same caller's scan of the same day while it waits or runs answers that one; more than QUEUED_AT_MOST waiting is 409
SCAN_QUEUE_FULL. The services run each scan under their statement timeout for long work (services/kernel/uow.py).
Jobs are kept in the gateway's memory (the last JOBS_KEPT); a gateway restarted forgets them, and what the scans
wrote stays in the services (alerts, and the trail's entries of the scan)."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import httpx

from services.kernel.errors import Conflict, NotFound
from services.kernel.http import signed_headers
from services.kernel.identity import Principal
from services.kernel.regions import covers
from services.kernel.topology import SERVICES

log = logging.getLogger("fundtrack.alerts")
SCAN_QUEUE_FULL = "SCAN_QUEUE_FULL"
JOBS_KEPT = 100
QUEUED_AT_MOST = 10
# A service's scan of a province's data runs minutes (bench/RESULTS.md); its statements stop at
# FUNDTRACK_DB_LONG_STATEMENT_TIMEOUT_SECONDS (900) in the service, this is a bound on the wait for its answer.
SCAN_TIMEOUT = httpx.Timeout(1000.0, connect=5.0)


@dataclass
class Part:
    status: str = "queued"  # queued, running, done, failed
    raised: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    problem: str | None = None


@dataclass
class ScanJob:
    id: str
    principal: Principal
    request_id: str
    as_of: date
    started_at: datetime
    parts: dict[str, Part] = field(default_factory=lambda: {name: Part() for name in SERVICES})
    finished_at: datetime | None = None
    phase: str = "queued"  # queued, running, finished
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        """queued, running, then done (every service's part done) or failed (one or more failed)."""
        if self.phase != "finished":
            return self.phase
        return "failed" if any(p.status == "failed" for p in self.parts.values()) else "done"

    def answer(self) -> dict[str, Any]:
        raised: dict[str, int] = {}
        updated: dict[str, int] = {}
        for part in self.parts.values():
            for total, counts in ((raised, part.raised), (updated, part.updated)):
                for kind, count in counts.items():
                    total[kind] = total.get(kind, 0) + count
        return {
            "id": self.id,
            "status": self.status,
            "as_of": self.as_of.isoformat(),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "services": {
                name: {"status": p.status, "problem": p.problem} for name, p in self.parts.items()
            },
            "raised": raised,
            "updated": updated,
            "seconds": {name: p.seconds for name, p in self.parts.items()},
        }


class ScanJobs:
    def __init__(self, clients: dict[str, httpx.AsyncClient]) -> None:
        self.clients = clients
        self.jobs: dict[str, ScanJob] = {}
        self._ids = itertools.count(1)
        self._turn = asyncio.Lock()

    def start(self, principal: Principal, request_id: str, as_of: date) -> tuple[ScanJob, bool]:
        """The job of this scan and whether it was asked for now (False: the same caller's scan of the same day,
        waiting or running already)."""
        waiting = [j for j in self.jobs.values() if j.phase != "finished"]
        same = next((j for j in waiting if j.principal.id == principal.id and j.as_of == as_of), None)
        if same is not None:
            return same, False
        if len(waiting) > QUEUED_AT_MOST:
            raise Conflict(
                f"扫描排队已满 / {len(waiting)} scans are waiting or running: one runs at a time; ask again when "
                "they are done (GET /alerts/scans/{id})",
                code=SCAN_QUEUE_FULL,
                field="as_of",
            )
        stamp = datetime.now(UTC)
        job = ScanJob(f"scan-{next(self._ids)}-{int(stamp.timestamp())}", principal, request_id, as_of, stamp)
        job.task = asyncio.create_task(self._run(job))
        self.jobs[job.id] = job
        for old in list(self.jobs)[:-JOBS_KEPT]:
            if self.jobs[old].phase == "finished":
                del self.jobs[old]
        return job, True

    def get(self, principal: Principal, scan_id: str) -> ScanJob:
        """A job its caller may see: the caller's own, or one of a principal inside the caller's jurisdiction."""
        job = self.jobs.get(scan_id)
        mine = job is not None and job.principal.id == principal.id
        if job is None or not (mine or covers(principal.region_code, job.principal.region_code)):
            raise NotFound(f"没有这次扫描 / no scan {scan_id} on this gateway")
        return job

    async def _run(self, job: ScanJob) -> None:
        async with self._turn:
            job.phase = "running"
            try:
                await asyncio.gather(*(self._scan(job, name) for name in SERVICES))
            finally:
                job.phase, job.finished_at = "finished", datetime.now(UTC)
        log.info("alert scan %s %s", job.id, job.status)

    async def _scan(self, job: ScanJob, service: str) -> None:
        part = job.parts[service]
        part.status = "running"
        client = self.clients[service]
        request = client.build_request(
            "POST", "/internal/alerts/scan", json={"as_of": job.as_of.isoformat()}, timeout=SCAN_TIMEOUT
        )
        request.headers.update(
            signed_headers("POST", request.url, job.principal, job.request_id, body=request.content, audience=service)
        )
        try:
            response = await client.send(request)
        except httpx.HTTPError as exc:
            part.status, part.problem = "failed", f"the {service} service did not answer ({type(exc).__name__})"
            return
        if response.status_code != 200:
            part.status = "failed"
            try:
                part.problem = str(response.json().get("detail", response.status_code))
            except ValueError:
                part.problem = f"the {service} service answered {response.status_code}"
            return
        result = response.json()
        part.raised, part.updated = result["raised"], result.get("updated", {})
        part.seconds, part.status = result.get("seconds", {}), "done"
