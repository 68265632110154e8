"""The item bank: item sources, their validation, immutable versioned releases, QTI 3.0.

Public API (see ``itembank/README.md``)::

    load_release(version=None, root=None) -> Release     list_releases(root=None) -> list[str]
    load_bank(path) -> Bank                              validate(path) -> list[Problem]
    publish_release(sources, *, version=None, parameters_csv=None, notes="",
                    attachments={}, metadata={}, root=None) -> Release
"""

from itembank.errors import (
    BankInvalid,
    InvalidVersion,
    ItemBankError,
    ParametersInvalid,
    QtiError,
    ReleaseCorrupt,
    ReleaseError,
    ReleaseExists,
    ReleaseNotFound,
)
from itembank.model import Item
from itembank.parameters import (
    ParameterRow,
    ParameterTable,
    provisional_row,
    read_parameters_csv,
    write_parameters_csv,
)
from itembank.release import (
    RELEASES_ROOT,
    Changelog,
    Release,
    list_releases,
    load_release,
    publish_release,
)
from itembank.sources import Bank, BankSettings, load_bank
from itembank.validation import Problem, validate

BANK_ROOT = RELEASES_ROOT.parent / "bank"

__all__ = [
    "BANK_ROOT",
    "RELEASES_ROOT",
    "Bank",
    "BankInvalid",
    "BankSettings",
    "Changelog",
    "InvalidVersion",
    "Item",
    "ItemBankError",
    "ParameterRow",
    "ParameterTable",
    "ParametersInvalid",
    "Problem",
    "QtiError",
    "Release",
    "ReleaseCorrupt",
    "ReleaseError",
    "ReleaseExists",
    "ReleaseNotFound",
    "list_releases",
    "load_bank",
    "load_release",
    "provisional_row",
    "publish_release",
    "read_parameters_csv",
    "validate",
    "write_parameters_csv",
]
