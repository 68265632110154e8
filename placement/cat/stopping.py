"""Stopping rules and their precedence.

Precedence (the first rule that applies decides; :func:`placement.cat.next_step` follows it)

Test level, checked before anything else:

1. ``time_limit`` — ``state.elapsed_s >= stopping.time_limit_s``: the whole test ends now, even
   below any minimum.
2. ``max_items`` — the test reached ``stopping.max_items`` operational items: the test ends.

Section level, for the current section (then the next ones in order):

3. ``section_max`` — the section reached its ``max_items``: the section ends.
   ``test_budget`` — the items the test may still give (``stopping.max_items`` minus what
   was given) are all needed by the later sections' minimums: the section ends.
   ``time_budget`` — past its minimum, one more item of the section (``item_seconds``) would
   leave too little of the time limit for the minimums of the later sections.
4. ``no_items`` — no eligible item is left for the section (pool exhausted, enemies, path):
   the section ends.
5. *continue* — fewer than the section's ``min_items``: nothing else may stop it.
6. *continue* — the whole test would fall short of ``stopping.min_items`` (what was given
   plus the minimums of the later sections), or a theme still lacks its minimum and the later
   sections' minimums cannot make it up: the section goes on.
7. ``se_target`` — the posterior SD is at or below the section's ``se_target`` (else the test's).
8. ``classification`` — the CI method or the SPRT (``stopping.classification``) decides every
   cut of ``classification.levels`` for the skill; ``decision`` — with the ``decision`` method,
   the section's remaining items can no longer change the decision (dispense or hours) materially
   (value of information, :func:`placement.cat.step._decision_settled`).

7 and 8 are alternatives (whichever comes first ends the section); a section that ends neither
way runs until 3 or 4. With ``classification.hold_se`` the SE rule waits while a cut is still
undecided: a candidate near the A1 cut goes on (to a decision or to the section maximum)
instead of stopping with a precise but coin-toss classification. When every section has ended
the test ends with ``complete``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from placement.cat.rules import Classification
from placement.irt.estimation import Estimate
from placement.irt.models import FloatArray

TEST_STOP_REASONS = ("time_limit", "max_items", "complete")
SECTION_STOP_REASONS = (
    "section_max",
    "test_budget",
    "time_budget",
    "decision",
    "no_items",
    "se_target",
    "classification",
    "time_limit",
    "max_items",
)


def ci_decided(estimate: Estimate, cuts: Sequence[float], z: float) -> bool:
    """Whether :math:`[\\hat\\theta - z SE, \\hat\\theta + z SE]` contains none of ``cuts``."""
    lo, hi = estimate.theta - z * estimate.se, estimate.theta + z * estimate.se
    return all(not lo <= c <= hi for c in cuts)


def sprt_decided(
    grid: FloatArray,
    loglik: FloatArray,
    cuts: Sequence[float],
    *,
    delta: float,
    alpha: float,
    beta: float,
) -> bool:
    """Wald's SPRT at every cut: :math:`H_0: \\theta = c - \\delta` against :math:`c + \\delta`.

    The log-likelihood ratio :math:`\\log L(c + \\delta) - \\log L(c - \\delta)` (linearly
    interpolated on ``grid``) decides a cut once it leaves
    :math:`(\\log \\frac{\\beta}{1 - \\alpha}, \\log \\frac{1 - \\beta}{\\alpha})`.
    """
    upper = math.log((1.0 - beta) / alpha)
    lower = math.log(beta / (1.0 - alpha))
    for c in cuts:
        llr = float(np.interp(c + delta, grid, loglik) - np.interp(c - delta, grid, loglik))
        if lower < llr < upper:
            return False
    return True


def classification_decided(
    rule: Classification,
    estimate: Estimate,
    *,
    grid: FloatArray,
    loglik: FloatArray,
    cuts: Sequence[float],
) -> bool:
    """Whether the classification rule has decided every cut (False when it is off or no cut)."""
    if rule.method == "none" or not cuts:
        return False
    if rule.method == "ci":
        return ci_decided(estimate, cuts, rule.z)
    return sprt_decided(grid, loglik, cuts, delta=rule.delta, alpha=rule.alpha, beta=rule.beta)


def soft_stop(
    estimate: Estimate,
    se_target: float | None,
    rule: Classification,
    *,
    grid: FloatArray,
    loglik: FloatArray,
    cuts: Sequence[float],
) -> str | None:
    """Rules 7 and 8: ``"se_target"``, ``"classification"`` or None to go on."""
    decided = classification_decided(rule, estimate, grid=grid, loglik=loglik, cuts=cuts)
    holding = rule.hold_se and rule.method != "none" and bool(cuts) and not decided
    if se_target is not None and estimate.se <= se_target and not holding:
        return "se_target"
    if decided:
        return "classification"
    return None
