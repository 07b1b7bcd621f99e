"""Field types shared by every service's request schemas: codes and money validated at the edge, so a malformed
value is a 422 naming the field and never reaches the database (DOMAIN.md "Codes and identifiers")."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator

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


# Region codes are ASCII digits only ([0-9], never \d: pydantic's regex engine takes any Unicode digit for \d).
# Every region code the API takes, in a body, a path or a query, is one of these types (S3).
REGION_PATTERN = r"^[0-9]{6}$"
VILLAGE_PATTERN = r"^[0-9]{12}$"
ANY_REGION_PATTERN = r"^([0-9]{6}|[0-9]{12})$"
RegionCode = Annotated[str, Field(pattern=REGION_PATTERN, description="GB/T 2260 six-digit region code")]
CountyCode = Annotated[RegionCode, AfterValidator(check_county_code)]
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


def date_as_text(value: object) -> object:
    """A date is written `YYYY-MM-DD`: a JSON number is refused, not read as seconds since 1970 (`{"as_of": 0}` ran
    every detector as of 1970-01-01)."""
    if isinstance(value, int | float):
        raise ValueError("日期须写作 YYYY-MM-DD / a date is written as text, YYYY-MM-DD, not a number")
    return value


Day = Annotated[date, BeforeValidator(date_as_text), AfterValidator(check_day)]


def check_happened(value: date) -> date:
    """The date of something that has happened (money appropriated, allocated, arranged, paid, reversed; a loan
    issued, repaid, used; a dividend paid) is not after today in China: a record dated ahead would stay out of every
    report and detector run until that day."""
    if value > clock.today():
        raise ValueError(f"日期晚于今天 / the date of what happened may not be after today ({clock.today()}, China)")
    return value


# A date that has happened: within Day's years and not after today.
Happened = Annotated[date, BeforeValidator(date_as_text), AfterValidator(check_day), AfterValidator(check_happened)]


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


class Input(BaseModel):
    """Base of every request body: an unknown (misspelt) field is refused, never silently dropped, and no text in
    it holds a control character nor a date outside EARLIEST_DAY..LATEST_DAY (a 422 naming the field, never a 500
    from the database or from date arithmetic)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters_nor_wild_dates(cls, value: Any) -> Any:
        _check_text(value)  # nested Input models have checked their own fields; dates are checked for range too
        return value
