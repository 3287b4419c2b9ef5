"""Swedish identity numbers: what is accepted, how it is normalised, and what is refused."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from coordination.db import LOCAL_ZONE, today_local
from coordination.errors import ServiceError
from secrecy.records.identity import IdentityNumber, parse_identity_number
from tests.numbers import luhn_digit, number_for

FORMAT_ERROR = "Ange personnumret som ÅÅÅÅMMDD-NNNN (eller ÅÅMMDD-NNNN)."
INVALID_ERROR = "Personnumret är inte giltigt: kontrollsiffran eller datumet stämmer inte."
FUTURE_ERROR = "Födelsedatumet ligger i framtiden."


def written(number: str, style: str) -> str:
    """The 12-digit number as a person might write it."""
    return {
        "long": number,
        "long-hyphen": f"{number[:8]}-{number[8:]}",
        "short-hyphen": f"{number[2:8]}-{number[8:]}",
        "short-plus": f"{number[2:8]}+{number[8:]}",
        "short": number[2:],
    }[style]


def with_check_digit(number: str, digit: int) -> str:
    return number[:-1] + str(digit)


def refused(raw: str) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        parse_identity_number(raw)
    assert caught.value.field == "personnummer"
    return caught.value


# --- Helpers are right (checked against published test numbers) --------------------------------


def test_the_luhn_helper_matches_known_numbers() -> None:
    assert number_for(dt.date(2012, 12, 12), 121) == "201212121212"
    assert number_for(dt.date(1970, 10, 3), 239, coordination=True) == "197010632391"
    assert luhn_digit("811228987") == 4  # Skatteverket's example 811228-9874


# --- Accepted forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised", "born"),
    [
        ("20121212-1212", "201212121212", dt.date(2012, 12, 12)),
        ("201212121212", "201212121212", dt.date(2012, 12, 12)),
        ("121212-1212", "201212121212", dt.date(2012, 12, 12)),
        ("1212121212", "201212121212", dt.date(2012, 12, 12)),
        ("121212+1212", "191212121212", dt.date(1912, 12, 12)),
        ("19121212-1212", "191212121212", dt.date(1912, 12, 12)),
        ("  20121212 - 1212 ", "201212121212", dt.date(2012, 12, 12)),
        ("811228-9874", "198112289874", dt.date(1981, 12, 28)),
    ],
)
def test_accepted_forms_normalise_to_twelve_digits(
    raw: str, normalised: str, born: dt.date
) -> None:
    result = parse_identity_number(raw)
    assert result == IdentityNumber(
        normalised=normalised, birth_date=born, coordination_number=False
    )


def test_a_samordningsnummer() -> None:
    result = parse_identity_number("701063-2391")
    assert result.coordination_number is True
    assert result.birth_date == dt.date(1970, 10, 3)
    assert result.normalised == "197010632391"  # the number keeps its day + 60
    long_form = parse_identity_number("19701063-2391")
    assert long_form == result


# --- Refused input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "abc",
        "20121212-121X",
        "2012121-21212",
        "20121212--1212",
        "2012-12-12-1212",
        "20121212_1212",
        "121212*1212",
        "12121212",
        "1212121212121",
        "2012121212121",
        "+1212121212",
        "20121212-1212\n0",
        "ett två tre",
    ],
)
def test_garbage_is_refused_with_the_format_message(raw: str) -> None:
    assert str(refused(raw)) == FORMAT_ERROR


@pytest.mark.parametrize(
    "raw",
    [
        "20121212-1213",  # wrong check digit
        "121212-1210",
        "19901301-1233",  # month 13
        "19900230-1232",  # 30 February
        "19900010-1234",  # month 00
        "19900100-1239",  # day 00
        "701093-2391",  # samordningsnummer day 33
        "20121212-0004",  # birth number 000 is never issued
    ],
)
def test_invalid_numbers_are_refused_with_the_validity_message(raw: str) -> None:
    assert str(refused(raw)) == INVALID_ERROR


def test_a_valid_check_digit_with_an_invalid_date_is_refused() -> None:
    # Luhn-valid on purpose: the date alone must fail it.
    for born_text in ("19901301", "19900230", "20230229", "19901232"):
        digits = born_text[2:] + "123"
        raw = f"{born_text}-123{luhn_digit(digits)}"
        assert str(refused(raw)) == INVALID_ERROR, raw


def test_a_leap_day_is_a_date() -> None:
    assert parse_identity_number(number_for(dt.date(2012, 2, 29), 5)).birth_date == dt.date(
        2012, 2, 29
    )


def test_a_future_birth_date_is_refused() -> None:
    tomorrow = today_local() + dt.timedelta(days=1)
    next_year = today_local().replace(month=1, day=1) + dt.timedelta(days=400)
    for born in (tomorrow, next_year):
        assert str(refused(number_for(born, 123))) == FUTURE_ERROR
    assert parse_identity_number(number_for(today_local(), 123)).birth_date == today_local()


def test_the_field_name_can_be_chosen() -> None:
    with pytest.raises(ServiceError) as caught:
        parse_identity_number("nonsens", field="guardian_personnummer")
    assert caught.value.field == "guardian_personnummer"


@pytest.mark.parametrize(
    "raw",
    [
        "２０１２１２１２-１２１２",  # full-width digits
        "١٢١٢١٢-١٢١٢",  # Arabic-Indic digits
        "20１２１２１２-1212",
    ],
    ids=["fullwidth", "arabic-indic", "mixed"],
)
def test_non_ascii_digits_never_yield_a_non_ascii_number(raw: str) -> None:
    """The normalised number feeds the blind index: "201212121212" written with other digit
    characters must either be refused or normalise to the same ASCII digits, or the same child
    gets a second index and duplicate detection is bypassed."""
    outcome: IdentityNumber | ServiceError
    try:
        outcome = parse_identity_number(raw)
    except ServiceError as exc:
        outcome = exc
    if isinstance(outcome, ServiceError):
        assert outcome.field == "personnummer"
    else:
        assert outcome.normalised == "201212121212"


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=LOCAL_ZONE), tick=False)
def test_ten_digits_with_hyphen_for_someone_aged_99_before_their_birthday() -> None:
    """``-`` means under 100 years old. On 2026-06-01, someone born 1926-07-01 is 99 and writes
    260701-NNNC; the century must come from the whole date, not from the year alone."""
    born = dt.date(1926, 7, 1)
    raw = written(number_for(born, 123), "short-hyphen")
    assert parse_identity_number(raw).birth_date == born


@time_machine.travel(dt.datetime(2026, 6, 1, 12, tzinfo=LOCAL_ZONE), tick=False)
def test_the_century_of_ten_digit_numbers_follows_the_sign() -> None:
    cases = {
        ("2025-12-31", "short-hyphen"): dt.date(2025, 12, 31),
        ("2026-05-31", "short-hyphen"): dt.date(2026, 5, 31),
        ("1927-01-01", "short-hyphen"): dt.date(1927, 1, 1),
        ("1926-05-01", "short-plus"): dt.date(1926, 5, 1),
        ("1925-07-01", "short-plus"): dt.date(1925, 7, 1),
    }
    for (born_text, style), expected in cases.items():
        raw = written(number_for(dt.date.fromisoformat(born_text), 42), style)
        assert parse_identity_number(raw).birth_date == expected, raw


# --- Properties ---------------------------------------------------------------------------------


@st.composite
def valid_numbers(draw: st.DrawFn) -> tuple[str, str, dt.date, bool]:
    """(as written, normalised, birth date, samordningsnummer) for a valid number."""
    today = today_local()
    style = draw(st.sampled_from(["long", "long-hyphen", "short-hyphen", "short", "short-plus"]))
    if style == "short-plus":
        # 100 years or older; two-digit years reach back 100 more years.
        low, high = dt.date(max(1900, today.year - 199), 1, 1), dt.date(today.year - 101, 12, 31)
    elif style in ("short-hyphen", "short"):
        low, high = dt.date(today.year - 99, 1, 1), today
    else:
        low, high = dt.date(1900, 1, 1), today
    born = draw(st.dates(min_value=low, max_value=high))
    serial = draw(st.integers(min_value=1, max_value=999))
    coordination = draw(st.booleans())
    normalised = number_for(born, serial, coordination=coordination)
    return written(normalised, style), normalised, born, coordination


@settings(max_examples=200, deadline=None)
@given(case=valid_numbers())
def test_every_valid_number_parses_and_normalises(case: tuple[str, str, dt.date, bool]) -> None:
    raw, normalised, born, coordination = case
    result = parse_identity_number(raw)
    assert result.normalised == normalised
    assert len(result.normalised) == 12 and result.normalised.isascii()
    assert result.normalised.isdigit()
    assert result.birth_date == born
    assert result.coordination_number is coordination
    day = born.day + 60 if coordination else born.day
    assert result.normalised[:8] == f"{born:%Y%m}{day:02d}"


@settings(max_examples=200, deadline=None)
@given(case=valid_numbers(), change=st.integers(min_value=1, max_value=9))
def test_any_other_check_digit_is_refused(
    case: tuple[str, str, dt.date, bool], change: int
) -> None:
    raw = case[0]
    wrong = with_check_digit(raw, (int(raw[-1]) + change) % 10)
    assert str(refused(wrong)) == INVALID_ERROR


@settings(max_examples=100, deadline=None)
@given(case=valid_numbers(), position=st.integers(min_value=0, max_value=20))
def test_a_changed_serial_digit_is_refused(
    case: tuple[str, str, dt.date, bool], position: int
) -> None:
    """Luhn catches every single-digit change in the birth number too."""
    raw = case[0]
    digits = [i for i, c in enumerate(raw) if c.isdigit()]
    index = digits[-4:-1][position % 3]
    changed = raw[:index] + str((int(raw[index]) + 1 + position % 9) % 10) + raw[index + 1 :]
    assert changed != raw
    with pytest.raises(ServiceError) as caught:
        parse_identity_number(changed)
    assert caught.value.field == "personnummer"
