"""Per-step speed and accuracy of this engine against catsim and mirt, in the same process.

The same 2PL banks (300, 1,000 and 5,000 items; a ~ U(0.8, 2.0), b ~ N(0, 1)), the same
N(0, 1) candidates, fixed-length tests of 20 items, maximum-information selection, and:

* **placement** — ``placement.cat.next_step`` as the server calls it: the state rebuilt from
  the stored responses at every step, EAP on the 61-point grid from the precomputed tables,
  information at θ̂ interpolated from the information table. Timed twice: plain (as the peers),
  and with exposure control (randomesque among 5) and content balancing (three themes, at
  least one item each, at most half of the test in one theme) on.
* **catsim** 0.21 — ``NumericalSearchEstimator`` (bounded ML with Dodd's heuristic, catsim's
  estimator) then ``MaxInfoSelector``; a step is estimate + select.
* **mirt** 1.2 — ``mirt.cat.CATEngine`` (EAP, maximum Fisher information) on a 2PL model whose
  parameters are set directly (marked fitted the way ``mirt`` marks a model it loads); a step
  is ``administer_item`` (record, estimate, select the next item).

The engines take turns candidate by candidate (each tests candidate 1, then each tests
candidate 2, ...), so that a slow spell of a shared machine falls on all of them alike. Step
times are wall-clock (``perf_counter``) and, because this machine is shared, also the
process's CPU time (``process_time``: every thread of the process, so mirt's Rust worker
threads count), which leaves out time the process spent waiting for a core. Ratios are
peer / placement-with-exposure-and-balance, at p50 and p99. RMSE (with its standard error)
and bias are of the final θ̂ after 20 items.

Run: ``.venv/bin/python benchmarks/cat_vs_peers.py [--examinees N] [--sizes 300 1000 5000]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from tqdm import tqdm

from placement.cat import (
    Classification,
    Exposure,
    Rules,
    Section,
    Step,
    Stopping,
    TestState,
    Themes,
    next_step,
    step_rng,
)
from placement.irt import Pool

T = TypeVar("T")
LENGTH = 20
THEMES = ("vie pratique", "vie publique", "vie professionnelle")


class Timer:
    """Wall and process-CPU durations of the timed calls, in milliseconds."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self, fn: Callable[[], T]) -> T:
        # the CPU clock is a system call (about 1 µs here): read it outside the wall window
        c0 = time.process_time()
        w0 = time.perf_counter()
        out = fn()
        w1 = time.perf_counter()
        c1 = time.process_time()
        self.wall.append((w1 - w0) * 1e3)
        self.cpu.append((c1 - c0) * 1e3)
        return out

    def p(self, q: float, cpu: bool = False) -> float:
        return float(np.percentile(self.cpu if cpu else self.wall, q))


def answer(rng: np.random.Generator, a: float, b: float, theta: float) -> int:
    return int(rng.random() < 1.0 / (1.0 + np.exp(-a * (theta - b))))


#: One engine: given a candidate's number and true θ, it tests the candidate, timing each step
#: with the timer, and returns the final θ̂.
Engine = Callable[[Timer, int, float], float]


def placement_engine(a: np.ndarray, b: np.ndarray, balanced: bool) -> Engine:
    n = a.size
    pool = Pool.create(
        [f"i{i}" for i in range(n)], a=a, b=b, skills="CE",
        themes=[THEMES[i % 3] for i in range(n)],
    )  # fmt: skip
    rules = Rules(
        sections=(Section("CE", LENGTH, LENGTH),),
        stopping=Stopping(se_target=None, classification=Classification(method="none")),
        exposure=Exposure(randomesque_k=5 if balanced else 1),
        themes=Themes(min_items=1, max_share=0.5) if balanced else Themes(min_items=0),
    )

    def run(timer: Timer, e: int, theta: float) -> float:
        rng = np.random.default_rng([7, e])
        state = TestState(seed=e)
        while True:

            def one_step(s: TestState = state) -> Step:
                return next_step(s, pool, rules, step_rng(e, len(s.responses)))

            step = timer(one_step)
            if step.item_id is None:
                return float(step.estimates["CE"].theta)
            i = pool.index(step.item_id)
            state = state.with_response(pool.ids[i], answer(rng, a[i], b[i], theta))

    return run


def catsim_engine(a: np.ndarray, b: np.ndarray) -> Engine:
    from catsim.estimation.numerical import NumericalSearchEstimator
    from catsim.item_bank import ItemBank
    from catsim.selection.selection import MaxInfoSelector

    bank = ItemBank(np.c_[a, b, np.zeros_like(a), np.ones_like(a)])
    selector, estimator = MaxInfoSelector(), NumericalSearchEstimator()

    def run(timer: Timer, e: int, theta: float) -> float:
        rng = np.random.default_rng([7, e])
        given: list[int] = []
        right: list[bool] = []
        first = selector.select(item_bank=bank, administered_items=given, est_theta=0.0)
        assert first is not None
        item = int(first)
        while True:
            given.append(item)
            right.append(bool(answer(rng, a[item], b[item], theta)))

            def step() -> tuple[float, int | None]:
                t = estimator.estimate(
                    item_bank=bank, administered_items=given, response_vector=right, est_theta=0.0
                )
                if len(given) >= LENGTH:
                    return t, None
                return t, selector.select(item_bank=bank, administered_items=given, est_theta=t)

            est, nxt = timer(step)
            if nxt is None:
                return float(est)
            item = int(nxt)

    return run


def mirt_engine(a: np.ndarray, b: np.ndarray) -> Engine:
    from mirt.cat import CATEngine, CATState
    from mirt.models.dichotomous import TwoParameterLogistic

    model = TwoParameterLogistic(n_items=a.size)
    model.set_parameters(discrimination=a, difficulty=b)
    model._is_fitted = True  # known parameters: mirt marks the models it loads the same way
    engine = CATEngine(
        model, scoring_method="EAP", se_threshold=1e-9, min_items=LENGTH, max_items=LENGTH,
        seed=1,
    )  # fmt: skip

    def run(timer: Timer, e: int, theta: float) -> float:
        rng = np.random.default_rng([7, e])
        engine.reset()
        state = engine.get_current_state()
        while not state.is_complete:

            def administer(i: int = int(state.next_item)) -> CATState:
                return engine.administer_item(answer(rng, a[i], b[i], theta))

            state = timer(administer)
        return float(state.theta)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examinees", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 5000])
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    header = (
        f"{'items':>6} {'engine':<28} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'cpu p99':>8}"
        f" {'x p50':>6} {'x p99':>6} {'x cpu99':>7} {'RMSE':>6} {'± se':>6} {'bias':>7}"
    )
    print(f"{args.examinees} candidates N(0, 1), {LENGTH} items each, 2PL banks")
    print(header)
    for n in args.sizes:
        rng = np.random.default_rng([args.seed, n])
        a, b = rng.uniform(0.8, 2.0, n), rng.normal(0.0, 1.0, n)
        thetas = np.random.default_rng([args.seed, 0]).normal(size=args.examinees)
        engines = {
            "placement": placement_engine(a, b, balanced=False),
            "placement +exposure +balance": placement_engine(a, b, balanced=True),
            "catsim 0.21": catsim_engine(a, b),
            "mirt 1.2 CATEngine": mirt_engine(a, b),
        }
        for engine in engines.values():  # warm the caches and the tables
            engine(Timer(), 0, 0.0)
        results = {name: (Timer(), np.empty(thetas.size)) for name in engines}
        # the engines take turns, candidate by candidate, so that a slow spell of a shared
        # machine falls on all of them alike
        for e in tqdm(range(thetas.size), desc=f"{n} items", unit="candidate", leave=False):
            for name, engine in engines.items():
                timer, estimates = results[name]
                estimates[e] = engine(timer, e, float(thetas[e]))
        base = results["placement +exposure +balance"][0]
        for name, (timer, est) in results.items():
            squared = (est - thetas) ** 2
            rmse = float(np.sqrt(squared.mean()))
            se = float(squared.std(ddof=1) / (2 * rmse * np.sqrt(squared.size)))  # delta method
            print(
                f"{n:>6} {name:<28} {timer.p(50):8.3f} {timer.p(99):8.3f} {timer.p(50, True):8.3f}"
                f" {timer.p(99, True):8.3f} {timer.p(50) / base.p(50):6.1f}"
                f" {timer.p(99) / base.p(99):6.1f} {timer.p(99, True) / base.p(99, True):7.1f}"
                f" {rmse:6.3f} {se:6.3f} {float(np.mean(est - thetas)):+7.3f}"
            )
    print(
        "x p50 / x p99 / x cpu99: the engine's step time over placement's (with exposure and"
        " balance); ± se: the standard error of the RMSE (delta method)"
    )


if __name__ == "__main__":
    main()
