"""S14: the strict reading of JSON bodies (services/kernel/jsonbody.py), without a stack."""

import pytest

from services.kernel.errors import DUPLICATE_KEY, VALIDATION_ERROR, ValidationProblem
from services.kernel.jsonbody import MAX_INTEGER_DIGITS, loads_strict


@pytest.mark.parametrize(("raw", "code", "field"), [
    (b'{"a": 1, "a": 2}', DUPLICATE_KEY, "a"),
    (b'{"a": {"b": [0, {"c": 1, "c": 1}]}}', DUPLICATE_KEY, "a.b.1.c"),
    (b'{"a": [' + b"1" * (MAX_INTEGER_DIGITS + 1) + b"]}", VALIDATION_ERROR, "a.0"),
    (b'{"a": -' + b"1" * 5000 + b"}", VALIDATION_ERROR, "a"),
    (b'{"a": "\xc3\x28"}', VALIDATION_ERROR, "body"),
    (b"\xff\xfe{\x00}\x00", VALIDATION_ERROR, "body"),  # UTF-16 is not accepted either
    (b"{", VALIDATION_ERROR, "body"),
])
def test_refused(raw: bytes, code: str, field: str) -> None:
    with pytest.raises(ValidationProblem) as refused:
        loads_strict(raw)
    assert (refused.value.code, refused.value.field) == (code, field)


def test_accepted_as_plain_json() -> None:
    decoded = loads_strict('{"a": {"b": [1, {"c": "中"}]}, "n": -123, "big": 1000000000000000000000}'.encode())
    assert decoded == {"a": {"b": [1, {"c": "中"}]}, "n": -123, "big": 10**21}
    assert type(decoded) is dict and type(decoded["a"]) is dict  # no trace of the checking left
    assert loads_strict(b'[{"a": 1}, {"a": 2}]') == [{"a": 1}, {"a": 2}]  # equal keys in two objects are fine
