"""The non-reader path beside the reader path: RMSE, level accuracy and exposure (printed).

A *non-lecteur / non-scripteur* takes listening (CO) and speaking (EO) only, on items that need
no reading; a reader takes the four skills. For each bank and each path the script fits
Sympson–Hetter constants for that path's own population (target 0.25: the readers' constants
say nothing of a pool only non-readers draw from), then simulates the engine
(``placement.simulation.simulate``, the bundled CIR rules) on N(0, 1) candidates with the
skills correlated as the release says, and prints per path: items per test, RMSE of θ̂ and
accuracy of the A1 decision for CO and EO, maximum exposure and unused share of the path's
pool.

Banks:

* **bundled** — a release built from the sources in ``itembank/bank`` into a temporary folder
  (so the figures are those of the current pool, whatever release was last published);
* **shipped** (``--shipped``) — the newest published release, for comparison with the pool
  before issue 16;
* **own CSV** — a bank of our own in the exchange format: 4 skills × ``--own-items`` items
  (3PL choice items with c = 0.2, GRM items for EO), 60 % of CO and all EO items flagged in the
  ``non_reader`` column, written by ``itembank.parameters.write_parameters_csv`` and read back
  by ``placement.bank.pool_from_csv`` — the path needs nothing but the CSV.

The Sympson–Hetter fit is the release's (:func:`placement.exposure.fit_exposure`, what
``placement exposure`` publishes: aimed under the target by its margin), for one path at a
time; the non-readers' long listening section (20–24 of 162 items) needs about 20 rounds of
500 candidates to settle under 0.25.

Run: ``.venv/bin/python benchmarks/non_reader_path.py [--examinees 400] [--sh-examinees 500]
[--sh-rounds 20] [--seed 1] [--shipped] [--non-reader-only]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

import itembank
from itembank.parameters import ParameterRow, write_parameters_csv
from placement.bank import pool_from_csv, pool_from_release
from placement.cat import Rules
from placement.exposure import fit_exposure, with_exposure
from placement.irt import Pool
from placement.rules import default_rules
from placement.simulation import simulate

THEMES = ("vie pratique", "vie publique", "vie professionnelle")
TARGET = 0.25


def own_csv(path: Path, n_per_skill: int, seed: int) -> Path:
    """A four-skill bank of our own with a ``non_reader`` column (see the module docstring)."""
    rng = np.random.default_rng(seed)
    rows = []
    for skill in ("CO", "CE", "EO", "EE"):
        for i in range(n_per_skill):
            a = float(rng.uniform(0.8, 2.0))
            b = float(rng.normal(-0.3, 1.1))
            theme = THEMES[i % 3]
            non_reader = skill == "EO" or (skill == "CO" and i % 5 < 3)
            if skill in ("EO", "EE"):
                low, high = sorted(rng.normal(0, 0.6, 2))
                rows.append(
                    ParameterRow(f"{skill}-{i + 1:04d}", skill, theme, "GRM", a, b,
                                 thresholds=(b + low - 0.05, b + high + 0.05),
                                 non_reader=non_reader)
                )  # fmt: skip
            else:
                rows.append(
                    ParameterRow(f"{skill}-{i + 1:04d}", skill, theme, "3PL", a, b, c=0.2,
                                 non_reader=non_reader)
                )  # fmt: skip
    write_parameters_csv(rows, path)
    return path


def run_path(
    name: str,
    pool: Pool,
    rules: Rules,
    *,
    non_reader: bool,
    args: argparse.Namespace,
    cuts: Any = None,
    corr: Any = None,
) -> dict[str, Any]:
    """Fit Sympson–Hetter for the path, then simulate it; returns the figures."""
    share = 1.0 if non_reader else 0.0
    path = "non_readers" if non_reader else "readers"
    started = time.perf_counter()
    # the release's own fit (``placement exposure``), for this path only
    exposure = fit_exposure(
        pool, rules, target=TARGET, n_examinees=args.sh_examinees, iterations=args.sh_rounds,
        seed=args.seed + 100, cut_scores=cuts, skill_correlation=corr, paths=(path,),
    )  # fmt: skip
    fitted = with_exposure(rules, exposure)
    result = simulate(
        pool, fitted, args.examinees, args.seed, progress=False, cut_scores=cuts,
        skill_correlation=corr, non_reader_share=share,
    )  # fmt: skip
    summary = result.summary
    on_path = [
        i
        for i, item_id in enumerate(pool.ids)
        if not pool.pretest[i]
        and pool.skills[i] in (rules.non_reader_skills if non_reader else rules.skills)
        and (pool.non_reader[i] or not non_reader)
    ]
    rates = np.array([result.exposure[pool.ids[i]] for i in on_path])
    skills = ("CO", "EO") if non_reader else ("CO", "CE", "EO", "EE")
    return {
        "bank": name,
        "path": "non-reader" if non_reader else "reader",
        "pool": len(on_path),
        "items": summary["mean_items"],
        "rmse": {s: summary["rmse"].get(s) for s in skills},
        "a1": {s: summary["classification_accuracy"].get(s, {}).get("A1") for s in skills},
        "max_exposure": float(rates.max(initial=0.0)),
        "unused": float(np.mean(rates == 0)) if rates.size else None,
        "seconds": time.perf_counter() - started,
    }


def _f(x: float | None) -> str:
    return "—" if x is None else f"{x:.3f}"


def show(row: dict[str, Any]) -> None:
    """One line per bank and path."""
    skills = " ".join(
        f"{s}: RMSE {_f(row['rmse'][s])} A1 acc {_f(row['a1'][s])}" for s in row["rmse"]
    )
    print(
        f"{row['bank']:<26} {row['path']:<10} pool {row['pool']:>4}  items {row['items']:5.1f}  "
        f"{skills}  max exposure {row['max_exposure']:.3f}  unused {_f(row['unused'])}  "
        f"({row['seconds']:.0f} s)"
    )


def main() -> None:
    """Print the figures of both paths on each bank."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examinees", type=int, default=400)
    parser.add_argument("--sh-examinees", type=int, default=500)
    parser.add_argument("--sh-rounds", type=int, default=20)
    parser.add_argument("--own-items", type=int, default=160)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shipped", action="store_true", help="also the newest published release")
    parser.add_argument(
        "--non-reader-only", action="store_true", help="skip the reader path (a longer SH fit)"
    )
    args = parser.parse_args()
    paths = (True,) if args.non_reader_only else (False, True)
    rules = default_rules()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        built = itembank.publish_release(itembank.BANK_ROOT, root=Path(tmp) / "releases")
        banks = [(f"bundled (sources, {len(built.items)})", built)]
        if args.shipped:
            shipped = itembank.load_release()
            banks.append((f"shipped {shipped.version}", shipped))
        for name, release in banks:
            pool = pool_from_release(release)
            for non_reader in paths:
                rows.append(
                    run_path(name, pool, rules, non_reader=non_reader, args=args,
                             cuts=release.cut_scores, corr=release.skill_correlation)
                )  # fmt: skip
                show(rows[-1])
        csv = own_csv(Path(tmp) / "own-bank.csv", args.own_items, args.seed)
        pool = pool_from_csv(csv)
        for non_reader in paths:
            rows.append(run_path("own CSV (non_reader col.)", pool, rules,
                                 non_reader=non_reader, args=args))  # fmt: skip
            show(rows[-1])
    print(
        f"\n{args.examinees} candidates per run (seed {args.seed}); Sympson–Hetter fitted per "
        f"path for {TARGET} on {args.sh_examinees} candidates × {args.sh_rounds} rounds; "
        "targets for the non-reader path on the bundled bank: max exposure ≤ 0.25, CO A1 "
        "accuracy ≥ 0.90, CO RMSE ≤ 0.45."
    )


if __name__ == "__main__":
    main()
