"""Parameter recovery on CAT-simulated sparse data: our MML against girth and mirt.

Prints, for the same simulated data: RMSE of a and b (and GRM thresholds), the correlation
of b with the truth, and the fit time, for

* ``calibration.fit`` (our marginal ML over girth's quadrature, this package),
* girth 0.8 ``twopl_mml`` / ``grm_mml`` used the plain way (unseen = ``INVALID_RESPONSE``),
* the PyPI ``mirt`` package's EM (``mirt.fit_mirt``, missing = NaN).

Usage::

    .venv/bin/python benchmarks/calibration_recovery.py              # 20,000 x 300 (+ GRM)
    .venv/bin/python benchmarks/calibration_recovery.py --persons 3000 --items 100 --grm 0

Items with fewer than ``--min-responses`` responses are left out of every RMSE (and of the
girth and mirt fits, which cannot keep them at old values); girth and mirt start from their
defaults, ours from a=1, b=0 (no old parameters used).

The data come from ``calibration.synthetic.simulate_cat`` (maximum information, randomesque,
fixed length: fast enough for 20,000 candidates), or with ``--engine`` from the engine itself
(``placement.simulation.simulate``: ``next_step`` with the CIR rules' selection, exposure and
content balance, one fixed-length section) — about 20 ms per candidate, so use it with fewer
candidates, e.g. ``--engine --persons 3000``.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from calibration.data import ItemParameters, Responses
from calibration.fit import fit
from calibration.synthetic import random_bank, simulate_cat


def dense(responses: Responses, items: np.ndarray, missing: float) -> np.ndarray:
    """(persons, len(items)) matrix of scores with ``missing`` where unseen."""
    col = -np.ones(max(int(responses.item.max()), int(items.max())) + 1, dtype=int)
    col[items] = np.arange(items.size)
    out = np.full((responses.n_persons, items.size), missing)
    keep = col[responses.item] >= 0
    out[responses.person[keep], col[responses.item[keep]]] = responses.score[keep]
    return out


def rmse(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sqrt(np.nanmean((x - y) ** 2)))


def report(
    name: str,
    true: ItemParameters,
    idx: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    *,
    seconds: tuple[float, float],
    thr: np.ndarray | None = None,
) -> None:
    line = (
        f"{name:<30} RMSE a {rmse(a, true.a[idx]):6.3f}  RMSE b {rmse(b, true.b[idx]):6.3f}"
        f"  corr b {np.corrcoef(b, true.b[idx])[0, 1]:5.2f}  wall {seconds[0]:6.1f} s"
        f"  cpu {seconds[1]:6.1f} s"
    )
    if thr is not None:
        k = thr.shape[1]
        line += f"   RMSE thresholds {rmse(thr, true.thresholds[idx, :k]):6.3f}"
    print(line)


Timing = tuple[float, float]  # wall seconds, CPU seconds of the process (all threads)


def run_girth(X: np.ndarray) -> tuple[np.ndarray, np.ndarray, Timing, str]:
    """girth's grm_mml on every item at once (its twopl_mml is grm_mml on 0/1 items)."""
    from girth import grm_mml
    from girth.utilities import INVALID_RESPONSE

    data = np.where(np.isnan(X), INVALID_RESPONSE, X).astype(int).T  # girth: items x persons
    t, c = time.perf_counter(), time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = grm_mml(data)
    except Exception as exc:  # girth's failure is one of the figures
        spent = (time.perf_counter() - t, time.process_time() - c)
        return np.array([]), np.array([]), spent, f"{type(exc).__name__}: {exc}"
    a = np.asarray(res["Discrimination"], dtype=float)
    spent = (time.perf_counter() - t, time.process_time() - c)
    return a, np.asarray(res["Difficulty"], dtype=float), spent, ""


def run_mirt(X: np.ndarray, grm: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, Timing]:
    """mirt's EM on every item at once (mixed 2PL/GRM when there are GRM items)."""
    import mirt

    n = X.shape[1]
    t, c = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if grm.any():
            res = mirt.fit_mirt(
                X,
                model=["GRM" if g else "2PL" for g in grm],
                n_categories=[k + 1 if g else 2 for g in grm],
                compute_standard_errors=False,
            )
        else:
            res = mirt.fit_mirt(X, model="2PL", compute_standard_errors=False)
    seconds = (time.perf_counter() - t, time.process_time() - c)
    params = res.model.parameters
    a = np.full(n, np.nan)
    thr = np.full((n, k), np.nan)
    prefix = "2PL." if grm.any() else ""
    a[~grm] = np.asarray(params[prefix + "discrimination"], dtype=float).ravel()
    thr[~grm, 0] = np.asarray(params[prefix + "difficulty"], dtype=float).ravel()
    if grm.any():
        a[grm] = np.asarray(params["GRM.discrimination"], dtype=float).ravel()
        thr[grm] = np.asarray(params["GRM.thresholds"], dtype=float).reshape(-1, k)
    return a, thr, seconds


def engine_responses(
    bank: ItemParameters, thetas: np.ndarray, length: int, randomesque: int, seed: int
) -> Responses:
    """The CAT of ``placement`` on ``bank`` (one section of ``length`` items)."""
    import tempfile
    from pathlib import Path

    from calibration.data import write_parameters
    from placement.bank import pool_from_csv
    from placement.cat import Exposure, Section, Stopping
    from placement.cat.rules import Classification
    from placement.rules import default_rules
    from placement.simulation import simulate

    themes = ("vie pratique", "vie publique", "vie professionnelle")
    table = bank.with_values(themes=tuple(themes[i % 3] for i in range(bank.n_items)))
    with tempfile.TemporaryDirectory() as tmp:
        pool = pool_from_csv(write_parameters(table, Path(tmp) / "bank.csv"))
    skill = bank.skills[0]
    rules = default_rules().with_changes(
        sections=(Section(skill, length, length),),
        exposure=Exposure(randomesque_k=randomesque),
        stopping=Stopping(se_target=None, classification=Classification(method="none")),
        non_reader_skills=(),
    )
    result = simulate(pool, rules, thetas.size, seed, {skill: thetas}, True)
    person = np.array([r[0] for r in result.responses], dtype=np.int64)
    item = bank.indices([r[1] for r in result.responses])
    score = np.array([r[2] for r in result.responses], dtype=np.int64)
    return Responses(tuple(f"p{i}" for i in range(thetas.size)), person, item, score)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--grm", type=int, default=20, help="GRM items (0-3) added to the bank")
    parser.add_argument("--length", type=int, default=25, help="items per candidate")
    parser.add_argument("--randomesque", type=int, default=10)
    parser.add_argument("--min-responses", type=int, default=30)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-girth", action="store_true")
    parser.add_argument("--engine", action="store_true", help="data from placement's own CAT")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    bank = random_bank(args.items, rng, n_grm=args.grm, max_score=3)
    thetas = rng.normal(size=args.persons)
    t = time.perf_counter()
    if args.engine:
        resp = engine_responses(bank, thetas, args.length, args.randomesque, args.seed)
    else:
        resp = simulate_cat(
            bank, thetas, rng, test_length=args.length, randomesque=args.randomesque
        )
    print(
        f"{'engine' if args.engine else 'simulate_cat'} CAT data: {args.persons} persons, "
        f"{args.items} 2PL + {args.grm} GRM items, "
        f"{args.length} items each (randomesque {args.randomesque}), {resp.n_responses} "
        f"responses, {resp.n_responses / (args.persons * bank.n_items):.1%} of the matrix "
        f"filled, simulated in {time.perf_counter() - t:.1f} s; "
        f"CPU cores visible: {os.cpu_count()}"
    )
    counts = resp.counts(bank.n_items)
    grm_mask = np.array([m == "GRM" for m in bank.models])
    usable = counts >= args.min_responses
    print(
        f"items with < {args.min_responses} responses (left out of every RMSE): "
        f"{int((~usable).sum())}; never seen: {int((counts == 0).sum())}"
    )
    used = np.flatnonzero(usable)
    dich = np.flatnonzero(~grm_mask[used])  # positions within `used`
    poly = np.flatnonzero(grm_mask[used])
    full = resp
    # as in the issue: responses to items under the threshold are dropped for every method
    keep = usable[resp.item]
    resp = Responses(resp.person_ids, resp.person[keep], resp.item[keep], resp.score[keep])
    k = 3

    start = bank.with_values(
        a=np.ones(bank.n_items),
        b=np.zeros(bank.n_items),
        thresholds=np.where(np.isnan(bank.thresholds), np.nan, np.linspace(-1, 1, k)[None, :]),
    )
    c = time.process_time()
    ours = fit(start, resp, min_responses=args.min_responses, se="none", progress=False)
    ours_time = (ours.time_s, time.process_time() - c)
    p = ours.params
    X = dense(resp, used, np.nan)
    a_m, thr_m, s_m = run_mirt(X, grm_mask[used], k)
    girth: tuple[np.ndarray, np.ndarray, Timing, str] | None = None
    if not args.skip_girth:
        girth = run_girth(X)

    d_idx, g_idx = used[dich], used[poly]
    print("\n2PL items (every method fitted all usable items at once, 2PL and GRM together)")
    report("calibration.fit (ours, MML)", bank, d_idx, p.a[d_idx], p.b[d_idx], seconds=ours_time)
    report("mirt 1.2 fit_mirt (EM)", bank, d_idx, a_m[dich], thr_m[dich, 0], seconds=s_m)
    if girth is not None:
        a_g, b_g, s_g, err = girth
        if err:
            print(f"{'girth 0.8 grm_mml/twopl_mml':<30} failed after {s_g[0]:.1f} s: {err}")
        else:
            report("girth 0.8 twopl_mml (plain)", bank, d_idx, a_g[dich], b_g[dich, 0], seconds=s_g)
    if poly.size:
        print("\nGRM items (b = mean threshold)")
        thr_o = p.thresholds[g_idx, :k]
        report(
            "calibration.fit (ours, MML)",
            bank,
            g_idx,
            p.a[g_idx],
            thr_o.mean(axis=1),
            seconds=ours_time,
            thr=thr_o,
        )
        report(
            "mirt 1.2 fit_mirt (EM)",
            bank,
            g_idx,
            a_m[poly],
            thr_m[poly].mean(axis=1),
            seconds=s_m,
            thr=thr_m[poly],
        )
        if girth is not None and not girth[3]:
            a_g, b_g, s_g, _ = girth
            thr_g = b_g[poly, :k]
            report(
                "girth 0.8 grm_mml (plain)",
                bank,
                g_idx,
                a_g[poly],
                np.nanmean(thr_g, axis=1),
                seconds=s_g,
                thr=thr_g,
            )
    if not args.skip_girth and (counts == 0).any():
        # girth on every item, as the issue ran it: an item nobody saw crashes it
        _, _, s_c, err = run_girth(dense(full, np.arange(bank.n_items), np.nan))
        print(
            f"\ngirth grm_mml with the never-seen items included: {err or 'ran'} ({s_c[0]:.1f} s)"
        )
    print(
        f"\nmirt / ours: {s_m[1] / max(ours_time[1], 1e-9):.1f}x the CPU time, "
        f"{s_m[0] / max(ours_time[0], 1e-9):.1f}x the wall time"
    )
    print(
        f"ours: {ours.n_evaluations} likelihood evaluations, converged={ours.converged}, "
        f"{len(ours.kept)} items kept at their old values (the never-seen and rarely seen ones)"
    )
    print(
        "wall: elapsed seconds; cpu: CPU seconds of this process, all threads (mirt's Rust EM "
        "is multi-threaded), a fairer figure when other jobs share the machine"
    )


if __name__ == "__main__":
    main()
