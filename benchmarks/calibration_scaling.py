"""How the calibration's time grows with the number of responses, beside mirt's EM.

For each number of candidates (25 items each from a 300 2PL + 20 GRM bank, the same CAT as
``benchmarks/calibration_recovery.py``), prints the wall and CPU seconds of

* ``calibration.fit`` without standard errors (the estimation itself),
* ``calibration.fit`` with the default cross-product standard errors (what ``calibration
  fit`` runs),
* the PyPI ``mirt`` package's EM on the same items (``--no-mirt`` to skip it),

and the ratio of mirt's CPU time to ours. CPU seconds count every thread of the process
(mirt's Rust EM is multi-threaded); the machine is shared, so the CPU column is the fairer
figure.

Usage::

    .venv/bin/python benchmarks/calibration_scaling.py                       # 75k .. 2M
    .venv/bin/python benchmarks/calibration_scaling.py --persons 3000 20000  # 75k, 500k
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from calibration.data import ItemParameters, Responses
from calibration.fit import SeMethod, fit
from calibration.synthetic import random_bank, simulate_cat


def timed_fit(start: ItemParameters, resp: Responses, se: SeMethod) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and E-steps of one fit."""
    t, c = time.perf_counter(), time.process_time()
    result = fit(start, resp, min_responses=30, se=se, progress=False)
    return time.perf_counter() - t, time.process_time() - c, result.n_evaluations


def timed_mirt(resp: Responses, used: np.ndarray, grm: np.ndarray) -> tuple[float, float]:
    """Wall and CPU seconds of mirt's EM on the usable items (missing = NaN)."""
    import mirt

    col = -np.ones(int(resp.item.max()) + 1, dtype=np.int64)
    col[used] = np.arange(used.size)
    X = np.full((resp.n_persons, used.size), np.nan)
    X[resp.person, col[resp.item]] = resp.score
    t, c = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mirt.fit_mirt(
            X,
            model=["GRM" if g else "2PL" for g in grm],
            n_categories=[4 if g else 2 for g in grm],
            compute_standard_errors=False,
        )
    return time.perf_counter() - t, time.process_time() - c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, nargs="+", default=[3_000, 20_000, 40_000, 80_000])
    parser.add_argument("--length", type=int, default=25)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-mirt", action="store_true")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    bank = random_bank(300, rng, n_grm=20, max_score=3)
    start = bank.with_values(
        a=np.ones(bank.n_items),
        b=np.zeros(bank.n_items),
        thresholds=np.where(np.isnan(bank.thresholds), np.nan, np.linspace(-1, 1, 3)[None, :]),
    )
    grm_mask = np.array([m == "GRM" for m in bank.models])
    print(f"300 2PL + 20 GRM items, {args.length} items each; CPU cores visible: {os.cpu_count()}")
    print(
        f"{'responses':>10} {'persons':>8} {'E-steps':>8} | {'fit wall':>8} {'cpu':>6} | "
        f"{'+SE wall':>8} {'cpu':>6} | {'mirt wall':>9} {'cpu':>6} | mirt cpu / ours"
    )
    for n_persons in args.persons:
        thetas = rng.normal(size=n_persons)
        resp = simulate_cat(bank, thetas, rng, test_length=args.length, randomesque=10)
        usable = resp.counts(bank.n_items) >= 30
        keep = usable[resp.item]
        resp = Responses(resp.person_ids, resp.person[keep], resp.item[keep], resp.score[keep])
        wall, cpu, steps = timed_fit(start, resp, "none")
        se_wall, se_cpu, _ = timed_fit(start, resp, "crossprod")
        line = (
            f"{resp.n_responses:>10,} {n_persons:>8,} {steps:>8} | {wall:>7.1f}s {cpu:>5.1f}s | "
            f"{se_wall:>7.1f}s {se_cpu:>5.1f}s |"
        )
        if args.no_mirt:
            print(line + f" {'-':>9} {'-':>6} |")
            continue
        used = np.flatnonzero(usable)
        m_wall, m_cpu = timed_mirt(resp, used, grm_mask[used])
        print(line + f" {m_wall:>8.1f}s {m_cpu:>5.1f}s | {m_cpu / cpu:5.1f}x")


if __name__ == "__main__":
    main()
