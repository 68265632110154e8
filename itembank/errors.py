"""Errors raised by the item bank.

Exception tree::

    ItemBankError                 every error of this package
    ├── BankInvalid               the sources do not validate (``problems`` lists every one)
    ├── ReleaseError              about published releases
    │   ├── ReleaseNotFound       no such version (or no release at all) under the root
    │   ├── ReleaseExists         publishing a version that already exists: releases are immutable
    │   ├── ReleaseCorrupt        a file of a release no longer matches its manifest
    │   └── InvalidVersion        a version that is not ``YYYY.MM.N``
    ├── ParametersInvalid         a parameter CSV that does not fit the release's items
    └── QtiError                  a QTI package that cannot be read or written
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from itembank.validation import Problem


class ItemBankError(Exception):
    """Base class of every error raised by :mod:`itembank`."""


class BankInvalid(ItemBankError):
    """The bank's sources have problems; ``problems`` holds all of them."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"the bank has {len(self.problems)} problem(s):\n{lines}{more}")


class ReleaseError(ItemBankError):
    """Something is wrong with a published release."""


class ReleaseNotFound(ReleaseError):
    """The requested release version does not exist under the releases root."""


class ReleaseExists(ReleaseError):
    """The version is already published; a published release is never overwritten."""


class ReleaseCorrupt(ReleaseError):
    """Files of a release differ from its manifest (edited after publication)."""


class InvalidVersion(ReleaseError):
    """A release version must read ``YYYY.MM.N`` (e.g. ``2026.11.0``)."""


class ParametersInvalid(ItemBankError):
    """A parameter CSV is malformed or does not match the release's items."""


class QtiError(ItemBankError):
    """A QTI 3.0 package cannot be read, or an item cannot be written as QTI."""
