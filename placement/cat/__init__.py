"""Adaptive selection, exposure control, content balancing and stopping (numpy and scipy only).

Public API: :class:`Rules` (and its parts :class:`Section`, :class:`Themes`,
:class:`Selection`, :class:`Exposure`, :class:`Stopping`, :class:`Classification`,
:class:`Prior`, :class:`Pretest`), :class:`TestState`, :class:`Response`, :class:`Step`,
:func:`next_step`, :func:`step_rng`, :func:`conditional_prior`.
"""

from placement.cat.joint import (
    DEFAULT_DECISION,
    Band,
    DecisionModel,
    JointPosterior,
    joint_posterior,
    outcomes,
)
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
    Triage,
)
from placement.cat.step import (
    Response,
    Step,
    TestState,
    check_blueprint,
    decision_posterior,
    next_step,
    pretest_plan,
    step_rng,
)
from placement.cat.stopping import SECTION_STOP_REASONS, TEST_STOP_REASONS

__all__ = [
    "DEFAULT_DECISION",
    "LEVELS",
    "SECTION_STOP_REASONS",
    "SKILL_ORDER",
    "TEST_STOP_REASONS",
    "Band",
    "Classification",
    "DecisionModel",
    "Exposure",
    "JointPosterior",
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
    "Triage",
    "check_blueprint",
    "conditional_prior",
    "decision_posterior",
    "joint_posterior",
    "next_step",
    "outcomes",
    "pretest_plan",
    "step_rng",
]
