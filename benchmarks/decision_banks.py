"""Item banks of our own for benchmarks/decision.py: seeded, shapes unlike the bundled bank.

No test and no default of the engine is tuned on these banks; they exist so that the decision
benchmark measures the engine on item banks it has never seen. Each shape differs from the
bundled bank (408 items, 3PL listening with c = 0.2, provisional a = 1) in size, models, slopes
and difficulty spread:

* ``broad``: CO 200 items (60 % 3PL with c in 0.10-0.25, 40 % 2PL), CE 180 2PL, EO 50 GRM
  (scores 0-3), EE 40 GRM (0-2); slopes log-normal around 1.1; difficulties N(-0.3, 1.1).
* ``skewed``: CO 120 3PL with low slopes (mean 0.8) and easy items, CE 250 2PL with high
  slopes (mean 1.4) and hard items, EO 35 GPCM (0-2), EE 60 GRM (0-3).

About a third to a half of the CO and EO items are flagged ``non_reader``.

Usage::

    python benchmarks/decision_banks.py --out /tmp/banks     # writes broad.csv and skewed.csv
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

import numpy as np

THEMES = ("vie pratique", "vie publique", "vie professionnelle")

#: skill -> (count, model, slope log-mean, slope log-sd, b mean, b sd, categories, non-reader share)
SHAPES: dict[str, dict[str, tuple[int, str, float, float, float, float, int, float]]] = {
    "broad": {
        "CO": (200, "3PL/2PL", 0.10, 0.30, -0.3, 1.1, 2, 0.35),
        "CE": (180, "2PL", 0.10, 0.30, -0.3, 1.1, 2, 0.0),
        "EO": (50, "GRM", 0.25, 0.25, -0.3, 1.0, 4, 0.4),
        "EE": (40, "GRM", 0.20, 0.25, -0.3, 1.0, 3, 0.0),
    },
    "skewed": {
        "CO": (120, "3PL", -0.25, 0.25, -0.8, 0.9, 2, 0.5),
        "CE": (250, "2PL", 0.33, 0.20, 0.4, 1.0, 2, 0.0),
        "EO": (35, "GPCM", 0.15, 0.30, -0.2, 1.2, 3, 0.5),
        "EE": (60, "GRM", 0.10, 0.30, 0.0, 1.0, 4, 0.0),
    },
}
SEEDS = {"broad": 101, "skewed": 202}


def make_bank(shape: str, seed: int | None = None) -> list[dict[str, Any]]:
    """The parameter rows of one bank shape (columns of the parameter CSV)."""
    rng = np.random.default_rng(SEEDS[shape] if seed is None else seed)
    rows: list[dict[str, Any]] = []
    for skill, (count, model, la, sa, bm, bs, categories, nr_share) in SHAPES[shape].items():
        kmax = categories - 1
        for i in range(count):
            a = float(np.exp(rng.normal(la, sa)))
            b = float(rng.normal(bm, bs))
            row: dict[str, Any] = {
                "id": f"{skill}-{shape[:2].upper()}{i:03d}",
                "skill": skill,
                "theme": THEMES[int(rng.integers(3))],
                "a": round(a, 3),
                "b": "",
                "c": "",
                "d": "",
                "b1": "",
                "b2": "",
                "b3": "",
                "provisional": 0,
                "pretest": 0,
                "non_reader": int(rng.random() < nr_share),
            }
            kind = model
            if model == "3PL/2PL":
                kind = "3PL" if rng.random() < 0.6 else "2PL"
            row["model"] = kind
            if kind in ("2PL", "3PL"):
                row["b"] = round(b, 3)
                row["c"] = round(float(rng.uniform(0.10, 0.25)), 3) if kind == "3PL" else 0
                row["d"] = 1
            else:
                steps = np.sort(b + rng.normal(0, 0.9, kmax)) if kind == "GRM" else None
                if steps is None:  # GPCM steps need not be ordered
                    steps = b + np.linspace(-0.8, 0.8, kmax) + rng.normal(0, 0.3, kmax)
                if kind == "GRM":
                    steps = steps + np.arange(kmax) * 1e-3  # strictly increasing
                for j, value in enumerate(steps, start=1):
                    row[f"b{j}"] = round(float(value), 3)
            rows.append(row)
    return rows


FIELDS = [
    "id", "skill", "theme", "model", "a", "b", "c", "d", "b1", "b2", "b3",
    "provisional", "pretest", "non_reader",
]  # fmt: skip


def write_bank(shape: str, path: Path, seed: int | None = None) -> Path:
    """Write the bank's parameter CSV to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(make_bank(shape, seed))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/decision-banks"))
    args = parser.parse_args()
    for shape in SHAPES:
        print(write_bank(shape, args.out / f"{shape}.csv"))


if __name__ == "__main__":
    main()
