"""Errors of the scoring package.

ScoringError
├── NotScorable      the item has nothing to score this answer with (no key, no rubric)
└── BadAnswer        the stored answer does not have the shape the item's type needs
"""

from __future__ import annotations


class ScoringError(Exception):
    """Base of every error raised by :mod:`placement.scoring`."""


class NotScorable(ScoringError):
    """The item has nothing to score this kind of answer with (no key, no rubric)."""


class BadAnswer(ScoringError):
    """The answer's shape does not fit the item's type (``{"choice": ...}`` for a form...)."""
