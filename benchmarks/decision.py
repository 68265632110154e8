"""How right are the decisions, against the bound of a fixed form read with the joint posterior?

Issue 11's benchmark. On banks of our own (``benchmarks/decision_banks.py``: seeded, other
shapes than the bundled bank, never tuned on) and the same simulated candidates (abilities
from the correlated normal of the rules), in one process:

* **engine + CIR rules** — ``placement/rules/cir.yaml`` as shipped (value-of-information
  stopping: a section ends once its remaining items could no longer change the dispense
  decision materially, and the items it leaves unused raise the later sections' maxima; time
  kept for the later sections' minimums; the referral band), Sympson–Hetter fitted for the
  rules' target;
* **engine, CI rule (cir-2)** — the rules before value of information was the default: the CI
  rule at A1 with the SE target held, each section within the blueprint's bounds;
* **engine, selection at the cuts** — the CIR rules with items chosen for their information
  at the cut the decision turns on (``selection: decision``);
* **engine, no decision targeting** — the same rules with today's behaviour before issue 11:
  information at θ̂, the CI rule at A1 with the SE target held, no carry-over; Sympson–Hetter
  fitted likewise (both engines report the joint posterior's decision and referral);
* **reference fixed form** — per skill the most informative items at the A1 cut (30 in all:
  CO 11, CE 11, EO 5, EE 3), no exposure control, read with the joint posterior on 16,384
  draws: the issue's bound (no test of that length does much better);
* **reference, sections' maxima** — the same with each section at its maximum (34 items for
  readers): the most the blueprint lets a test ask at the cut;
* **reference, maxima, 4 forms** — the items of that ranking dealt in turn to four parallel
  forms, one per candidate in turn: each item is seen by a quarter of the candidates, the bound
  of a test whose exposure is capped at the rules' target (0.25).

The references read the same candidates as the engines (``draw_true_thetas`` with
simulate's seed), so the rows are paired: differences between them are measured more
precisely than each row's own error (about 1.7 points at 400 candidates, 1.1 at 1,000).

For each: overall accuracy of the dispense and hours decisions, accuracy of the decisions not
referred, referred share, calibration error of P(dispense) (10 bins) beside its floor on the sample
(the ECE a perfectly calibrated predictor shows on as many candidates), mean and p95 items,
max exposure. ``--non-readers`` adds the engines on non-reader candidates (CO and EO only).

Run: ``.venv/bin/python benchmarks/decision.py [--examinees 400] [--seed 1]
[--sh-examinees 300] [--sh-iterations 10] [--banks broad,skewed] [--non-readers]
[--rows cir,ci,cuts,plain]``
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from decision_banks import SHAPES, write_bank  # the script's own folder

from placement.bank import pool_from_csv
from placement.cat import Response, Rules, Selection, TestState, decision_posterior
from placement.exposure import fit_exposure, with_exposure
from placement.irt import Estimate, Pool, item_information, probabilities
from placement.levels import assess, load_policy
from placement.rules import default_rules
from placement.simulation import calibration, draw_true_thetas, simulate

FIXED_FORM = {"CO": 11, "CE": 11, "EO": 5, "EE": 3}


def untargeted(rules: Rules) -> Rules:
    """The rules without decision targeting: the behaviour before issue 11 (each section on
    its own budget, no time kept for the later sections)."""
    cl = replace(rules.stopping.classification, method="ci", hold_se=True, carry_over=False)
    return rules.with_changes(
        sections=tuple(replace(s, item_seconds=None) for s in rules.sections),
        non_reader_sections=tuple(replace(s, item_seconds=None) for s in rules.non_reader_sections),
        selection=Selection("max_info", rules.selection.strata),
        stopping=replace(rules.stopping, classification=cl),
    )


def ci_rule(rules: Rules) -> Rules:
    """The CIR rules before value of information (cir-2): the CI rule at A1 with the SE target
    held, no carry-over."""
    cl = replace(rules.stopping.classification, method="ci", hold_se=True, carry_over=False)
    return rules.with_changes(stopping=replace(rules.stopping, classification=cl))


def at_the_cuts(rules: Rules) -> Rules:
    """The rules with items chosen for their information at the decision's cut (an option)."""
    return rules.with_changes(selection=Selection("decision", rules.selection.strata))


def engine_row(result: Any) -> dict[str, Any]:
    s = result.summary
    acc = s["classification_accuracy"]
    return {
        "dispense": acc["dispense"],
        "hours": acc["hours"],
        "dispense_auto": acc["dispense_auto"],
        "hours_auto": acc["hours_auto"],
        "referred": s["referred_share"],
        "ece": s["dispense_calibration"]["ece"],
        "ece_floor": s["dispense_calibration"]["ece_floor"],
        "items": s["mean_items"],
        "items_p95": s["items_p95"],
        "max_exposure": s["max_exposure"],
    }


def reference_row(
    pool: Pool,
    rules: Rules,
    n: int,
    seed: int,
    non_reader: bool,
    *,
    counts: dict[str, int] = FIXED_FORM,
    forms: int = 1,
) -> dict[str, Any]:
    """Fixed forms of the items most informative at the A1 cut, read with the joint posterior.

    ``forms`` > 1: that many parallel forms, dealt from the ranking at the cut in turn (the
    best item to form 0, the next to form 1, ...), candidate ``e`` takes form ``e % forms``:
    each item is seen by ``1 / forms`` of the candidates, the bound of a test whose exposure is
    capped at that rate.
    """
    policy = load_policy("cir-2016")
    cuts = rules.cut_scores
    master = np.random.default_rng(np.random.SeedSequence([seed, 0x51]))
    thetas = draw_true_thetas(rules, n, master, rules.skill_correlation)  # simulate's draws
    # form -> skill -> pool indices (sorted, as pool.subset keeps them)
    form: list[dict[str, np.ndarray]] = [{} for _ in range(forms)]
    for skill, count in counts.items():
        if non_reader and skill not in rules.non_reader_skills:
            continue
        mask = (np.asarray(pool.skills) == skill) & ~pool.pretest
        if non_reader:
            mask &= pool.non_reader
        on = np.flatnonzero(mask)
        info = item_information(pool.subset(mask), [cuts[skill]["A1"]])[:, 0]
        ranked = on[np.argsort(-info)[: count * forms]]
        for f in range(forms):
            form[f][skill] = np.sort(ranked[f::forms])
    # every candidate's answers to every form's items at once: P(X = k | true θ) per skill
    rng = np.random.default_rng([seed, 99])
    scores: list[dict[str, np.ndarray]] = [{} for _ in range(forms)]
    for f in range(forms):
        for skill, items in form[f].items():
            mask = np.zeros(len(pool), dtype=bool)
            mask[items] = True
            p = probabilities(pool.subset(mask), thetas[skill])  # (m, n, kmax + 1)
            u = rng.random(p.shape[:2])
            raw = (u[:, :, None] > np.cumsum(p, axis=2)).sum(axis=2)
            scores[f][skill] = np.minimum(raw, pool.n_categories[items][:, None] - 1)
    rows = []
    for e in range(n):
        f = e % forms
        responses = [
            Response(pool.ids[i], int(scores[f][skill][j, e]))
            for skill, items in form[f].items()
            for j, i in enumerate(items)
        ]
        state = TestState(
            tuple(responses), non_reader=non_reader, cut_scores=cuts,
            decision=policy.decision_model(),
        )  # fmt: skip
        joint = decision_posterior(state, pool, rules, n_draws=16384)
        estimates = {s: Estimate(joint.theta[s], joint.se[s]) for s in joint.skills}
        decision = assess(
            estimates, cuts, policy, non_reader, joint=joint, triage_rule=rules.triage
        ).decision
        truth = assess(
            {
                s: Estimate(float(thetas[s][e]), 0.0)
                for s in rules.skills
                if not non_reader or s in rules.non_reader_skills
            },
            cuts,
            policy,
            non_reader,
        ).decision
        triage = decision.triage or {}
        rows.append((decision, truth, triage))
    right = [d.kind == t.kind for d, t, _ in rows]
    hours = [d.hours == t.hours for d, t, _ in rows]
    auto = [not tr["referred"] for _, _, tr in rows]
    ece = calibration(
        [tr["p_dispense"] for _, _, tr in rows], [t.kind == "dispense" for _, t, _ in rows]
    )
    return {
        "dispense": float(np.mean(right)),
        "hours": float(np.mean(hours)),
        "dispense_auto": float(np.mean([r for r, a in zip(right, auto, strict=True) if a]))
        if any(auto)
        else None,
        "hours_auto": float(np.mean([h for h, a in zip(hours, auto, strict=True) if a]))
        if any(auto)
        else None,
        "referred": 1.0 - float(np.mean(auto)),
        "ece": ece["ece"],
        "ece_floor": ece["ece_floor"],
        "items": float(sum(len(v) for v in form[0].values())),
        "items_p95": float(sum(len(v) for v in form[0].values())),
        "max_exposure": 1.0 / forms,
    }


def fmt(value: Any, pct: bool = True) -> str:
    if value is None:
        return "—"
    return f"{100 * value:5.1f} %" if pct else f"{value:5.2f}"


def print_table(title: str, rows: dict[str, dict[str, Any]]) -> None:
    print(f"\n{title}")
    head = (
        f"{'':34s} {'dispense':>8s} {'hours':>8s} {'disp.auto':>9s} {'hrs.auto':>9s} "
        f"{'referred':>9s} {'ECE':>6s} {'floor':>6s} {'items':>6s} {'p95':>4s} {'max exp':>7s}"
    )
    print(head)
    for name, r in rows.items():
        print(
            f"{name:34s} {fmt(r['dispense']):>8s} {fmt(r['hours']):>8s} "
            f"{fmt(r['dispense_auto']):>9s} {fmt(r['hours_auto']):>9s} {fmt(r['referred']):>9s} "
            f"{r['ece']:6.3f} {r['ece_floor']:6.3f} {r['items']:6.1f} {r['items_p95']:4.0f} "
            f"{r['max_exposure']:7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examinees", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sh-examinees", type=int, default=300)
    parser.add_argument("--sh-iterations", type=int, default=10)
    parser.add_argument("--banks", default=",".join(SHAPES))
    parser.add_argument("--non-readers", action="store_true")
    parser.add_argument(
        "--rows", default="cir,ci,cuts,plain",
        help="engines to run: cir (the CIR rules), ci (the CI rule, no carry-over: cir-2), "
        "cuts (selection at the cuts), plain (no decision targeting)",
    )  # fmt: skip
    parser.add_argument("--work", type=Path, default=Path("/tmp/decision-banks"))
    args = parser.parse_args()
    base = default_rules()
    print(
        f"{args.examinees} candidates per bank, seed {args.seed}; Sympson-Hetter fitted on "
        f"{args.sh_examinees} x {args.sh_iterations} rounds for {base.exposure.target}; "
        f"referral band {base.triage.refer_between}"
    )
    paths = [False, True] if args.non_readers else [False]
    for shape in args.banks.split(","):
        pool = pool_from_csv(write_bank(shape, args.work / f"{shape}.csv"))
        for non_reader in paths:
            rows: dict[str, dict[str, Any]] = {}
            share = 1.0 if non_reader else 0.0
            engines = {
                "cir": ("engine + CIR rules", base),
                "ci": ("engine, CI rule (cir-2)", ci_rule(base)),
                "cuts": ("engine, selection at the cuts", at_the_cuts(base)),
                "plain": ("engine, no decision targeting", untargeted(base)),
            }
            for key in args.rows.split(","):
                name, rules = engines[key]
                t0 = time.perf_counter()
                exposure = fit_exposure(
                    pool, rules, n_examinees=args.sh_examinees, iterations=args.sh_iterations,
                    seed=args.seed + 17, paths=("non_readers" if non_reader else "readers",),
                )  # fmt: skip
                fitted = with_exposure(rules, exposure)
                result = simulate(
                    pool, fitted, args.examinees, args.seed, progress=False,
                    non_reader_share=share,
                )  # fmt: skip
                rows[name] = engine_row(result)
                rows[name]["seconds"] = time.perf_counter() - t0
            maxima = {s.skill: s.max_items for s in base.path_sections(non_reader)}
            forms = math.ceil(1.0 / base.exposure.target - 1e-9)
            for name, counts, n_forms in (
                ("reference fixed form (30 at A1)", FIXED_FORM, 1),
                (f"reference, sections' maxima ({sum(maxima.values())})", maxima, 1),
                (f"reference, maxima, {forms} forms", maxima, forms),
            ):
                rows[name] = reference_row(
                    pool, base, args.examinees, args.seed, non_reader, counts=counts, forms=n_forms
                )
            who = "non-readers" if non_reader else "readers"
            print_table(f"bank {shape} ({len(pool)} items), {who}:", rows)


if __name__ == "__main__":
    main()
