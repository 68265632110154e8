"""The adaptive test run on the new parameters, compared with the current release.

For each skill, simulated candidates with true :math:`\\theta \\sim N(0, 1)` on the (linked,
common) scale take a fixed-length CAT twice with the same abilities and seed: once selecting
and scoring with the **current** release's parameters, once with the **new** ones. The new
parameters generate the answers in both runs (they are the best knowledge of how the items
behave), so the comparison shows what the new calibration changes for candidates: accuracy
(RMSE and bias of the final EAP), the decision at the skill's A1 cut (the dispense decision)
against the truth and between the two runs, exposure (maximum rate, share of items unused).

The engine's own simulation (``placement.simulation.simulate``) simulates a pool against
itself and does not return the responses; this module uses the calibration package's own
CAT (:func:`calibration.synthetic.simulate_cat`) so that the two runs differ only by the
parameters. The figures are an approximation of the engine's rules (maximum information,
randomesque exposure control, fixed length), not a replay of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass

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
    index = {item_id: i for i, item_id in enumerate(current.ids)}
    for k, skill in enumerate(tqdm(skills, desc="simulate", unit="skill", disable=not progress)):
        rows = [i for i, s in enumerate(new.skills) if s == skill and new.ids[i] in index]
        if len(rows) < 2:
            continue
        sub_new = new.subset(rows)
        sub_cur = current.subset([index[new.ids[i]] for i in rows])
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
