"""E1: the router a service mounts for its documents (streamed in over ASGI and over a real uvicorn socket, served
back verified), the store's settings, and what `fundtrack doctor` says of it."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from deploy import doctor
from deploy.supervisor import settings_problem
from services.kernel.errors import FORBIDDEN, PAYLOAD_TOO_LARGE, VALIDATION_ERROR, Forbidden, install_error_handlers
from services.kernel.evidence import EvidenceRef, EvidenceStore
from services.kernel.evidence_api import content_disposition, evidence_router
from services.kernel.evidence_config import EvidenceSettings, open_store
from services.kernel.evidence_fs import FilesystemStore
from services.kernel.evidence_policy import EVIDENCE_TAMPERED, UNSUPPORTED_MEDIA_TYPE
from services.kernel.evidence_s3 import S3Store
from tests.evidence.support import (
    BUCKET,
    CREDENTIALS,
    LIMIT,
    chunked,
    copies,
    free_port,
    leftovers,
    samples,
    tamper,
    unique,
)

NAME = "某县财政局整改报告.pdf"


class TinyService:
    """A service that mounts the router: it keeps the references its records would keep, and lets a caller read
    only a document one of its records cites (`describe`), and upload only with `x-may-upload: yes`."""

    def __init__(self, store: EvidenceStore) -> None:
        self.cited: dict[str, EvidenceRef] = {}
        self.app = FastAPI()
        install_error_handlers(self.app)
        self.app.include_router(evidence_router(store, describe=self.describe, authorize_upload=self.authorize))

    async def describe(self, request: Request, sha256: str) -> EvidenceRef | None:
        return self.cited.get(sha256)

    async def authorize(self, request: Request) -> None:
        if request.headers.get("x-may-upload") != "yes":
            raise Forbidden("not yours to upload", field="role")

    def cite(self, answer: httpx.Response) -> EvidenceRef:
        ref = EvidenceRef.model_validate(answer.json())
        self.cited[ref.sha256] = ref
        return ref


@asynccontextmanager
async def client_of(service: TinyService) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=service.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://evidence") as client:
        yield client


async def upload(client: httpx.AsyncClient, data: bytes, media_type: str, name: str = NAME,
                 **headers: str) -> httpx.Response:
    return await client.post("/evidence", params={"name": name}, content=chunked(data),
                             headers={"content-type": media_type, "x-may-upload": "yes", **headers})


async def test_a_document_streams_in_and_is_served_back_with_its_type_and_name(store: EvidenceStore) -> None:
    service = TinyService(store)
    data = samples(unique())["application/pdf"] + os.urandom(200_000)
    async with client_of(service) as client:
        first = await upload(client, data, "application/pdf")
        assert first.status_code == 201, first.text
        ref = service.cite(first)
        assert first.json()["created"] is True
        assert (ref.sha256, ref.size, ref.name, ref.media_type) == (hashlib.sha256(data).hexdigest(), len(data),
                                                                    NAME, "application/pdf")
        again = await upload(client, data, "application/pdf", name="copy.pdf")
        assert (again.status_code, again.json()["created"], again.json()["sha256"]) == (200, False, ref.sha256)
        got = await client.get(f"/evidence/{ref.sha256}")
    assert got.status_code == 200 and got.content == data
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-length"] == str(len(data))
    assert got.headers["content-disposition"] == content_disposition(NAME)
    assert f"filename*=UTF-8''{quote(NAME)}" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["etag"] == f'"{ref.sha256}"'


def test_the_download_name_cannot_break_out_of_its_header() -> None:
    said = content_disposition('a"; filename="evil.exe')
    assert said.startswith('attachment; filename="a_; filename=_evil.exe"; ')
    assert said.endswith("filename*=UTF-8''a%22%3B%20filename%3D%22evil.exe")


async def test_a_document_no_record_cites_is_not_served_even_when_kept(store: EvidenceStore) -> None:
    service = TinyService(store)
    data = samples(unique())["image/png"]
    async with client_of(service) as client:
        kept = await upload(client, data, "image/png")
        assert kept.status_code == 201
        uncited = await client.get(f"/evidence/{kept.json()['sha256']}")
        assert (uncited.status_code, uncited.json()["code"]) == (404, "NOT_FOUND")
        service.cite(kept)
        assert (await client.get(f"/evidence/{kept.json()['sha256']}")).content == data
        malformed = await client.get("/evidence/NOT-A-HASH")
    assert (malformed.status_code, malformed.json()["field"]) == (422, "sha256")


async def test_refusals_are_problems_and_keep_nothing(store: EvidenceStore) -> None:
    service = TinyService(store)
    good = samples(unique())
    over = b"%PDF-1.7\n" + os.urandom(LIMIT)
    async with client_of(service) as client:
        declared_over = await client.post(
            "/evidence", params={"name": "big.pdf"}, content=over,
            headers={"content-type": "application/pdf", "x-may-upload": "yes"})
        streamed_over = await upload(client, over, "application/pdf")  # no Content-Length: counted as it comes
        wrong_type = await upload(client, good["image/jpeg"], "image/gif")
        lying = await upload(client, good["image/jpeg"], "application/pdf")
        no_name = await client.post("/evidence", content=good["text/plain"],
                                    headers={"content-type": "text/plain", "x-may-upload": "yes"})
        not_allowed = await upload(client, good["text/csv"], "text/csv", **{"x-may-upload": "no"})
    said = [(r.status_code, r.json()["code"], r.json().get("field"), r.headers["content-type"])
            for r in (declared_over, streamed_over, wrong_type, lying, no_name, not_allowed)]
    problem = "application/problem+json"
    assert said == [
        (413, PAYLOAD_TOO_LARGE, "body", problem), (413, PAYLOAD_TOO_LARGE, "body", problem),
        (415, UNSUPPORTED_MEDIA_TYPE, "media_type", problem), (415, UNSUPPORTED_MEDIA_TYPE, "media_type", problem),
        (422, VALIDATION_ERROR, "name", problem), (403, FORBIDDEN, "role", problem),
    ]
    for data in (over, good["image/jpeg"], good["text/plain"], good["text/csv"]):
        assert copies(store, hashlib.sha256(data).hexdigest()) == 0
    assert leftovers(store) == []


async def test_a_tampered_document_is_an_error_never_its_bytes(store: EvidenceStore) -> None:
    service = TinyService(store)
    data = samples(unique())["text/plain"]
    async with client_of(service) as client:
        ref = service.cite(await upload(client, data, "text/plain", name="说明.txt"))
        tamper(store, ref.sha256, b"CHANGED " + data)
        got = await client.get(f"/evidence/{ref.sha256}")
    assert (got.status_code, got.json()["code"], got.json()["field"]) == (500, EVIDENCE_TAMPERED, "sha256")
    assert b"CHANGED" not in got.content


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """The app on a real uvicorn socket, in this process."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def until(check: object, seconds: float = 10.0) -> None:
    assert callable(check)
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_a_client_that_goes_away_mid_upload_leaves_nothing_and_a_whole_one_streams_back(
    store: EvidenceStore,
) -> None:
    """Over a real socket: the server was receiving (a staging file grows), the client closes; nothing is kept."""
    service = TinyService(store)
    data = samples(unique())["application/pdf"] + os.urandom(200_000)
    async with served(service.app) as url:
        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"POST /evidence?name=half.pdf HTTP/1.1\r\nhost: evidence\r\ncontent-type: application/pdf\r\n"
                     f"x-may-upload: yes\r\ncontent-length: {len(data)}\r\n\r\n".encode() + data[:120_000])
        await writer.drain()
        await until(lambda: any(n.startswith("incoming-") for n in leftovers(store)))
        writer.close()
        await until(lambda: leftovers(store) == [])
        assert copies(store, hashlib.sha256(data).hexdigest()) == 0
        assert copies(store, hashlib.sha256(data[:120_000]).hexdigest()) == 0
        async with httpx.AsyncClient(base_url=url) as client:
            ref = service.cite(await upload(client, data, "application/pdf"))
            async with client.stream("GET", f"/evidence/{ref.sha256}") as got:
                received = b"".join([chunk async for chunk in got.aiter_bytes()])
        assert received == data


def test_settings_name_the_store_and_refuse_what_cannot_work(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    default = open_store(EvidenceSettings(), tmp_path)
    assert isinstance(default, FilesystemStore) and default.root == tmp_path / "evidence"
    assert default.max_bytes == 20 * 1024 * 1024
    s3 = open_store(EvidenceSettings(s3_url="https://s3.example", s3_bucket="b"), tmp_path)
    assert isinstance(s3, S3Store) and s3.staging == tmp_path / "evidence-staging"
    assert settings_problem() is None
    for variable, value, said in (("FUNDTRACK_EVIDENCE_MAX_BYTES", "0", "FUNDTRACK_EVIDENCE_MAX_BYTES"),
                                  ("FUNDTRACK_EVIDENCE_S3_URL", "ftp://x", "FUNDTRACK_EVIDENCE_S3_URL"),
                                  ("FUNDTRACK_EVIDENCE_S3_URL", "https://s3.example", "FUNDTRACK_EVIDENCE_S3_BUCKET")):
        with monkeypatch.context() as patch:
            patch.setenv(variable, value)
            problem = settings_problem()
            assert problem is not None and said in problem, (variable, value, problem)


def _evidence(found: list[doctor.Finding]) -> list[tuple[str, str, str]]:
    return [(f.check, f.level, f.detail) for f in found if "EVIDENCE" in f.check or f.check == "evidence store"]


def test_doctor_reports_the_filesystem_store_writable_or_not(tmp_path: Path) -> None:
    [(check, level, detail)] = _evidence(doctor.check_evidence({}, tmp_path))
    assert (check, level) == ("evidence store", "ok") and f"filesystem: filesystem at {tmp_path / 'evidence'}" in detail
    (tmp_path / "a-file").write_text("not a directory")
    [(check, level, detail)] = _evidence(doctor.check_evidence({"FUNDTRACK_EVIDENCE_DIR": str(tmp_path / "a-file")},
                                                               tmp_path))
    assert (check, level) == ("evidence store", "fail"), detail


def test_doctor_reports_the_s3_store_reachable_or_not(moto_url: str, tmp_path: Path) -> None:
    env = {"FUNDTRACK_EVIDENCE_S3_URL": moto_url, "FUNDTRACK_EVIDENCE_S3_BUCKET": BUCKET,
           "FUNDTRACK_EVIDENCE_S3_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
           "FUNDTRACK_EVIDENCE_S3_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
           "FUNDTRACK_EVIDENCE_S3_REGION": CREDENTIALS["region_name"]}
    [(check, level, detail)] = _evidence(doctor.check_evidence(env, tmp_path))
    assert (check, level) == ("evidence store", "ok") and f"s3 bucket '{BUCKET}' at {moto_url}" in detail
    assert CREDENTIALS["aws_secret_access_key"] not in detail
    missing = doctor.check_evidence({**env, "FUNDTRACK_EVIDENCE_S3_BUCKET": "no-such-bucket"}, tmp_path)
    assert [(c, lv) for c, lv, _ in _evidence(missing)] == [("evidence store", "fail")]
    remote = {**env, "FUNDTRACK_EVIDENCE_S3_URL": "http://198.51.100.7:9", "FUNDTRACK_ENV": "production"}
    assert ("FUNDTRACK_EVIDENCE_S3_URL", "fail") in [(c, lv) for c, lv, _ in _evidence(
        doctor.check_evidence(remote, tmp_path))]
