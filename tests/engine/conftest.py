"""Fixtures of the engine tests: seeded synthetic pools and small blueprints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from placement.cat import Rules
from placement.irt import Pool
from placement.rules import default_rules

THEMES = ("vie pratique", "vie publique", "vie professionnelle")
CUTS = {s: {"A1.1": -1.5, "A1": -0.5, "A2": 0.6, "B1": 1.6} for s in ("CO", "CE", "EO", "EE")}


def make_pool(
    sizes: dict[str, int] | None = None,
    seed: int = 0,
    *,
    non_reader_share: float = 0.5,
    pretest: int = 0,
    polytomous: bool = True,
) -> Pool:
    """A bank like the CIR one: 2PL/3PL for CO and CE, GRM/GPCM for EO and EE, three themes."""
    sizes = sizes or {"CO": 60, "CE": 60, "EO": 20, "EE": 20}
    rng = np.random.default_rng(seed)
    ids, skills, themes, models, a, b, c, steps, nr, pre = [], [], [], [], [], [], [], [], [], []
    for skill, n in sizes.items():
        for i in range(n + pretest):
            ids.append(f"{skill}-{i:03d}")
            skills.append(skill)
            themes.append(THEMES[i % 3])
            a.append(float(rng.uniform(0.8, 2.0)))
            nr.append(skill in ("CO", "EO") and rng.random() < non_reader_share)
            pre.append(i >= n)
            if polytomous and skill in ("EO", "EE"):
                centre = float(rng.normal(0, 1))
                models.append("GRM" if i % 2 == 0 else "GPCM")
                b.append(np.nan)
                c.append(0.0)
                steps.append(sorted(centre + rng.uniform(-1.5, 1.5, size=2 + i % 2)))
            else:
                three = skill == "CO" and i % 4 == 0
                models.append("3PL" if three else "2PL")
                b.append(float(rng.normal(0, 1.1)))
                c.append(0.2 if three else 0.0)
                steps.append([])
    return Pool.create(
        ids, a=a, b=b, c=c, models=models, skills=skills, themes=themes, thresholds=steps,
        non_reader=nr, pretest=pre,
    )  # fmt: skip


@pytest.fixture(scope="session")
def pool() -> Pool:
    return make_pool()


@pytest.fixture(scope="session")
def rules() -> Rules:
    return default_rules()


@pytest.fixture
def pool_factory() -> Callable[..., Pool]:
    return make_pool


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[[str, str], Path]:
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def administer(
    pool: Pool,
    rules: Rules,
    seed: int,
    theta: float | dict[str, float],
    *,
    non_reader: bool = False,
    seconds_per_item: float = 40.0,
    pending_skills: tuple[str, ...] = (),
    **state_options: object,
) -> tuple[list, object]:
    """Take a whole test as the server does: rebuild the state, step, answer. Returns the
    steps and the final state. ``pending_skills`` leave their scores pending (None)."""
    from placement.cat import TestState, next_step, step_rng

    rng = np.random.default_rng([seed, 99])
    state = TestState(non_reader=non_reader, seed=seed, **state_options)  # type: ignore[arg-type]
    steps = []
    while True:
        step = next_step(state, pool, rules, step_rng(seed, len(state.responses)))
        steps.append(step)
        if step.done:
            return steps, state
        i = pool.index(step.item_id)
        t = theta if isinstance(theta, float | int) else theta[pool.skills[i]]
        from placement.irt import sample_responses

        score = int(sample_responses(pool, [i], float(t), rng)[0])
        state = state.with_response(
            step.item_id,
            None if pool.skills[i] in pending_skills else score,
            state.elapsed_s + seconds_per_item,
        )
