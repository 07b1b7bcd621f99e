"""Field types shared by every service's request schemas: codes and money validated at the edge, so a malformed
value is a 422 naming the field and never reaches the database (DOMAIN.md "Codes and identifiers")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from services.kernel import clock
from services.kernel.regions import county_of, is_county

# Money in fen. The ceiling (10^15 fen = 10 trillion yuan) keeps every sum inside BIGINT.
MAX_FEN = 10**15
Fen = Annotated[StrictInt, Field(gt=0, le=MAX_FEN, description="amount in fen (分), a positive integer")]
FenOrZero = Annotated[StrictInt, Field(ge=0, le=MAX_FEN, description="amount in fen (分), zero or more")]

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def is_ascii_digits(value: str) -> bool:
    """Only 0-9 (S3): `str.isdigit()` and a regex's `\\d` also take full-width (`４３０５２３`) and other Unicode
    digits, making codes that no prefix of ASCII digits covers (records no regional principal can see)."""
    return value.isascii() and value.isdigit()


def id_number_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def birth_date_of(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def check_id_number(value: str) -> str:
    """GB 11643: 17 digits, a check character, and a real birth date inside."""
    value = value.upper()
    if len(value) != 18 or not is_ascii_digits(value[:17]) or not (is_ascii_digits(value[17]) or value[17] == "X"):
        raise ValueError("身份证号应为 18 位 / an identity number is 17 digits and a check character")
    if id_number_check_char(value[:17]) != value[17]:
        raise ValueError("身份证号校验位错误 / the identity number's check digit is wrong (GB 11643)")
    try:
        birth_date_of(value)
    except ValueError as exc:
        raise ValueError("身份证号中的出生日期无效 / the birth date inside the identity number is not a date") from exc
    return value


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def check_uscc(value: str) -> str:
    """GB 32100: 18 characters from the code's alphabet, the last a check character."""
    value = value.upper()
    if len(value) != 18 or any(c not in USCC_CHARS for c in value):
        raise ValueError("统一社会信用代码应为 18 位 / a credit code is 18 characters (GB 32100)")
    if uscc_check_char(value[:17]) != value[17]:
        raise ValueError("统一社会信用代码校验位错误 / the credit code's check character is wrong (GB 32100)")
    return value


def is_cooperative(uscc: str) -> bool:
    """`93…`: registered by the market regulator as a farmers' cooperative (农民专业合作社)."""
    return uscc.startswith("93")


def check_county_code(value: str) -> str:
    if not is_county(value):
        raise ValueError("不是县级代码 / not a county code: a county's code does not end in 00")
    return value


def check_village_code(value: str) -> str:
    if not is_county(county_of(value)):
        raise ValueError("村代码的前六位应为县级代码 / a village code starts with its county's code")
    return value


# An object's id in a path (`prj_01hx…`, `alert-funds_…`, `scan-3-1733300000`): what the gateway takes there.
ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"

# Region codes are ASCII digits only ([0-9], never \d: pydantic's regex engine takes any Unicode digit for \d).
# Every region code the API takes, in a body, a path or a query, is one of these types (S3).
REGION_PATTERN = r"^[0-9]{6}$"
# A county: six digits not ending in 00 (`000000` is the centre, `PP0000` a province, `PPCC00` a city).
COUNTY_PATTERN = r"^[0-9]{4}([0-9][1-9]|[1-9]0)$"
VILLAGE_PATTERN = r"^[0-9]{12}$"
ANY_REGION_PATTERN = r"^([0-9]{6}|[0-9]{12})$"
RegionCode = Annotated[str, Field(pattern=REGION_PATTERN, description="GB/T 2260 six-digit region code")]
# A province: `PP0000`, not the centre's `000000`.
PROVINCE_PATTERN = r"^([0-9][1-9]|[1-9]0)0000$"
ProvinceCode = Annotated[str, Field(pattern=PROVINCE_PATTERN, description="GB/T 2260 province code")]
CountyCode = Annotated[
    str, Field(pattern=COUNTY_PATTERN, description="GB/T 2260 county code"), AfterValidator(check_county_code)
]
VillageCode = Annotated[
    str, Field(pattern=VILLAGE_PATTERN, description="12-digit village code"), AfterValidator(check_village_code)
]
AnyRegionCode = Annotated[str, Field(pattern=ANY_REGION_PATTERN, description="region or village code")]
IdNumber = Annotated[str, Field(min_length=18, max_length=18), AfterValidator(check_id_number)]
CreditCode = Annotated[str, Field(min_length=18, max_length=18), AfterValidator(check_uscc)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


def mask_id_number(value: str) -> str:
    """A5: `430523********1234`."""
    return value[:6] + "*" * 8 + value[-4:]


def mask_account_no(value: str) -> str:
    """A5 (S7): a 一卡通 or bank account as banks print it: the issuer's six digits and the last four of a number of 16
    characters or more (`621700*********0001`), only the last four of a shorter one; each hidden character a `*`."""
    if len(value) <= 4:
        return "*" * len(value)
    head = value[:6] if len(value) >= 16 else ""
    return head + "*" * (len(value) - len(head) - 4) + value[-4:]


# C0 control characters but tab, line feed and carriage return; DEL; lone UTF-16 surrogates. PostgreSQL text cannot
# hold NUL nor a surrogate (the insert fails: a 500), and the others have no business in a record or a filter.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


# The same characters as JSON Schema patterns (ECMA-262, as schemathesis and client generators read them): text that
# holds none of them, and such text with one character besides white space (what is left once stripped: `Input`).
_CONTROL_CLASS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
TEXT_PATTERN = rf"^[^{_CONTROL_CLASS}]*$"
NONBLANK_TEXT_PATTERN = rf"^[^{_CONTROL_CLASS}]*[^\s{_CONTROL_CLASS}][^{_CONTROL_CLASS}]*$"
WORD_PATTERN = rf"^[^\s{_CONTROL_CLASS}]+$"  # one word: no white space, no control character


def control_character_in(value: str) -> str | None:
    """The first character of `value` that text input may not hold, or None."""
    if value.isprintable():  # the common case, checked in C
        return None
    found = _CONTROL.search(value)
    return found.group() if found else None


# Every date the system takes (issued, paid, announced, as of...) lies in these years; outside them a date is a
# typo, and date arithmetic near year 1 or 9999 (an announcement's end, a scan's look-back) overflows: a 500.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def check_day(value: date) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValueError(f"日期超出范围 / a date must lie between {EARLIEST_DAY} and {LATEST_DAY}")
    return value


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def date_as_text(value: object) -> object:
    """A date is written `YYYY-MM-DD`: a number (in a body, or as text in a query: `?as_of=0`) is refused, not read
    as seconds since 1970 (`{"as_of": 0}` ran every detector as of 1970-01-01)."""
    if isinstance(value, int | float) or (isinstance(value, str) and not ISO_DAY.fullmatch(value)):
        raise ValueError("日期须写作 YYYY-MM-DD / a date is written as text, YYYY-MM-DD, not a number")
    return value


# RFC 3339's date-time (the OpenAPI `format: date-time`): a date, a time and its offset from UTC.
INSTANT_PATTERN = (  # years 1900-2999, as Day's (year 1 in UTC cannot even be sent to PostgreSQL: a 500)
    r"^(19[0-9]{2}|2[0-9]{3})-[0-9]{2}-[0-9]{2}[Tt ]"
    r"[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
ISO_INSTANT = re.compile(INSTANT_PATTERN)


def instant_as_text(value: object) -> object:
    """A moment is written as RFC 3339 text with its offset (`2026-01-01T00:00:00Z`): not a number of seconds
    (`?until=0.5` was read as 1970), nor a time without its zone."""
    if not (isinstance(value, datetime) or (isinstance(value, str) and ISO_INSTANT.match(value))):
        raise ValueError("时间须写作 RFC 3339 / a time is written as 2026-01-01T08:00:00+08:00 (RFC 3339)")
    return value


@dataclass(frozen=True)
class Documented:
    """Adds to a type's JSON schema (the OpenAPI document) what its validators enforce but pydantic cannot say: a
    date's years, text's characters. The validators stay the rule; this only describes them."""

    extra: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(self, core_schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update(dict(self.extra))
        return schema


# EARLIEST_DAY..LATEST_DAY as text: years 1900-2999 (a month's last days are left to `format: date`).
DAY_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
DAY_SCHEMA = Documented((("pattern", DAY_PATTERN),))
Day = Annotated[date, BeforeValidator(date_as_text), AfterValidator(check_day), DAY_SCHEMA]
Instant = Annotated[
    datetime, BeforeValidator(instant_as_text), AfterValidator(check_day), Documented((("pattern", INSTANT_PATTERN),))
]


def check_happened(value: date) -> date:
    """The date of something that has happened (money appropriated, allocated, arranged, paid, reversed; a loan
    issued, repaid, used; a dividend paid) is not after today in China: a record dated ahead would stay out of every
    report and detector run until that day."""
    if value > clock.today():
        raise ValueError(f"日期晚于今天 / the date of what happened may not be after today ({clock.today()}, China)")
    return value


# A date that has happened: within Day's years and not after today.
Happened = Annotated[
    date, BeforeValidator(date_as_text), AfterValidator(check_day), AfterValidator(check_happened), DAY_SCHEMA
]


def escape_control_characters(value: str) -> str:
    """`value` with each character text may not hold written as its escape (`%00`, `\\udc80`), for records that must
    keep whatever a client sent (the audit trail records every request, malformed ones too)."""
    if control_character_in(value) is None:
        return value

    def escape(found: re.Match[str]) -> str:
        code = ord(found.group())
        return f"%{code:02X}" if code < 256 else f"\\u{code:04x}"

    return _CONTROL.sub(escape, value)


def _check_text(value: Any) -> None:
    if isinstance(value, date):
        check_day(value)
    elif isinstance(value, str):
        bad = control_character_in(value)
        if bad is not None:
            raise ValueError(f"含有控制字符 / contains a control character (U+{ord(bad):04X})")
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)


NUMBERS = (int, float, Decimal)
TEXTUAL = (str, date, datetime, Enum)  # what JSON carries as text (dates, times and our enumerations included)


def _kinds(annotation: Any) -> set[type]:
    """The plain types a field's annotation admits (through Optional, unions and Annotated); empty when unknown."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _kinds(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return set().union(*(_kinds(arg) for arg in get_args(annotation) if arg is not type(None)))
    return {annotation} if isinstance(annotation, type) and origin is None else set()


class Mistyped:
    """A JSON value of the wrong type for its field, which no field type validates (so the field's error names it)."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"{self.value!r} (JSON {type(self.value).__name__})"


def as_declared(value: Any, annotation: Any) -> Any:
    """The value for validation: a whole number written `5.0` is the integer JSON Schema takes it for; a value of
    another JSON type than its field's is `Mistyped`."""
    if isinstance(value, float) and value.is_integer() and int in _kinds(annotation) and abs(value) <= 2**53:
        return int(value)
    return Mistyped(value) if mistyped(value, annotation) else value


def mistyped(value: Any, annotation: Any) -> bool:
    """S14, strict types (issue #14): is this JSON value not of its field's JSON type? Pydantic's lax mode would take
    `"5"` or `5.0` for an integer, `"yes"` or `1` for a truth value, and a number for a time (seconds since 1970);
    `Input` refuses each, naming the field, as the OpenAPI document's types say."""
    kinds = _kinds(annotation)
    if not kinds or object in kinds:
        return False
    numeric = any(issubclass(k, NUMBERS) and not issubclass(k, bool) for k in kinds)
    textual = any(issubclass(k, TEXTUAL) for k in kinds)
    if isinstance(value, bool):
        wrong = bool not in kinds
    elif isinstance(value, int | float):
        wrong = not numeric or (isinstance(value, float) and not any(issubclass(k, float | Decimal) for k in kinds))
    elif isinstance(value, str):
        wrong = not textual and (numeric or bool in kinds)
    else:
        wrong = False
    return wrong


def _document_text(schema: dict[str, Any]) -> None:
    """A string's schema says what `Input` takes: no control character, and (stripped) not blank when it may not be
    empty; a schema that says its own pattern, format or values is left as it is."""
    if schema.get("type") == "string" and not {"pattern", "format", "enum", "const"} & schema.keys():
        schema["pattern"] = NONBLANK_TEXT_PATTERN if schema.get("minLength", 0) >= 1 else TEXT_PATTERN
    elif schema.get("type") == "string" and schema.get("format") == "date" and "pattern" not in schema:
        schema["pattern"] = DAY_PATTERN  # every date of a body lies in EARLIEST_DAY..LATEST_DAY (`_check_text`)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for part in schema.get(key, ()):
            _document_text(part)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _document_text(schema[key])


def _document_input(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        _document_text(prop)


class Input(BaseModel):
    """Base of every request body: an unknown (misspelt) field is refused, never silently dropped, and no text in
    it holds a control character nor a date outside EARLIEST_DAY..LATEST_DAY (a 422 naming the field, never a 500
    from the database or from date arithmetic). Its JSON schema says so (`_document_input`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra=_document_input)

    @model_validator(mode="before")
    @classmethod
    def _json_types_as_declared(cls, data: Any) -> Any:
        """A value of the wrong JSON type (`mistyped`) is handed on as one no type takes: its field's own error."""
        if not isinstance(data, dict):
            return data
        fields = {field.alias or name: field for name, field in cls.model_fields.items()}
        return {k: as_declared(v, fields[k].annotation) if k in fields else v for k, v in data.items()}

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters_nor_wild_dates(cls, value: Any) -> Any:
        _check_text(value)  # nested Input models have checked their own fields; dates are checked for range too
        return value
