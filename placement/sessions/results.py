"""From a session's stored responses to the engine's state, a computed result and θ̂ over the test.

The server keeps no engine state between requests: :func:`state_from_session` rebuilds the
engine's :class:`~placement.cat.TestState` from the stored responses at every request, in the
order they were given. :func:`compute_result` turns that state into a :class:`Result` row
(θ̂ and SE per skill, levels with their probabilities, the global level and the decision the
policy gives); a result is never edited, every computation adds a row and the newest is current.

What enters the estimate:

- a response's machine score, or, when an auditeur reviewed it, the score of the newest
  ``Override`` with ``target="response"`` for it (``to_value["score"]``);
- a spoken answer still being transcribed has score None: the engine treats it as missing until
  its score arrives (the result is then ``provisional``);
- pretest responses are given to the engine (so the item is not given again) but the engine
  keeps them out of θ̂ (the pool marks them);
- the practice item is no response at all.

Level and decision overrides are not applied here: they are rows the desk shows beside the
machine's result, which stays as computed. The non-reader flag is the session's, unless an
auditeur overrode it (``target="non_reader"``, ``to_value["non_reader"]``); then the policy's
non-reader rule applies to the new result.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from itembank.model import SKILLS
from placement.cat import Response as EngineResponse
from placement.cat import TestState, next_step, step_rng
from placement.irt import Estimate
from placement.sessions import audit
from placement.sessions.bankcache import EngineBank, engine_bank
from placement.sessions.models import Override, Response, Result, TestSession

__all__ = [
    "NOT_ASSESSED",
    "bank_for",
    "compute_result",
    "effective_non_reader",
    "estimates_for",
    "overrides_of",
    "response_scores",
    "responses_to_check",
    "state_from_session",
    "theta_trajectory",
]


#: The global level stored when no skill could be estimated (no scored response at all).
NOT_ASSESSED = "non évalué"


def bank_for(session: TestSession) -> EngineBank:
    """The release, pool, rules and policy a session was started with (cached per process)."""
    return engine_bank(session.release_version, rules=session.rules, policy=session.policy)


def overrides_of(session: TestSession, target: str) -> list[Override]:
    """The session's overrides of one kind, oldest first, as the database has them now.

    Queried rather than read from ``session.overrides``: an override added by id in this same
    transaction is not in an already-loaded collection.
    """
    db = object_session(session)
    if db is None or session.id is None:
        return [o for o in session.overrides if o.target == target]
    db.flush()
    return list(
        db.scalars(
            select(Override)
            .where(Override.session_id == session.id, Override.target == target)
            .order_by(Override.id)
        )
    )


def _overrides(session: TestSession, target: str, *, loaded: bool) -> list[Override]:
    """The session's overrides of one kind: the loaded ones, or as the database has them."""
    if loaded:
        return [o for o in session.overrides if o.target == target]
    return overrides_of(session, target)


def response_scores(session: TestSession, *, with_overrides: bool = True) -> dict[int, int | None]:
    """Score of each response by id: the machine's, or the newest auditeur review of it."""
    scores: dict[int, int | None] = {r.id: r.score for r in session.responses}
    if with_overrides:
        for override in overrides_of(session, "response"):  # ordered by id: newest wins
            score = (override.to_value or {}).get("score")
            if override.response_id in scores and score is not None:
                scores[override.response_id] = int(score)
    return scores


def responses_to_check(session: TestSession, *, loaded: bool = False) -> list[Response]:
    """The responses an auditeur still has to check, in the order they were given.

    Flagged by the scorer (``needs_review``) or without a score (a spoken answer still being
    transcribed, or whose transcription failed), and not yet scored by an auditeur. Pretest
    responses count only when flagged. ``loaded`` reads the session's loaded overrides instead
    of querying them (the desk's polled list, which loads them with the sessions).
    """
    reviewed = {o.response_id for o in _overrides(session, "response", loaded=loaded)}
    return [
        r
        for r in sorted(session.responses, key=lambda r: r.seq)
        if r.id not in reviewed and (r.needs_review or (r.score is None and not r.pretest))
    ]


def effective_non_reader(
    session: TestSession, *, with_overrides: bool = True, loaded: bool = False
) -> bool:
    """The non-reader flag: the session's, or the newest auditeur override of it.

    ``loaded`` reads the session's loaded overrides instead of querying them.
    """
    flag = bool(session.non_reader)
    if with_overrides:
        for override in _overrides(session, "non_reader", loaded=loaded):
            value = (override.to_value or {}).get("non_reader")
            if value is not None:
                flag = bool(value)
    return flag


def state_from_session(
    session: TestSession,
    *,
    with_overrides: bool = True,
    bank: EngineBank | None = None,
    limit: int | None = None,
) -> TestState:
    """The engine's state for this session: its responses in order, elapsed time, non-reader flag.

    For a candidate marked non-lecteur, only the answers on the non-reader path count.

    ``limit`` keeps only the first ``limit`` responses (θ̂ as it stood during the test).
    """
    bank = bank or bank_for(session)
    scores = response_scores(session, with_overrides=with_overrides)
    responses = sorted(session.responses, key=lambda r: r.seq)
    if limit is not None:
        responses = responses[:limit]
    non_reader = effective_non_reader(session, with_overrides=with_overrides)
    if non_reader:
        # An auditeur may mark a reader's test non-lecteur afterwards: the answers off the
        # non-reader path (reading, writing, items that need reading) are no evidence then.
        # On a test taken as a non-reader every answer is on the path and all are kept.
        pool, on_path = bank.pool, set(bank.rules.non_reader_skills)
        responses = [
            r
            for r in responses
            if r.skill in on_path and bool(pool.non_reader[pool.index(r.item_id)])
        ]
    return TestState(
        responses=tuple(EngineResponse(item_id=r.item_id, score=scores[r.id]) for r in responses),
        elapsed_s=float(session.elapsed_s or 0.0),
        non_reader=non_reader,
        cut_scores=bank.cut_scores,
        skill_correlation=bank.skill_correlation,
        seed=int(session.seed),
        decision=bank.policy.decision_model(),
    )


def estimates_for(
    session: TestSession, state: TestState, bank: EngineBank
) -> dict[str, Estimate | None]:
    """θ̂ and SE per skill for a state; None for a skill with no scored, operational response."""
    step = next_step(state, bank.pool, bank.rules, step_rng(session.seed, len(state.responses)))
    counted = _counted_skills(state, bank)
    return {
        skill: (step.estimates.get(skill) if counted.get(skill, 0) > 0 else None)
        for skill in SKILLS
    }


def _counted_skills(state: TestState, bank: EngineBank) -> dict[str, int]:
    """How many scored, non-pretest responses each skill has."""
    counts: dict[str, int] = {}
    for response in state.responses:
        if response.score is None:
            continue
        index = bank.pool.index(response.item_id)
        if bool(bank.pool.pretest[index]):
            continue
        skill = bank.pool.skills[index]
        counts[skill] = counts.get(skill, 0) + 1
    return counts


def _estimate_dict(estimate: Estimate | None, n_items: int) -> dict[str, Any] | None:
    if estimate is None:
        return None
    return {"theta": float(estimate.theta), "se": float(estimate.se), "n_items": n_items}


def compute_result(
    db: Session,
    session: TestSession,
    status: str = "final",
    *,
    actor: audit.Actor = audit.SYSTEM,
) -> Result:
    """Compute the session's result from its responses (with reviews applied) and add it.

    A new :class:`Result` row every time; the previous ones stay. ``status`` is ``final`` when
    the test is over and every score is in, ``provisional`` otherwise. Writes an audit event
    (``result.compute``) and flushes; never commits.
    """
    bank = bank_for(session)
    state = state_from_session(session, bank=bank)
    estimates = estimates_for(session, state, bank)
    non_reader = effective_non_reader(session)
    from placement.cat import decision_posterior
    from placement.levels import assess

    # the decision's probabilities from the joint posterior of the skills, and the triage
    joint = decision_posterior(state, bank.pool, bank.rules)
    assessment = assess(
        estimates, bank.cut_scores, bank.policy, non_reader=non_reader,
        joint=joint, triage_rule=bank.rules.triage,
    )  # fmt: skip
    counts = _counted_skills(state, bank)
    levels: dict[str, Any] = {}
    for skill in SKILLS:
        level = assessment.skills.get(skill)
        levels[skill] = level.to_dict() if level is not None else None
    global_level = assessment.global_level
    levels["global"] = global_level.to_dict() if global_level is not None else None
    decision = assessment.decision
    result = Result(
        session=session,
        status=status,
        estimates={s: _estimate_dict(estimates[s], counts.get(s, 0)) for s in estimates},
        levels=levels,
        global_level=global_level.level if global_level is not None else NOT_ASSESSED,
        decision=decision.to_dict(),
        policy=str(decision.policy or session.policy)[:40],
    )
    db.add(result)
    db.flush()
    audit.record(
        db,
        actor,
        "result.compute",
        candidate_id=session.candidate_id,
        session_id=session.id,
        detail={"result_id": result.id, "status": status, "global_level": result.global_level},
    )
    db.flush()
    return result


def theta_trajectory(session: TestSession) -> dict[str, list[tuple[int, float, float]]]:
    """θ̂ and SE of each skill after each of its responses, for the auditeur's plot.

    Returns ``{skill: [(n, theta, se), ...]}`` where ``n`` is the number of responses given so
    far in the whole test (1-based) and ``(theta, se)`` the skill's estimate after them, with
    reviews applied. Responses still pending or pretest add no point.
    """
    bank = bank_for(session)
    responses = sorted(session.responses, key=lambda r: r.seq)
    scores = response_scores(session)
    trajectory: dict[str, list[tuple[int, float, float]]] = {}
    for n, response in enumerate(responses, start=1):
        index = bank.pool.index(response.item_id)
        if scores[response.id] is None or bool(bank.pool.pretest[index]):
            continue
        state = state_from_session(session, bank=bank, limit=n)
        estimate = estimates_for(session, state, bank)[response.skill]
        if estimate is not None:
            trajectory.setdefault(response.skill, []).append(
                (n, float(estimate.theta), float(estimate.se))
            )
    return trajectory
