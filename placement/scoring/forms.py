"""Checks of typed form fields (``form_fill`` items): ``nonempty``, ``date``, ``phone``,
``postal_code``, ``email``, ``number``.

Candidates type as they can: a date may be ``12/03/1990``, ``12-3-90``, ``12 mars 1990``; a
French phone number ``06 12 34 56 78``, ``0612345678`` or ``+33 6 12 34 56 78``. A check says
whether the value is plausible for the field, not whether it is true.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

from placement.scoring.text import _fold

_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("janvier", "janv"),
            ("fevrier", "fev", "fevr"),
            ("mars",),
            ("avril", "avr"),
            ("mai",),
            ("juin",),
            ("juillet", "juil"),
            ("aout",),
            ("septembre", "sept"),
            ("octobre", "oct"),
            ("novembre", "nov"),
            ("decembre", "dec"),
        ]
    )
    for name in names
}
_NUMERIC_DATE = re.compile(r"^(\d{1,2})\s*[/.\- ]\s*(\d{1,2})\s*[/.\- ]\s*(\d{2}|\d{4})$")
_WORDED_DATE = re.compile(r"^(\d{1,2})(?:er)?\s+([a-z]+)\.?\s+(\d{4})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")


def _valid_date(day: int, month: int, year: int) -> bool:
    if year < 100:
        year += 1900 if year > 30 else 2000
    try:
        date(year, month, day)
    except ValueError:
        return False
    return 1900 <= year <= 2100


def check_date(value: str) -> bool:
    """A day, month and year in the French order, in digits or with the month's name."""
    text = _fold(value.strip().lower())
    numeric = _NUMERIC_DATE.match(text)
    if numeric:
        return _valid_date(int(numeric[1]), int(numeric[2]), int(numeric[3]))
    worded = _WORDED_DATE.match(text)
    if worded and worded[2] in _MONTHS:
        return _valid_date(int(worded[1]), _MONTHS[worded[2]], int(worded[3]))
    return False


def check_phone(value: str) -> bool:
    """A French number (10 digits from 0) or an international one (+ and 8 to 15 digits)."""
    compact = re.sub(r"[\s.\-()]", "", value.strip())
    if compact.startswith("+"):
        return compact[1:].isdigit() and 8 <= len(compact) - 1 <= 15
    if compact.startswith("00"):
        return compact.isdigit() and 10 <= len(compact) <= 17
    return compact.isdigit() and len(compact) == 10 and compact.startswith("0")


def check_postal_code(value: str) -> bool:
    """Five digits (spaces allowed), as French postal codes are."""
    compact = value.replace(" ", "").strip()
    return len(compact) == 5 and compact.isdigit()


def check_email(value: str) -> bool:
    """Something@domain.tld."""
    return bool(_EMAIL.match(value.strip().lower()))


def check_number(value: str) -> bool:
    """A whole or decimal number in digits."""
    return bool(re.fullmatch(r"\d+([.,]\d+)?", value.strip().replace(" ", "")))


CHECKS: dict[str, Callable[[str], bool]] = {
    "nonempty": lambda v: bool(v.strip()),
    "date": check_date,
    "phone": check_phone,
    "postal_code": check_postal_code,
    "email": check_email,
    "number": check_number,
}


def check_field(check: str, value: object) -> bool:
    """True when ``value`` passes ``check`` (an unknown check name raises KeyError)."""
    return CHECKS[check]("" if value is None else str(value))
