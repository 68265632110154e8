"""The adaptive test run on the new parameters, compared with the current release.

Two simulations, the first one used whenever it can run:

**The engine's** (:func:`compare_with_engine`): ``placement.simulation.simulate`` runs the
real CAT (``next_step``: content balance, exposure control, stopping rules, the release's cut
scores and dispense policy) on a pool made from the current table and on one made from the new
table, with the same simulated candidates (same true abilities, same seed). Each run draws the
answers from its own pool. Reported per run: mean test length, RMSE and bias of θ̂, accuracy
of the dispense decision and of the prescribed hours, maximum exposure, unused items; and the
agreement of the two runs' decisions candidate by candidate. The rules are the bundled CIR
rules with one section per skill the bank has (:func:`placement.rules.rules_for_pool`, sections
shortened to what the bank has); a bank that still cannot run them falls back to the simulation
below, and the reason is recorded.

**The calibration package's own** (:func:`compare_banks`): for each skill, simulated candidates
with true :math:`\\theta \\sim N(0, 1)` on the (linked, common) scale take a fixed-length CAT
twice with the same abilities and seed: once selecting and scoring with the **current**
release's parameters, once with the **new** ones. The new parameters generate the answers in
both runs (they are the best knowledge of how the items behave), so the comparison shows what
the new calibration changes for candidates: accuracy (RMSE and bias of the final EAP), the
decision at the skill's A1 cut (the dispense decision) against the truth and between the two
runs, exposure (maximum rate, share of items unused).

It uses :func:`calibration.synthetic.simulate_cat` (maximum information, randomesque,
fixed length), an approximation of the engine's rules, for any table, CIR blueprint or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from calibration.data import ItemParameters
from calibration.fit import eap_scores
from calibration.synthetic import simulate_cat


@dataclass(frozen=True, slots=True)
class RunSummary:
    """Figures of one simulated CAT run on one skill."""

    rmse: float
    bias: float
    decision_accuracy: float
    max_exposure: float
    unused_fraction: float
    mean_items: float


@dataclass(frozen=True, slots=True)
class SkillComparison:
    """Current against new parameters on one skill."""

    skill: str
    n_candidates: int
    cut: float
    current: RunSummary
    new: RunSummary
    decision_agreement: float

    def to_data(self) -> dict[str, object]:
        """Plain data (JSON)."""
        return asdict(self)


def _run(
    operating: ItemParameters,
    truth: ItemParameters,
    thetas: np.ndarray,
    *,
    cut: float,
    seed: int,
    test_length: int,
    randomesque: int,
) -> tuple[RunSummary, np.ndarray]:
    rng = np.random.default_rng(seed)
    pretest = np.flatnonzero(operating.pretest)
    responses = simulate_cat(
        operating,
        thetas,
        rng,
        test_length=min(test_length, int((~operating.pretest).sum())),
        randomesque=randomesque,
        pretest_items=pretest if pretest.size else None,
        generating=truth,
    )
    est = eap_scores(operating, responses, by_skill=False).eap[:, 0]
    exposure = responses.counts(operating.n_items)[~operating.pretest] / thetas.size
    decided = est >= cut
    return (
        RunSummary(
            rmse=float(np.sqrt(np.mean((est - thetas) ** 2))),
            bias=float(np.mean(est - thetas)),
            decision_accuracy=float(np.mean(decided == (thetas >= cut))),
            max_exposure=float(exposure.max(initial=0.0)),
            unused_fraction=float(np.mean(exposure == 0)),
            mean_items=float(responses.n_responses / thetas.size),
        ),
        decided,
    )


def compare_banks(
    current: ItemParameters,
    new: ItemParameters,
    *,
    cuts: Mapping[str, float] | None = None,
    n_candidates: int = 2000,
    test_length: int = 10,
    randomesque: int = 5,
    seed: int = 0,
    progress: bool = True,
) -> list[SkillComparison]:
    """Simulate the CAT per skill on the current and on the new parameters.

    Parameters
    ----------
    current, new : ItemParameters
        Same items on the same (old) scale; ``new`` after linking.
    cuts : mapping of skill to float, optional
        θ cut of the decision on each skill (the A1 cut of the release); 0 when absent.
    n_candidates, test_length, randomesque, seed
        Size and rules of the simulation (``seed`` makes it reproducible).
    """
    out: list[SkillComparison] = []
    skills = sorted(set(new.skills))
    for k, skill in enumerate(tqdm(skills, desc="simulate", unit="skill", disable=not progress)):
        rows = [i for i, s in enumerate(new.skills) if s == skill and new.ids[i] in current]
        if len(rows) < 2:
            continue
        sub_new = new.subset(rows)
        sub_cur = current.subset(current.indices(new.ids[i] for i in rows))
        thetas = np.random.default_rng(seed + 7919 * k).normal(size=n_candidates)
        cut = float((cuts or {}).get(skill, 0.0))
        run_seed = seed + 104729 * (k + 1)
        cur, d_cur = _run(
            sub_cur,
            sub_new,
            thetas,
            cut=cut,
            seed=run_seed,
            test_length=test_length,
            randomesque=randomesque,
        )
        nxt, d_new = _run(
            sub_new,
            sub_new,
            thetas,
            cut=cut,
            seed=run_seed,
            test_length=test_length,
            randomesque=randomesque,
        )
        out.append(
            SkillComparison(
                skill=skill,
                n_candidates=n_candidates,
                cut=cut,
                current=cur,
                new=nxt,
                decision_agreement=float(np.mean(d_cur == d_new)),
            )
        )
    return out


def _engine_summary(summary: Mapping[str, Any]) -> dict[str, Any]:
    keys = (
        "mean_items", "items_p95", "rmse", "bias", "classification_accuracy", "max_exposure",
        "unused_fraction", "dispense_rate", "mean_elapsed_s", "step_ms_p50",
    )  # fmt: skip
    return {k: summary.get(k) for k in keys}


def compare_with_engine(
    current_csv: Path,
    new_csv: Path,
    *,
    release: Any | None = None,
    n_candidates: int = 500,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Run ``placement.simulation.simulate`` on the current and on the new parameters.

    Parameters
    ----------
    current_csv, new_csv : Path
        The two parameter tables (same items, same scale).
    release : itembank.Release, optional
        The current release: its items give enemies, non-reader flags and pilot status, its
        cut scores and skill correlation drive the test. Without it the tables alone are used.
    n_candidates, seed, progress
        Size and seed of the simulation (the same candidates take both tests).

    Returns
    -------
    dict
        ``{"engine": "placement.simulation", "rules": ..., "current": summary,
        "new": summary, "decision_agreement": float | None, "hours_agreement": ...,
        "non_reader": {"current": summary, "new": summary} | {"skipped": reason}}``: the
        same candidates again, all on the non-reader path (listening and speaking on items that
        need no reading), when both pools can serve it.

    Raises
    ------
    placement.errors.PlacementError
        The pools or rules cannot run (e.g. ``BlueprintUnsatisfiable``).
    """
    from placement.bank import pool_from_csv, pool_from_release
    from placement.rules import blueprint_gaps, rules_for_pool
    from placement.simulation import draw_true_thetas, simulate

    if release is not None:
        pools = [
            pool_from_release(release, parameters_path=path) for path in (current_csv, new_csv)
        ]
        cuts = release.cut_scores
        corr = release.skill_correlation
    else:
        pools = [pool_from_csv(current_csv), pool_from_csv(new_csv)]
        cuts, corr = None, None
    # the CIR rules with one section per skill the bank has (placement simulate's own)
    rules, _ = rules_for_pool(pools[1])
    thetas = draw_true_thetas(
        rules, n_candidates, np.random.default_rng(np.random.SeedSequence([seed, 7])), corr
    )
    runs = [
        simulate(pool, rules, n_candidates, seed, thetas, progress,
                 cut_scores=cuts, skill_correlation=corr)
        for pool in pools
    ]  # fmt: skip
    non_reader: dict[str, Any]
    # why the path cannot run, in the French lines `placement simulate` gives (both pools)
    gaps = list(
        dict.fromkeys(gap for pool in pools for gap in blueprint_gaps(pool, rules, non_reader=True))
    )
    if gaps:
        non_reader = {"skipped": " ; ".join(gaps)}
    else:
        non_reader = {
            name: _engine_summary(
                simulate(pool, rules, n_candidates, seed, thetas, progress, cut_scores=cuts,
                         skill_correlation=corr, non_reader_share=1.0).summary
            )
            for name, pool in zip(("current", "new"), pools, strict=True)
        }  # fmt: skip
    decided = [
        (a["decision"], b["decision"], a["hours"], b["hours"])
        for a, b in zip(runs[0].rows, runs[1].rows, strict=True)
        if a["decision"] is not None and b["decision"] is not None
    ]
    return {
        "engine": "placement.simulation",
        "rules": rules.version,
        "skills": list(rules.skills),
        "n_candidates": n_candidates,
        "seed": seed,
        "current": _engine_summary(runs[0].summary),
        "new": _engine_summary(runs[1].summary),
        "decision_agreement": float(np.mean([a == b for a, b, _, _ in decided]))
        if decided
        else None,
        "hours_agreement": float(np.mean([h1 == h2 for _, _, h1, h2 in decided]))
        if decided
        else None,
        "non_reader": non_reader,
    }
