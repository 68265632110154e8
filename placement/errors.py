"""Errors of the ``placement`` package.

The engine's tree is defined in :mod:`placement.irt.errors` (the pure core may import only
itself, numpy and scipy) and re-exported here; other ``placement`` modules import their base
classes from this module and may add their own below.

Exception tree::

    PlacementError                  anything placement raises on purpose
    └── EngineError(ValueError)     bad input to the engine
        ├── InvalidPool             unknown model, a <= 0, NaN, c outside [0, 1), empty pool,
        │                           duplicate ids, unordered GRM thresholds
        ├── InvalidPattern          scores outside 0..k, unknown item, mismatched lengths
        ├── InvalidRules            inconsistent or malformed rules (file, key and value named)
        │   └── BlueprintUnsatisfiable  the pool cannot meet the blueprint's minimums
        ├── InvalidState            a test state the engine cannot continue from
        ├── InvalidPolicy           a policy file that is missing or inconsistent
        ├── InvalidBank             a parameter CSV or release the engine cannot read
        └── InvalidResponses        a responses file that cannot be read (file, line named)
"""

from __future__ import annotations

from placement.irt.errors import (
    BlueprintUnsatisfiable,
    EngineError,
    InvalidPattern,
    InvalidPolicy,
    InvalidPool,
    InvalidRules,
    InvalidState,
    PlacementError,
)


class InvalidBank(EngineError):
    """A parameter CSV or a release that cannot be turned into a pool."""


class InvalidResponses(EngineError):
    """A responses file (:mod:`placement.responses`) that cannot be read.

    Parameters
    ----------
    path : str
        The file, as the user named it.
    reason : str
        What is wrong, in French.
    line : int, optional
        The line of the user's file where it is wrong (the header is line 1).
    """

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        where = f"{path}, ligne {line}" if line is not None else path
        super().__init__(f"{where} : {reason}")
        self.path = path
        self.reason = reason
        self.line = line


__all__ = [
    "BlueprintUnsatisfiable",
    "EngineError",
    "InvalidBank",
    "InvalidPattern",
    "InvalidPolicy",
    "InvalidPool",
    "InvalidResponses",
    "InvalidRules",
    "InvalidState",
    "PlacementError",
]
