"""Errors of the IRT and CAT core, and the root of the whole ``placement`` exception tree.

The pure core (``placement.irt``, ``placement.cat``) may import nothing but numpy, scipy and
itself, so the tree starts here; :mod:`placement.errors` re-exports it for the rest of the
package and is the place other ``placement`` modules hang their own errors from.

Exception tree::

    PlacementError                  anything placement raises on purpose
    └── EngineError(ValueError)     bad input to the engine
        ├── InvalidPool             item parameters that make no model (unknown model, a <= 0,
        │                           NaN, c outside [0, 1), d <= c, unordered GRM thresholds,
        │                           empty pool, duplicate ids...)
        ├── InvalidPattern          a response pattern the estimators cannot use (score out of
        │                           range, unknown item index, mismatched lengths)
        ├── InvalidRules            a rules file or ``Rules`` value that is inconsistent
        │   └── BlueprintUnsatisfiable  a blueprint the pool cannot meet (not enough items
        │                           of a skill or of a theme for the minimums)
        ├── InvalidState            a ``TestState`` the engine cannot continue (unknown item,
        │                           same item twice, score outside 0..k, negative time)
        └── InvalidPolicy           a policy file that is missing, unreadable or inconsistent

What a person wrote — a rules file, a policy file, an item's parameters — is refused in
French, naming the file, the key and the item: every such message reaches a psychometrician
as it is (``placement simulate``, ``placement exposure``, the calibration report), and the web
app maps the class to its own message. Errors that only a programmer can cause (array shapes,
a ``TestState`` the engine cannot continue, calling ``decide()`` without the global level)
stay in English. Callers tell errors apart by class, never by message.
"""

from __future__ import annotations


class PlacementError(Exception):
    """Root of every error ``placement`` raises on purpose."""


class EngineError(PlacementError, ValueError):
    """Bad input to the engine: parameters, patterns, rules, states or policies."""


class InvalidPool(EngineError):
    """Item parameters that do not make a valid pool."""


class InvalidPattern(EngineError):
    """A response pattern that does not fit the pool."""


class InvalidRules(EngineError):
    """CAT rules that are inconsistent or malformed."""


class BlueprintUnsatisfiable(InvalidRules):
    """A blueprint whose minimums the pool cannot meet.

    ``skill``, ``needed`` and ``available`` name the first section short of items, for callers
    that word it their own way (None when the fault is not one section's).
    """

    def __init__(
        self,
        message: str,
        *,
        skill: str | None = None,
        needed: int | None = None,
        available: int | None = None,
    ) -> None:
        super().__init__(message)
        self.skill, self.needed, self.available = skill, needed, available


class InvalidState(EngineError):
    """A test state the engine cannot continue from."""


class InvalidPolicy(EngineError):
    """A prescription policy that is missing or inconsistent."""
