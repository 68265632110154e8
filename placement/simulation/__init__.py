"""Simulated candidates taking the adaptive test: accuracy, test length, exposure and speed.

:func:`simulate` draws true abilities per skill from the correlated normal of the rules (or
takes them from the caller), runs :func:`placement.cat.next_step` exactly as the server does
(one ``step_rng(seed, n)`` per step), draws each answer from the item's model at the true
ability, and summarises the results. :func:`sympson_hetter_parameters` computes exposure
parameters by iterated simulation. ``placement simulate`` (:mod:`placement.simulation.cli`)
is the command line.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from tqdm import tqdm

from placement.cat import (
    Exposure,
    Rules,
    TestState,
    check_blueprint,
    decision_posterior,
    next_step,
    step_rng,
)
from placement.errors import InvalidState
from placement.irt import Estimate, Pool, probabilities
from placement.irt.models import FloatArray, IntArray
from placement.levels import CUT_LEVELS, assess, load_policy

#: Seconds a candidate spends on an item, by skill, for the simulated clock (time limit).
SECONDS_PER_ITEM = {"CO": 45.0, "CE": 50.0, "EO": 90.0, "EE": 120.0}
DEFAULT_SECONDS = 60.0


@dataclass(frozen=True)
class SimulationResult:
    """What a simulation produced.

    Attributes
    ----------
    rows : list of dict
        One row per examinee (true θ, θ̂, SE, items and stop reason per skill, decisions).
    summary : dict
        The figures (see :func:`summarise`); JSON-ready.
    exposure : dict item id -> float
        Share of examinees who saw each item (pretest items included).
    responses : list of (int, str, int)
        (examinee, item id, score) of every response, for calibration studies.
    step_ms : ndarray, (steps,)
        Wall time of every call to ``next_step``, in milliseconds.
    """

    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    exposure: dict[str, float]
    responses: list[tuple[int, str, int]] = field(repr=False)
    step_ms: npt.NDArray[np.float64] = field(repr=False)


def draw_true_thetas(
    rules: Rules,
    n_examinees: int,
    rng: np.random.Generator,
    skill_correlation: Sequence[Sequence[float]] | None = None,
) -> dict[str, npt.NDArray[np.float64]]:
    """True abilities per section skill from :math:`N(\\mu_0, \\sigma_0^2 R)`: skill -> (N,)."""
    skills = list(rules.skills)
    corr = skill_correlation if skill_correlation is not None else rules.skill_correlation
    mean, sd = rules.prior.mean, rules.prior.sd
    matrix = np.eye(len(skills))
    if corr is not None:
        pos = {s: i for i, s in enumerate(rules.skill_order)}
        for a, sa in enumerate(skills):
            for b, sb in enumerate(skills):
                if sa in pos and sb in pos:
                    matrix[a, b] = float(corr[pos[sa]][pos[sb]])
    draws = rng.multivariate_normal(np.full(len(skills), mean), sd * sd * matrix, n_examinees)
    return {s: draws[:, i] for i, s in enumerate(skills)}


def _as_true_thetas(
    true_thetas: Mapping[str, npt.ArrayLike] | npt.ArrayLike, rules: Rules, n: int
) -> dict[str, npt.NDArray[np.float64]]:
    skills = list(rules.skills)
    if isinstance(true_thetas, Mapping):
        out = {}
        for s in skills:
            if s not in true_thetas:
                raise InvalidState(f"true_thetas has no column for skill {s}")
            out[s] = np.asarray(true_thetas[s], dtype=np.float64)
    else:
        arr = np.asarray(true_thetas, dtype=np.float64)
        if arr.ndim == 1:
            arr = np.repeat(arr[:, None], len(skills), axis=1)
        if arr.ndim != 2 or arr.shape[1] != len(skills):
            raise InvalidState(f"true_thetas must be (N,) or (N, {len(skills)}) in {skills}")
        out = {s: arr[:, i] for i, s in enumerate(skills)}
    for s, values in out.items():
        if values.shape != (n,) or not np.all(np.isfinite(values)):
            raise InvalidState(f"true_thetas[{s}] must be {n} finite numbers")
    return out


def simulate(  # noqa: PLR0917 - the positional order is the published API
    pool: Pool,
    rules: Rules,
    n_examinees: int,
    seed: int,
    true_thetas: Mapping[str, npt.ArrayLike] | npt.ArrayLike | None = None,
    progress: bool = True,
    *,
    cut_scores: Mapping[str, Mapping[str, float]] | None = None,
    skill_correlation: Sequence[Sequence[float]] | None = None,
    non_reader_share: float = 0.0,
    policy: str = "cir-2016",
    seconds_per_item: Mapping[str, float] | None = None,
) -> SimulationResult:
    """Run the adaptive test on simulated candidates.

    Parameters
    ----------
    pool : Pool
    rules : Rules
    n_examinees : int
        How many candidates (ignored in favour of the length of ``true_thetas`` when given).
    seed : int
        Seeds everything: true abilities, answers and the engine's per-step generators.
    true_thetas : mapping skill -> (N,), or array (N,) or (N, S), optional
        True abilities per section skill (in ``rules.skills`` order for an array; a 1-D array
        gives every skill the same ability). Drawn from the correlated normal when omitted.
    progress : bool
        Show a tqdm progress bar.
    cut_scores, skill_correlation : optional
        The release's; default to the rules'.
    non_reader_share : float
        Share of candidates simulated on the non-reader path.
    policy : str
        The prescription policy used for the dispense decision.
    seconds_per_item : mapping skill -> seconds, optional
        The simulated clock (default :data:`SECONDS_PER_ITEM`).

    Returns
    -------
    SimulationResult
    """
    if not isinstance(seed, int) or seed < 0:
        raise InvalidState(f"seed must be a non-negative integer, got {seed!r}")
    if not 0 <= non_reader_share <= 1:
        raise InvalidState("non_reader_share must lie in [0, 1]")
    cuts = dict(cut_scores if cut_scores is not None else rules.cut_scores)
    corr = (
        tuple(tuple(float(x) for x in row) for row in skill_correlation)
        if skill_correlation
        else None
    )
    master = np.random.default_rng(np.random.SeedSequence([seed, 0x51]))
    if true_thetas is None:
        if n_examinees < 1:
            raise InvalidState("n_examinees must be >= 1")
        thetas = draw_true_thetas(rules, n_examinees, master, corr)
    else:
        first = (
            next(iter(true_thetas.values())) if isinstance(true_thetas, Mapping) else true_thetas
        )
        n_examinees = int(np.asarray(first).shape[0])
        thetas = _as_true_thetas(true_thetas, rules, n_examinees)
    check_blueprint(pool, rules)
    if non_reader_share > 0:
        check_blueprint(pool, rules, non_reader=True)
    non_readers = master.random(n_examinees) < non_reader_share
    pol = load_policy(policy)
    model = pol.decision_model()
    clock = dict(SECONDS_PER_ITEM if seconds_per_item is None else seconds_per_item)
    skills = list(rules.skills)
    # decisions need every section's cut scores; without them the simulation still measures
    # precision, exposure and speed
    can_decide = all(s in cuts for s in skills)
    skill_column = {s: i for i, s in enumerate(skills)}
    item_column = np.array([skill_column.get(s, 0) for s in pool.skills])
    rows: list[dict[str, Any]] = []
    responses: list[tuple[int, str, int]] = []
    seen = Counter[str]()
    seen_by_path = {False: Counter[str](), True: Counter[str]()}  # non-reader -> item counts
    step_ms: list[float] = []
    step_cpu_ms: list[float] = []  # the thread's CPU time: robust to a busy shared machine
    decision_cpu_ms: list[float] = []  # the joint posterior, once per finished test

    for e in tqdm(range(n_examinees), desc="simulation", unit="candidate", disable=not progress):
        truth = np.array([thetas[s][e] for s in skills])
        # P(X = k | true θ of the item's skill) for every item: (n, kmax + 1)
        p_true = probabilities(pool, truth)[np.arange(len(pool)), item_column]
        cdf = np.cumsum(p_true, axis=1)
        answer_rng = np.random.default_rng(np.random.SeedSequence([seed, e, 1]))
        session_seed = int(np.random.SeedSequence([seed, e, 2]).generate_state(1)[0])
        state = TestState(
            non_reader=bool(non_readers[e]), cut_scores=cuts, skill_correlation=corr,
            seed=session_seed, decision=model,
        )  # fmt: skip
        while True:
            rng = step_rng(session_seed, len(state.responses))
            t0, c0 = time.perf_counter(), time.thread_time()
            step = next_step(state, pool, rules, rng)
            step_cpu_ms.append((time.thread_time() - c0) * 1e3)
            step_ms.append((time.perf_counter() - t0) * 1e3)
            if step.done:
                break
            assert step.item_id is not None
            i = pool.index(step.item_id)
            score = int(min((answer_rng.random() > cdf[i]).sum(), pool.n_categories[i] - 1))
            seen[step.item_id] += 1
            seen_by_path[bool(non_readers[e])][step.item_id] += 1
            responses.append((e, step.item_id, score))
            state = state.with_response(
                step.item_id, score, state.elapsed_s + clock.get(pool.skills[i], DEFAULT_SECONDS)
            )
        row: dict[str, Any] = {
            "examinee": e,
            "non_reader": bool(non_readers[e]),
            "n_items": step.n_items,
            "n_pretest": len(state.responses) - step.n_items,
            "reason": step.reason,
            "elapsed_s": state.elapsed_s,
        }
        per_skill_items = Counter(
            pool.skills[pool.index(r.item_id)]
            for r in state.responses
            if not pool.pretest[pool.index(r.item_id)]
        )
        for s in skills:
            est = step.estimates.get(s)
            row[f"theta_{s}"] = float(thetas[s][e])
            row[f"theta_hat_{s}"] = None if est is None else est.theta
            row[f"se_{s}"] = None if est is None else est.se
            row[f"items_{s}"] = per_skill_items.get(s, 0)
            row[f"stop_{s}"] = step.section_reasons.get(s, "")
        row["decision"] = row["hours"] = row["true_decision"] = row["true_hours"] = None
        row["p_dispense"] = row["p_hours"] = row["referred"] = None
        if can_decide:
            c0 = time.thread_time()
            joint = decision_posterior(state, pool, rules)
            decision_cpu_ms.append((time.thread_time() - c0) * 1e3)
            estimated = assess(
                dict(step.estimates), cuts, pol, non_reader=bool(non_readers[e]),
                joint=joint, triage_rule=rules.triage,
            )  # fmt: skip
            triage = estimated.decision.triage or {}
            true_estimates = {
                s: Estimate(float(thetas[s][e]), 0.0)
                for s in skills
                if not non_readers[e] or s in rules.non_reader_skills
            }
            ideal = assess(true_estimates, cuts, pol, non_reader=bool(non_readers[e])).decision
            row["decision"] = estimated.decision.kind
            row["hours"] = estimated.decision.hours
            row["true_decision"] = ideal.kind
            row["true_hours"] = ideal.hours
            row["p_dispense"] = triage.get("p_dispense")
            row["p_hours"] = triage.get("p_hours")
            row["referred"] = bool(triage.get("referred"))
        rows.append(row)

    exposure = {item_id: seen.get(item_id, 0) / n_examinees for item_id in pool.ids}
    times = np.asarray(step_ms)
    summary = summarise(rows, pool, rules, cut_scores=cuts, exposure=exposure, step_ms=times)
    cpu = np.asarray(step_cpu_ms)
    summary["step_cpu_ms_p50"] = float(np.percentile(cpu, 50)) if cpu.size else None
    summary["step_cpu_ms_p99"] = float(np.percentile(cpu, 99)) if cpu.size else None
    dec = np.asarray(decision_cpu_ms)
    summary["decision_cpu_ms_p50"] = float(np.percentile(dec, 50)) if dec.size else None
    summary["decision_cpu_ms_p99"] = float(np.percentile(dec, 99)) if dec.size else None
    by_path: dict[str, Any] = {}
    for flag, name in ((False, "readers"), (True, "non_readers")):
        count = int(np.sum(non_readers == flag))
        if count:
            operational = [i for i, item_id in enumerate(pool.ids) if not pool.pretest[i]]
            top = max((seen_by_path[flag].get(pool.ids[i], 0) for i in operational), default=0)
            by_path[name] = {"n_examinees": count, "max_exposure": top / count}
    summary["exposure_by_path"] = by_path
    summary["policy"] = pol.label
    summary["seed"] = seed
    return SimulationResult(rows, summary, exposure, responses, times)


def _stats(errors: list[float]) -> tuple[float | None, float | None]:
    if not errors:
        return None, None
    arr = np.asarray(errors)
    return float(np.sqrt(np.mean(arr**2))), float(np.mean(arr))


def summarise(
    rows: list[dict[str, Any]],
    pool: Pool,
    rules: Rules,
    *,
    cut_scores: Mapping[str, Mapping[str, float]],
    exposure: Mapping[str, float],
    step_ms: npt.NDArray[np.float64],
) -> dict[str, Any]:
    """The summary of a simulation.

    Keys: ``n_examinees``, ``mean_items`` (operational items per test), ``items_p95``,
    ``mean_items_by_skill``, ``rmse`` and ``bias`` (per skill and ``overall``, θ̂ − θ),
    ``rmse_se_stop`` (the same where the section ended by the SE rule), ``mean_se``,
    ``classification_accuracy`` (per skill at each cut, and ``dispense``: the decision's
    kind, and ``hours``: the prescribed hours, against the decision on the true abilities),
    ``max_exposure``, ``unused_fraction`` (operational items never given), ``step_ms_p50``,
    ``step_ms_p99``, ``step_ms_mean``, ``stop_reasons``, ``section_stop_reasons``,
    ``mean_elapsed_s``.
    """
    skills = list(rules.skills)
    n = len(rows)
    summary: dict[str, Any] = {"n_examinees": n}
    n_items = np.array([r["n_items"] for r in rows], dtype=float)
    summary["mean_items"] = float(n_items.mean())
    summary["items_p95"] = float(np.percentile(n_items, 95))
    summary["mean_items_by_skill"] = {
        s: float(np.mean([r[f"items_{s}"] for r in rows])) for s in skills
    }
    rmse: dict[str, float | None] = {}
    bias: dict[str, float | None] = {}
    rmse_se: dict[str, float | None] = {}
    mean_se: dict[str, float | None] = {}
    all_errors: list[float] = []
    all_se_errors: list[float] = []
    accuracy: dict[str, Any] = {}
    for s in skills:
        done = [r for r in rows if r[f"theta_hat_{s}"] is not None]
        errors = [r[f"theta_hat_{s}"] - r[f"theta_{s}"] for r in done]
        se_errors = [
            r[f"theta_hat_{s}"] - r[f"theta_{s}"] for r in done if r[f"stop_{s}"] == "se_target"
        ]
        all_errors += errors
        all_se_errors += se_errors
        rmse[s], bias[s] = _stats(errors)
        rmse_se[s] = _stats(se_errors)[0]
        mean_se[s] = float(np.mean([r[f"se_{s}"] for r in done])) if done else None
        cuts = cut_scores.get(s, {})
        accuracy[s] = {
            level: float(
                np.mean(
                    [
                        (r[f"theta_hat_{s}"] >= cuts[level]) == (r[f"theta_{s}"] >= cuts[level])
                        for r in done
                    ]
                )
            )
            for level in CUT_LEVELS
            if level in cuts and done
        }
    rmse["overall"], bias["overall"] = _stats(all_errors)
    rmse_se["overall"] = _stats(all_se_errors)[0]
    decided = [r for r in rows if r["decision"] is not None]
    accuracy["dispense"] = (
        float(np.mean([r["decision"] == r["true_decision"] for r in decided])) if decided else None
    )
    accuracy["hours"] = (
        float(np.mean([r["hours"] == r["true_hours"] for r in decided])) if decided else None
    )
    auto = [r for r in decided if r.get("referred") is False]
    accuracy["dispense_auto"] = (
        float(np.mean([r["decision"] == r["true_decision"] for r in auto])) if auto else None
    )
    accuracy["hours_auto"] = (
        float(np.mean([r["hours"] == r["true_hours"] for r in auto])) if auto else None
    )
    with_p = [r for r in decided if r.get("p_dispense") is not None]
    summary["referred_share"] = (
        float(np.mean([bool(r["referred"]) for r in with_p])) if with_p else None
    )
    summary["dispense_calibration"] = (
        calibration(
            [r["p_dispense"] for r in with_p],
            [r["true_decision"] == "dispense" for r in with_p],
        )
        if with_p
        else None
    )
    summary.update(
        rmse=rmse, bias=bias, rmse_se_stop=rmse_se, mean_se=mean_se,
        classification_accuracy=accuracy,
    )  # fmt: skip
    operational = [i for i, item_id in enumerate(pool.ids) if not pool.pretest[i]]
    rates = np.array([exposure[pool.ids[i]] for i in operational])
    summary["max_exposure"] = float(rates.max()) if rates.size else 0.0
    summary["unused_fraction"] = float(np.mean(rates == 0)) if rates.size else 0.0
    summary["step_ms_p50"] = float(np.percentile(step_ms, 50)) if step_ms.size else None
    summary["step_ms_p99"] = float(np.percentile(step_ms, 99)) if step_ms.size else None
    summary["step_ms_mean"] = float(step_ms.mean()) if step_ms.size else None
    summary["stop_reasons"] = dict(Counter(r["reason"] for r in rows))
    summary["section_stop_reasons"] = {
        s: dict(Counter(r[f"stop_{s}"] for r in rows)) for s in skills
    }
    summary["dispense_rate"] = (
        float(np.mean([r["decision"] == "dispense" for r in decided])) if decided else None
    )
    summary["mean_elapsed_s"] = float(np.mean([r["elapsed_s"] for r in rows]))
    return summary


def calibration(
    probabilities: Sequence[float], outcomes: Sequence[bool], bins: int = 10
) -> dict[str, Any]:
    """Calibration of predicted probabilities against what happened, in equal-width bins.

    Returns ``ece`` (the expected calibration error, :math:`\\sum_b \\frac{n_b}{N}
    |\\bar p_b - \\bar y_b|`), ``bins`` (per non-empty bin: its lower edge, count, mean
    probability and observed frequency), ``n``, and the ECE's floor on this sample:
    ``ece_floor`` and ``ece_floor_p95``, the mean and 95th percentile of the ECE a perfectly
    calibrated predictor would show with the same probabilities and as many outcomes (outcomes
    drawn from the probabilities themselves, 400 times, a fixed seed). An ECE near the floor is
    the sample's noise, not miscalibration: 1,000 candidates leave about 0.02.
    """
    p = np.asarray(probabilities, dtype=float)
    y = np.asarray(outcomes, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        mask = which == b
        count = int(mask.sum())
        if not count:
            continue
        mean_p, freq = float(p[mask].mean()), float(y[mask].mean())
        table.append({"from": b / bins, "n": count, "mean_p": mean_p, "observed": freq})
    drawn = np.random.default_rng(0).random((400, p.size)) < p  # outcomes of a calibrated p
    floor = _ece(p, np.vstack([y, drawn]), which, bins)
    return {
        "ece": float(floor[0]),
        "bins": table,
        "n": int(p.size),
        "ece_floor": float(floor[1:].mean()),
        "ece_floor_p95": float(np.quantile(floor[1:], 0.95)),
    }


def _ece(p: FloatArray, y: FloatArray, which: IntArray, bins: int) -> FloatArray:
    """The ECE of ``p`` (N,) against each row of outcomes ``y`` (R, N): (R,)."""
    sum_p = np.bincount(which, weights=p, minlength=bins)
    sum_y = np.stack([np.bincount(which, weights=row, minlength=bins) for row in y])
    gap = np.abs(sum_p - sum_y)  # n_b |p̄_b - ȳ_b| per bin
    return gap.sum(axis=1) / max(p.size, 1)


def sympson_hetter_parameters(
    pool: Pool,
    rules: Rules,
    *,
    target: float = 0.25,
    n_examinees: int = 500,
    iterations: int = 6,
    seed: int = 0,
    progress: bool = True,
    **simulate_kwargs: Any,
) -> dict[str, float]:
    """Sympson–Hetter exposure parameters by iterated simulation.

    Starting from :math:`K_i = 1`, each round simulates ``n_examinees`` new candidates with the
    current parameters, measures each item's exposure rate :math:`P(A_i)` and sets
    :math:`K_i \\leftarrow \\min(1, K_i \\cdot r / P(A_i))` for the items above the target
    ``r`` (Sympson & Hetter's adjustment, applied to the observed exposure). Items at or under
    the target keep their parameter. Returns only the items with ``K < 1``.
    """
    if not 0 < target <= 1:
        raise InvalidState("the exposure target must lie in (0, 1]")
    k = dict.fromkeys(pool.ids, 1.0)
    for round_ in tqdm(range(iterations), desc="Sympson-Hetter", disable=not progress):
        current = replace(
            rules,
            exposure=Exposure(
                randomesque_k=rules.exposure.randomesque_k,
                sympson_hetter={i: v for i, v in k.items() if v < 1},
                target=rules.exposure.target,
            ),
        )
        result = simulate(
            pool, current, n_examinees, seed + round_, progress=False, **simulate_kwargs
        )
        for item_id, rate in result.exposure.items():
            if rate > target:
                k[item_id] = min(1.0, k[item_id] * target / rate)
    return {i: round(v, 4) for i, v in k.items() if v < 1}


__all__ = [
    "SECONDS_PER_ITEM",
    "SimulationResult",
    "calibration",
    "draw_true_thetas",
    "simulate",
    "summarise",
    "sympson_hetter_parameters",
]
