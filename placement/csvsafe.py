"""CSV files that a spreadsheet opens without running anything: one writer for every CSV the
app writes (the day's results, the responses files of the psychometrician's page and of the
calibration export, the simulation's tables). The bank's parameter CSV (``itembank``, which
imports no other package) holds only ids and numbers the psychometricians wrote.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel, LibreOffice and Google Sheets (``=HYPERLINK(...)``, ``@SUM(...)``, DDE); such a text cell
gets a leading apostrophe, which spreadsheets show as a plain text marker (OWASP's advice).
Numbers are left alone, including negative ones (``-0.52``): a plain number is never a formula,
and the files stay readable by programs.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DictWriter", "escape_formula", "writer"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def escape_formula(value: Any) -> Any:
    """``value`` as a spreadsheet shows it as text: ``'`` before a text that starts a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        if _PLAIN_NUMBER.fullmatch(value):
            return value
        return "'" + value
    return value


class _Writer:
    """``csv.writer`` whose rows are escaped."""

    def __init__(self, handle: Any, **fmt: Any) -> None:
        self._writer = csv.writer(handle, **fmt)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([escape_formula(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(handle: Any, **fmt: Any) -> _Writer:
    """A ``csv.writer`` on ``handle`` that escapes formulas in every cell."""
    return _Writer(handle, **fmt)


class DictWriter(csv.DictWriter):
    """``csv.DictWriter`` that escapes formulas in every cell (the header is ours)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: escape_formula(v) for k, v in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        for row in rowdicts:
            self.writerow(row)
