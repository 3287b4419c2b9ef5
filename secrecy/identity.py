"""Swedish identity numbers: validate and normalise with the ``personnummer`` package."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from personnummer.personnummer import Personnummer, PersonnummerException

from coordination.db import today_local
from coordination.services import ServiceError

_ALLOWED = re.compile(r"^\d{6}(\d{2})?[-+]?\d{4}$")


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
    birth = number.get_date()
    if birth > today_local():
        raise ServiceError(_l("Födelsedatumet ligger i framtiden."), field=field)
    return IdentityNumber(
        normalised=number.format(long_format=True),
        birth_date=birth,
        coordination_number=number.is_coordination_number(),
    )
