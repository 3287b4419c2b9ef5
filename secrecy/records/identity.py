"""Swedish identity numbers: validate and normalise with the ``personnummer`` package."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from personnummer.personnummer import Personnummer, PersonnummerException

from coordination.db import today_local
from coordination.errors import ServiceError

# ASCII digits only: "\d" would let full-width or Arabic-Indic digits through, and they would
# get another blind index than the same number written in ASCII.
_ALLOWED = re.compile(r"^[0-9]{6}([0-9]{2})?[-+]?[0-9]{4}$")


@dataclass(frozen=True)
class IdentityNumber:
    normalised: str  # 12 digits, YYYYMMDDNNNN
    birth_date: dt.date
    coordination_number: bool


def parse_identity_number(raw: str, field: str = "personnummer") -> IdentityNumber:
    """Accepts YYYYMMDD-NNNN, YYYYMMDDNNNN, YYMMDD-NNNN, YYMMDDNNNN and YYMMDD+NNNN (100 years
    or older); samordningsnummer (day + 60) too. Errors are Swedish and name the problem."""
    value = raw.strip().replace(" ", "")
    if not _ALLOWED.match(value):
        raise ServiceError(
            _l("Ange personnumret som ÅÅÅÅMMDD-NNNN (eller ÅÅMMDD-NNNN)."), field=field
        )
    try:
        number = Personnummer(value)
    except PersonnummerException as exc:
        raise ServiceError(
            _l("Personnumret är inte giltigt: kontrollsiffran eller datumet stämmer inte."),
            field=field,
        ) from exc
    today = today_local()
    digits = value.replace("-", "").replace("+", "")
    if len(digits) == 12:
        birth = number.get_date()
        normalised = digits
    else:
        # The package picks the century from the year alone; the full date decides (someone
        # aged 99 before their birthday is not "born in the future").
        birth, normalised = _ten_digit_century(
            digits, value, today, number.is_coordination_number()
        )
    if birth > today:
        raise ServiceError(_l("Födelsedatumet ligger i framtiden."), field=field)
    return IdentityNumber(
        normalised=normalised,
        birth_date=birth,
        coordination_number=number.is_coordination_number(),
    )


def _ten_digit_century(
    digits: str, value: str, today: dt.date, coordination: bool
) -> tuple[dt.date, str]:
    """YYMMDD-NNNN: the person is under 100, so the most recent century in which the birth
    date is not after today; YYMMDD+NNNN: 100 years earlier still."""
    yy, month, day = int(digits[0:2]), int(digits[2:4]), int(digits[4:6])
    real_day = day - 60 if coordination else day
    for century in (today.year // 100, today.year // 100 - 1, today.year // 100 - 2):
        try:
            birth = dt.date(century * 100 + yy, month, real_day)
        except ValueError:
            continue  # 29 February in a century year that was not a leap year
        if birth <= today:
            break
    else:
        raise ServiceError(
            _l("Personnumret är inte giltigt: kontrollsiffran eller datumet stämmer inte.")
        )
    if "+" in value:
        try:
            birth = birth.replace(year=birth.year - 100)
        except ValueError as exc:
            raise ServiceError(
                _l("Personnumret är inte giltigt: kontrollsiffran eller datumet stämmer inte.")
            ) from exc
    return birth, f"{birth.year:04d}{digits[2:]}"
