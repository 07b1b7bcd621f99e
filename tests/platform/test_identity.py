"""Jurisdiction prefixes and the gateway's signature, as pure functions."""


import pytest
from sqlalchemy import column

from services.kernel.identity import Principal, SignatureError, body_digest, sign, verify
from services.kernel.regions import covers, jurisdiction_prefix
from services.kernel.scope import within_reach

SECRET = "s3cret"


@pytest.mark.parametrize(
    ("jurisdiction", "region", "covered"),
    [
        ("000000", "430523", True),  # central covers everything
        ("000000", "110101101001", True),
        ("430000", "430523", True),  # province
        ("430000", "430523101001", True),
        ("430000", "440300", False),
        ("430500", "430523", True),  # city
        ("430500", "430600", False),
        ("430500", "430000", False),  # a city does not cover its province
        ("430523", "430523", True),  # county
        ("430523", "430523101001", True),  # its villages
        ("430523", "430524", False),
        ("430523", "430500", False),
        ("430523101001", "430523101001", True),  # a village covers itself only
        ("430523101001", "430523101002", False),
        ("430523101001", "430523", False),
    ],
)
def test_jurisdiction_prefix_covers(jurisdiction: str, region: str, covered: bool) -> None:
    assert covers(jurisdiction, region) is covered


def test_prefixes() -> None:
    assert [jurisdiction_prefix(c) for c in ("000000", "430000", "430500", "430523")] == ["", "43", "4305", "430523"]


@pytest.mark.parametrize(
    ("jurisdiction", "region", "prefixes"),
    [
        ("000000", None, []),  # the whole country: no condition
        ("000000", "430500", ["4305"]),
        ("430000", None, ["43"]),
        ("430000", "430523", ["43", "430523"]),
        ("430523", "520121", ["430523", "520121"]),  # out of reach: both, so nothing is listed (not a 403)
    ],
)
def test_within_reach_narrows_never_widens(jurisdiction: str, region: str | None, prefixes: list[str]) -> None:
    principal = Principal(id="p", role="inspector", region_code=jurisdiction, name="p")
    conditions = within_reach(column("region_code"), principal, region)
    sql = " AND ".join(str(c.compile(compile_kwargs={"literal_binds": True})) for c in conditions)
    assert sql.count("LIKE") == len(prefixes), sql
    assert all(f"'{prefix}'" in sql for prefix in prefixes), sql


def _verify(
    headers: dict[str, str], *, method: str = "GET", path: str = "/x", query: str = "", now: float = 1000.0,
    audience: str = "funds",
) -> Principal:
    return verify(
        SECRET,
        ttl_seconds=30,
        method=method,
        path=path,
        query=query,
        request_id=headers["x-request-id"],
        principal_header=headers.get("x-ft-principal"),
        timestamp_header=headers.get("x-ft-timestamp"),
        signature_header=headers.get("x-ft-signature"),
        nonce_header=headers.get("x-ft-nonce"),
        body_digest_header=headers.get("x-ft-body-sha256"),
        audience=audience,
        now=now,
    ).principal


def test_signature_roundtrip_and_refusals() -> None:
    who = Principal(id="p1", role="finance", region_code="430000", name="湖南财政")
    headers = sign(
        SECRET, audience="funds", method="GET", path="/x", query="", request_id="r1", principal=who, now=1000.0
    )
    assert _verify(headers) == who
    with pytest.raises(SignatureError):  # another service (S5: an ack for funds replayed to loans)
        _verify(headers, audience="loans")
    with pytest.raises(SignatureError):  # another path
        _verify(headers, path="/y")
    with pytest.raises(SignatureError):  # another method
        _verify(headers, method="POST")
    with pytest.raises(SignatureError):  # another query
        _verify(headers, query="region=000000")
    with pytest.raises(SignatureError):  # expired
        _verify(headers, now=1031.0)
    forged = Principal(id="p1", role="admin", region_code="000000").encode()
    with pytest.raises(SignatureError):  # the principal swapped for a more powerful one
        _verify({**headers, "x-ft-principal": forged})
    with pytest.raises(SignatureError):  # another secret
        verify(
            "other",
            audience="funds",
            ttl_seconds=30,
            method="GET",
            path="/x",
            query="",
            request_id="r1",
            principal_header=headers["x-ft-principal"],
            timestamp_header=headers["x-ft-timestamp"],
            signature_header=headers["x-ft-signature"],
            nonce_header=headers["x-ft-nonce"],
            body_digest_header=headers["x-ft-body-sha256"],
            now=1000.0,
        )
    with pytest.raises(SignatureError):  # nothing at all
        _verify({"x-request-id": "r1"})


def test_the_query_is_signed_in_a_canonical_form() -> None:
    who = Principal(id="p1", role="finance", region_code="430000")
    headers = sign(
        SECRET, audience="funds", method="GET", path="/x", query="cursor=!!&limit=5", request_id="r1", principal=who,
        now=1000.0,
    )
    assert _verify(headers, query="cursor=%21%21&limit=5") == who  # the same query, escaped otherwise
    with pytest.raises(SignatureError):
        _verify(headers, query="cursor=%21%21&limit=6")


def test_the_signature_binds_the_body_digest_and_the_nonce() -> None:
    """S5: a captured signature cannot carry another body, nor pass as another request with a new nonce."""
    who = Principal(id="p1", role="lender", region_code="430523")
    body = b'{"amount_fen": 100}'
    headers = sign(SECRET, audience="funds", method="POST", path="/x", query="", request_id="r1", principal=who,
                   body_sha256=body_digest(body), now=1000.0)
    assert _verify(headers, method="POST") == who
    assert headers["x-ft-body-sha256"] == body_digest(body) and len(headers["x-ft-nonce"]) == 32
    with pytest.raises(SignatureError):  # the digest of another body
        _verify({**headers, "x-ft-body-sha256": body_digest(b'{"amount_fen": 999999}')}, method="POST")
    with pytest.raises(SignatureError):  # another nonce (to pass a replay as a new request)
        _verify({**headers, "x-ft-nonce": "0" * 32}, method="POST")
    with pytest.raises(SignatureError):  # no nonce at all
        _verify({k: v for k, v in headers.items() if k != "x-ft-nonce"}, method="POST")
    again = sign(SECRET, audience="funds", method="POST", path="/x", query="", request_id="r1", principal=who,
                 body_sha256=body_digest(body), now=1000.0)
    assert again["x-ft-nonce"] != headers["x-ft-nonce"]  # a fresh nonce for every signature


@pytest.mark.parametrize("stamp", ["9" * 13, "9" * 400, "1e3", "-1000", "１０００", " 1000"])
def test_a_malformed_timestamp_is_refused_not_a_500(stamp: str) -> None:
    """A 400-digit timestamp overflowed the float conversion of the expiry check: a 500 to an unsigned request."""
    who = Principal(id="p1", role="finance", region_code="430000")
    headers = sign(SECRET, audience="funds", method="GET", path="/x", query="", request_id="r1", principal=who)
    with pytest.raises(SignatureError, match="timestamp"):
        _verify({**headers, "x-ft-timestamp": stamp}, now=float(headers["x-ft-timestamp"]))
