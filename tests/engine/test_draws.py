"""The per-step random stream: replayable, independent between steps, uniform."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from placement.cat import Exposure, Rules, Section, TestState, next_step, step_rng
from placement.cat.draws import StepRng
from placement.irt.errors import InvalidState

from .conftest import make_pool


def _stream(rng: StepRng, n: int = 8) -> list[int]:
    return [rng.integers(1 << 30) for _ in range(n)]


def test_the_same_key_gives_the_same_draws_and_another_key_others() -> None:
    assert _stream(step_rng(42, 3)) == _stream(step_rng(42, 3))
    streams = {tuple(_stream(step_rng(seed, n))) for seed in range(20) for n in range(20)}
    assert len(streams) == 400
    # every bit of a large seed counts, and the split between key values too
    assert _stream(StepRng(1 << 64)) != _stream(StepRng(0))
    assert _stream(StepRng(1, 0)) != _stream(StepRng(1))


def test_draws_are_uniform() -> None:
    rng = step_rng(7, 0)
    u = np.array([rng.random() for _ in range(20_000)])
    assert u.min() >= 0.0
    assert u.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    counts = np.bincount([rng.integers(5) for _ in range(20_000)], minlength=5)
    assert counts.size == 5
    assert stats.chisquare(counts).pvalue > 1e-3
    # the first draw of consecutive steps of one session: no visible dependence
    first = np.array([step_rng(7, n).random() for n in range(20_000)])
    assert stats.kstest(first, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(first[:-1], first[1:])[0, 1]) < 0.03


@pytest.mark.parametrize("key", [(-1,), (True,), (1.5,), ("7",)])
def test_a_bad_key_is_refused(key: tuple[object, ...]) -> None:
    with pytest.raises(InvalidState, match="non-negative integer"):
        StepRng(*key)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="high"):
        StepRng(1).integers(0)


def test_a_numpy_generator_can_stand_in() -> None:
    pool = make_pool({"CE": 40}, seed=4)
    rules = Rules(
        sections=(Section("CE", 5, 5),),
        exposure=Exposure(randomesque_k=3, sympson_hetter=dict.fromkeys(pool.ids, 0.5)),
    )
    generator = np.random.default_rng(0)
    state = TestState()
    for n in range(5):
        step = next_step(state, pool, rules, generator)
        assert step.item_id is not None
        state = state.with_response(step.item_id, n % 2)
    assert next_step(state, pool, rules, generator).done
