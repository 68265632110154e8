"""Adaptive selection, exposure control, content balancing and stopping (numpy and scipy only).

Public API: :class:`Rules` (and its parts :class:`Section`, :class:`Themes`,
:class:`Selection`, :class:`Exposure`, :class:`Stopping`, :class:`Classification`,
:class:`Prior`, :class:`Pretest`), :class:`TestState`, :class:`Response`, :class:`Step`,
:func:`next_step`, :func:`step_rng`, :func:`conditional_prior`.
"""

from placement.cat.prior import conditional_prior
from placement.cat.rules import (
    LEVELS,
    SKILL_ORDER,
    Classification,
    Exposure,
    Pretest,
    Prior,
    Rules,
    Section,
    Selection,
    Stopping,
    Themes,
)
from placement.cat.step import (
    Response,
    Step,
    TestState,
    check_blueprint,
    next_step,
    pretest_plan,
    step_rng,
)
from placement.cat.stopping import SECTION_STOP_REASONS, TEST_STOP_REASONS

__all__ = [
    "LEVELS",
    "SECTION_STOP_REASONS",
    "SKILL_ORDER",
    "TEST_STOP_REASONS",
    "Classification",
    "Exposure",
    "Pretest",
    "Prior",
    "Response",
    "Rules",
    "Section",
    "Selection",
    "Step",
    "Stopping",
    "TestState",
    "Themes",
    "check_blueprint",
    "conditional_prior",
    "next_step",
    "pretest_plan",
    "step_rng",
]
