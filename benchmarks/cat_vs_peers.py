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

Step times are wall-clock (``perf_counter``) and, because this machine is shared, also the
process's CPU time (``process_time``: every thread of the process, so mirt's Rust worker
threads count), which leaves out time the process spent waiting for a core. Ratios are
peer / placement at p99. RMSE and bias are of the final θ̂ after 20 items.

Run: ``.venv/bin/python benchmarks/cat_vs_peers.py [--examinees N] [--sizes 300 1000 5000]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from placement.cat import (
    Classification,
    Exposure,
    Rules,
    Section,
    Stopping,
    TestState,
    Themes,
    next_step,
    step_rng,
)
from placement.irt import Pool

LENGTH = 20
THEMES = ("vie pratique", "vie publique", "vie professionnelle")


class Timer:
    """Wall and process-CPU durations of the timed calls, in milliseconds."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self, fn: Callable[[], object]) -> object:
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        self.cpu.append((time.process_time() - c0) * 1e3)
        self.wall.append((time.perf_counter() - w0) * 1e3)
        return out

    def p(self, q: float, cpu: bool = False) -> float:
        return float(np.percentile(self.cpu if cpu else self.wall, q))


def answer(rng: np.random.Generator, a: float, b: float, theta: float) -> int:
    return int(rng.random() < 1.0 / (1.0 + np.exp(-a * (theta - b))))


def run_placement(
    a: np.ndarray, b: np.ndarray, thetas: np.ndarray, balanced: bool
) -> tuple[Timer, np.ndarray]:
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
    timer, estimates = Timer(), []
    for e, theta in enumerate(thetas):
        rng = np.random.default_rng([7, e])
        state = TestState(seed=e)
        while True:
            step = timer(
                lambda s=state, e=e: next_step(s, pool, rules, step_rng(e, len(s.responses)))
            )
            if step.done:  # type: ignore[attr-defined]
                estimates.append(step.estimates["CE"].theta)  # type: ignore[attr-defined]
                break
            i = pool.index(step.item_id)  # type: ignore[attr-defined]
            state = state.with_response(pool.ids[i], answer(rng, a[i], b[i], theta))
    return timer, np.asarray(estimates)


def run_catsim(a: np.ndarray, b: np.ndarray, thetas: np.ndarray) -> tuple[Timer, np.ndarray]:
    from catsim.estimation.numerical import NumericalSearchEstimator
    from catsim.item_bank import ItemBank
    from catsim.selection.selection import MaxInfoSelector

    bank = ItemBank(np.c_[a, b, np.zeros_like(a), np.ones_like(a)])
    selector, estimator = MaxInfoSelector(), NumericalSearchEstimator()
    timer, estimates = Timer(), []
    for e, theta in enumerate(thetas):
        rng = np.random.default_rng([7, e])
        given: list[int] = []
        right: list[bool] = []
        est = 0.0
        item = int(selector.select(item_bank=bank, administered_items=given, est_theta=est))
        while True:
            given.append(item)
            right.append(bool(answer(rng, a[item], b[item], theta)))

            def step(
                given: list[int] = given, right: list[bool] = right
            ) -> tuple[float, int | None]:
                t = estimator.estimate(
                    item_bank=bank, administered_items=given, response_vector=right, est_theta=0.0
                )
                if len(given) >= LENGTH:
                    return t, None
                return t, selector.select(item_bank=bank, administered_items=given, est_theta=t)

            est, nxt = timer(step)  # type: ignore[misc]
            if nxt is None:
                break
            item = int(nxt)
        estimates.append(est)
    return timer, np.asarray(estimates)


def run_mirt(a: np.ndarray, b: np.ndarray, thetas: np.ndarray) -> tuple[Timer, np.ndarray]:
    from mirt.cat import CATEngine
    from mirt.models.dichotomous import TwoParameterLogistic

    model = TwoParameterLogistic(n_items=a.size)
    model.set_parameters(discrimination=a, difficulty=b)
    model._is_fitted = True  # known parameters: mirt marks the models it loads the same way
    engine = CATEngine(
        model, scoring_method="EAP", se_threshold=1e-9, min_items=LENGTH, max_items=LENGTH,
        seed=1,
    )  # fmt: skip
    timer, estimates = Timer(), []
    for e, theta in enumerate(thetas):
        rng = np.random.default_rng([7, e])
        engine.reset()
        state = engine.get_current_state()
        while not state.is_complete:
            i = state.next_item
            state = timer(  # type: ignore[assignment]
                lambda i=i, rng=rng, theta=theta: engine.administer_item(
                    answer(rng, a[i], b[i], theta)
                )
            )
        estimates.append(state.theta)
    return timer, np.asarray(estimates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examinees", type=int, default=100)
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 1000, 5000])
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    header = (
        f"{'items':>6} {'engine':<28} {'p50 ms':>8} {'p99 ms':>8} {'cpu p50':>8} {'cpu p99':>8}"
        f" {'x p99':>7} {'x cpu99':>8} {'RMSE':>6} {'bias':>7}"
    )
    print(f"{args.examinees} candidates N(0, 1), {LENGTH} items each, 2PL banks")
    print(header)
    for n in args.sizes:
        rng = np.random.default_rng([args.seed, n])
        a, b = rng.uniform(0.8, 2.0, n), rng.normal(0.0, 1.0, n)
        thetas = np.random.default_rng([args.seed, 0]).normal(size=args.examinees)
        run_placement(a, b, thetas[:3], balanced=True)  # warm the caches and the tables
        results = {
            "placement": run_placement(a, b, thetas, balanced=False),
            "placement +exposure +balance": run_placement(a, b, thetas, balanced=True),
            "catsim 0.21": run_catsim(a, b, thetas),
            "mirt 1.2 CATEngine": run_mirt(a, b, thetas),
        }
        base = results["placement +exposure +balance"][0]
        for name, (timer, est) in results.items():
            err = est - thetas
            print(
                f"{n:>6} {name:<28} {timer.p(50):8.3f} {timer.p(99):8.3f} {timer.p(50, True):8.3f}"
                f" {timer.p(99, True):8.3f} {timer.p(99) / base.p(99):7.1f}"
                f" {timer.p(99, True) / base.p(99, True):8.1f}"
                f" {np.sqrt(np.mean(err**2)):6.3f} {np.mean(err):+7.3f}"
            )
    print(
        "x p99 / x cpu99: the engine's p99 step time over placement's (with exposure and balance)"
    )


if __name__ == "__main__":
    main()
