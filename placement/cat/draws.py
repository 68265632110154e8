"""The random draws of one step: a counter-based stream keyed by (session seed, step).

Every step of a session needs a handful of draws (a randomesque pick, a Sympson–Hetter
acceptance per ranked item, a pretest item). Each step gets its own stream, a function of the
session's seed and the number of responses so far, so that any step can be replayed alone.

The stream is SplitMix64 (Steele, Lea & Flood 2014, the generator Java's ``SplittableRandom``
and the seeding of xoshiro use): a 64-bit state advanced by the golden-ratio increment and
passed through a bijective mixing function. Building one costs under 2 µs, against 15–25 µs
for a ``numpy.random.Generator`` behind a ``SeedSequence`` — a tenth of a whole step. Its
statistical quality (it passes BigCrush) is far beyond what choosing among a few items needs.

Any object with the two methods of :class:`Draws` can stand in for it, a
``numpy.random.Generator`` included, when replay does not matter.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from placement.irt.errors import InvalidState

_MASK = (1 << 64) - 1
_GAMMA = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, odd
_MIX1 = 0xBF58476D1CE4E5B9
_MIX2 = 0x94D049BB133111EB
_KEY = 0x243F6A8885A308D3  # the first hex digits of pi: the hash of an empty key
_TO_UNIT = 2.0**-53


class Draws(Protocol):
    """What the engine draws from: uniforms in [0, 1) and integers in [0, high)."""

    def random(self) -> float:
        """One uniform in [0, 1)."""
        ...

    def integers(self, high: int) -> int | np.integer:
        """One integer, uniform in ``[0, high)``."""
        ...


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _MIX1) & _MASK
    z = ((z ^ (z >> 27)) * _MIX2) & _MASK
    return z ^ (z >> 31)


class StepRng:
    """SplitMix64 keyed by non-negative integers (the session's seed, the step number).

    Each draw takes the next 64-bit word of the stream.
    """

    __slots__ = ("_state",)

    def __init__(self, *key: int) -> None:
        h = _KEY
        for value in key:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidState(f"a stream key must be a non-negative integer, got {value!r}")
            word = value
            while True:  # every 64-bit word of a value, so large seeds keep all their bits
                h = _mix(((h ^ (word & _MASK)) + _GAMMA) & _MASK)
                word >>= 64
                if not word:
                    break
            h = (h + _GAMMA) & _MASK  # ends the value: (1, 0) and (1,) differ
        self._state = h

    def _next(self) -> int:
        self._state = (self._state + _GAMMA) & _MASK
        return _mix(self._state)

    def random(self) -> float:
        """One uniform in [0, 1), with 53 random bits."""
        return (self._next() >> 11) * _TO_UNIT

    def integers(self, high: int) -> int:
        """One integer uniform in ``[0, high)``.

        Lemire's multiply-shift of one 64-bit draw: the bias is at most ``high / 2**64``.
        """
        if high < 1:
            raise ValueError(f"high must be >= 1, got {high}")
        return (self._next() * high) >> 64
