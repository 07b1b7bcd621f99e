"""Who is calling: the principal, its jurisdiction, and the HMAC signature the gateway puts on it.

The gateway authenticates the API key and forwards the principal in `X-FT-Principal`; `X-FT-Signature` is an
HMAC-SHA256 over the timestamp, method, path, query, request id, principal, a nonce (`X-FT-Nonce`) and the body's
SHA-256 (`X-FT-Body-SHA256`), with a secret that only the gateway and the services share (S5). A service refuses
any request whose signature is missing, wrong or older than the TTL, whose body does not match the signed digest,
and a state-changing request whose nonce it has already seen (services/kernel/signed.py, uow.py). A streamed body
cannot be digested before it is sent: it is signed as `STREAMED_BODY`, which a service accepts on a streamed route
only (its nonce still binds the request once).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, urlencode

from services.kernel.regions import covers, jurisdiction_prefix

Role = Literal["admin", "finance", "project_manager", "lender", "inspector", "service", "public"]
ROLES: tuple[str, ...] = ("admin", "finance", "project_manager", "lender", "inspector")

PRINCIPAL_HEADER = "x-ft-principal"
TIMESTAMP_HEADER = "x-ft-timestamp"
SIGNATURE_HEADER = "x-ft-signature"
REQUEST_ID_HEADER = "x-request-id"
NONCE_HEADER = "x-ft-nonce"
BODY_DIGEST_HEADER = "x-ft-body-sha256"
# The body digest a streamed upload is signed with (it is not known before the body is sent).
STREAMED_BODY = "streamed"
EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Principal:
    id: str
    role: str
    region_code: str
    name: str = ""
    # A keyless caller's client, as the gateway determined it (an HMAC of its address, not the address): keeps one
    # public caller's Idempotency-Keys apart from another's (S11). Empty for every principal with a key.
    client: str = ""
    # The organisation (单位) the principal belongs to (gateway `organisations`): what a service records as "recorded
    # by" and matches against "responsible". Empty for the built-in admin, the public and the services.
    organisation_id: str = ""

    def covers(self, region_code: str) -> bool:
        return covers(self.region_code, region_code)

    @property
    def region_prefix(self) -> str:
        return jurisdiction_prefix(self.region_code)

    @property
    def organisation(self) -> str | None:
        """The organisation a record names as its recorder (O13), None for a principal without one."""
        return self.organisation_id or None

    def encode(self) -> str:
        fields = {k: v for k, v in asdict(self).items() if k not in ("client", "organisation_id") or v}
        raw = json.dumps(fields, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, value: str) -> Principal:
        data = json.loads(base64.urlsafe_b64decode(value.encode()))
        return cls(
            id=str(data["id"]),
            role=str(data["role"]),
            region_code=str(data["region_code"]),
            name=str(data.get("name", "")),
            client=str(data.get("client", "")),
            organisation_id=str(data.get("organisation_id", "")),
        )


def canonical_query(query: str) -> str:
    """The query as signed: decoded and re-encoded one way, so a client library that re-escapes it (`!` vs `%21`)
    between signing and sending does not break the signature."""
    return urlencode(parse_qsl(query, keep_blank_values=True), quote_via=quote)


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _message(
    timestamp: str, method: str, path: str, query: str, request_id: str, principal: str, nonce: str, digest: str,
    audience: str,
) -> bytes:
    fields = (timestamp, method.upper(), path, canonical_query(query), request_id, principal, nonce, digest, audience)
    return "\n".join(fields).encode()


def sign(
    secret: str,
    *,
    method: str,
    path: str,
    query: str,
    request_id: str,
    principal: Principal,
    audience: str,
    body_sha256: str = EMPTY_BODY_SHA256,
    nonce: str | None = None,
    now: float | None = None,
) -> dict[str, str]:
    """Headers that carry `principal` to a service for this one request and this body (S5): `body_sha256` is the
    hex SHA-256 of the body as sent, or STREAMED_BODY for a streamed upload; a fresh nonce unless one is given.
    `audience` is the service it is sent to: the same bytes are refused by any other (a nonce is remembered by the
    service that saw it, so without it an acknowledgement for funds could be replayed to loans)."""
    timestamp = str(int(now if now is not None else time.time()))
    encoded = principal.encode()
    once = nonce if nonce is not None else secrets.token_hex(16)
    message = _message(timestamp, method, path, query, request_id, encoded, once, body_sha256, audience)
    return {
        PRINCIPAL_HEADER: encoded,
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: hmac.new(secret.encode(), message, hashlib.sha256).hexdigest(),
        REQUEST_ID_HEADER: request_id,
        NONCE_HEADER: once,
        BODY_DIGEST_HEADER: body_sha256,
    }


class SignatureError(Exception):
    pass


@dataclass(frozen=True)
class Verified:
    """What a valid signature vouches for: who, which request (its nonce), and which body (its digest, or
    STREAMED_BODY: to be checked by the route, which must be a streamed one)."""

    principal: Principal
    nonce: str
    body_sha256: str
    signed_at: int = 0  # the signature's own timestamp (Unix seconds): S5's window is counted from it


def verify(
    secret: str,
    *,
    ttl_seconds: int,
    method: str,
    path: str,
    query: str,
    request_id: str,
    principal_header: str | None,
    timestamp_header: str | None,
    signature_header: str | None,
    nonce_header: str | None,
    body_digest_header: str | None,
    audience: str,
    now: float | None = None,
) -> Verified:
    """The signed identity, if the signature is the gateway's for exactly this request. The body is compared with
    the digest by the caller (the middleware reads it), the nonce with those already seen by the unit of work."""
    if not (principal_header and timestamp_header and signature_header and nonce_header and body_digest_header):
        raise SignatureError("the request carries no signed identity: services are reached through the gateway")
    if not (timestamp_header.isascii() and timestamp_header.isdigit() and len(timestamp_header) <= 12):
        # a 400-digit number overflowed the float conversion below: a 500 to an unsigned request
        raise SignatureError("the identity timestamp is malformed")
    try:
        timestamp = int(timestamp_header)
    except ValueError as exc:
        raise SignatureError("the identity timestamp is malformed") from exc
    current = now if now is not None else time.time()
    if abs(current - timestamp) > ttl_seconds:
        raise SignatureError("the signed identity has expired")
    expected = hmac.new(
        secret.encode(),
        _message(
            timestamp_header, method, path, query, request_id, principal_header, nonce_header, body_digest_header,
            audience,
        ),
        hashlib.sha256,
    ).hexdigest()
    if not hmac.compare_digest(expected, signature_header):
        raise SignatureError("the identity signature does not match")
    try:
        return Verified(Principal.decode(principal_header), nonce_header, body_digest_header, timestamp)
    except (ValueError, KeyError, json.JSONDecodeError) as exc:
        raise SignatureError("the signed principal is malformed") from exc
