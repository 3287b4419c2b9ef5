"""Valid Swedish identity numbers for tests, made by construction (the check digit is the Luhn
digit over YYMMDDNNN; the century is not part of it)."""

from __future__ import annotations

import datetime as dt


def luhn_digit(nine: str) -> int:
    total = 0
    for position, char in enumerate(nine):
        value = int(char) * (2 - position % 2)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def number_for(born: dt.date, serial: int, *, coordination: bool = False) -> str:
    """12 digits YYYYMMDDNNNC; a coordination number (samordningsnummer) adds 60 to the day."""
    day = born.day + 60 if coordination else born.day
    date_part = f"{born.year:04d}{born.month:02d}{day:02d}"
    return f"{date_part}{serial:03d}{luhn_digit(date_part[2:] + f'{serial:03d}')}"


def personnummer(born: dt.date, serial: int) -> str:
    """As people write it: YYYYMMDD-NNNC."""
    number = number_for(born, serial)
    return f"{number[:8]}-{number[8:]}"
