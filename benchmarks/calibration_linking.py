"""Linking and drift detection on the same simulated data: ours against the PyPI mirt package.

The current release's scale is the bank's; the new population is N(B, A²) on it with
A = 1.25, B = 0.5 (so a correct link finds these constants), and a few items have drifted
(their true b moved by +1.0). The CAT runs on the current parameters, the answers follow the
true (drifted) ones. Then, on the same responses:

* ours: ``calibration.fit`` → ``link_skills`` (Stocking–Lord and mean–sigma, with anchor
  purification) → ``run_checks`` drift flags (|Δb| > 0.5 and the responses contradict the old
  value: a prior-free score test), beside the rule it replaced (|Δb| > 0.5 and |Δb| / posterior
  SD > 1.96, the SD counting the fit's item priors);
* mirt: ``mirt.fit_mirt`` (EM) on the same items → ``mirt.equating.link`` (Stocking–Lord,
  mean–sigma) against the current parameters → ``mirt.equating.detect_drift`` (robust z and
  Wald) on every anchor.

The script prints the constants, the drifted items each method flags, and where the verdicts
differ. Usage::

    .venv/bin/python benchmarks/calibration_linking.py [--persons 10000] [--items 80]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from calibration.checks import Thresholds, run_checks
from calibration.data import Responses
from calibration.fit import fit
from calibration.linking import apply_links, link_skills, transform_se
from calibration.synthetic import random_bank, simulate_cat

TRUE_A, TRUE_B = 1.25, 0.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=80)
    parser.add_argument("--drifted", type=int, default=4)
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--min-responses", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    import mirt
    from mirt.equating import detect_drift, link
    from mirt.models.dichotomous import TwoParameterLogistic

    rng = np.random.default_rng(args.seed)
    current = random_bank(args.items, rng)
    # drift items that the CAT uses (mid-range difficulty), so that they have data
    middle = np.argsort(np.abs(current.b))[: args.items // 2]
    drifted = np.sort(rng.choice(middle, args.drifted, replace=False))
    truth = current.with_values(
        b=np.where(np.isin(np.arange(args.items), drifted), current.b + 1.0, current.b)
    )
    thetas = rng.normal(TRUE_B, TRUE_A, args.persons)
    data = simulate_cat(
        current, thetas, rng, test_length=args.length, randomesque=10, generating=truth
    )
    counts = data.counts(args.items)
    used = np.flatnonzero(counts >= args.min_responses)
    keep = np.isin(data.item, used)
    data = Responses(data.person_ids, data.person[keep], data.item[keep], data.score[keep])
    print(
        f"{args.persons} candidates, {args.items} 2PL items, CAT of {args.length}; population "
        f"N({TRUE_B}, {TRUE_A}²) on the current scale; drifted (b + 1.0): "
        f"{', '.join(current.ids[i] for i in drifted)}; {used.size} items with >= "
        f"{args.min_responses} responses"
    )

    t = time.perf_counter()
    ours = fit(current, data, min_responses=args.min_responses, progress=False)
    verdicts: dict[str, set[str]] = {}
    for method in ("stocking-lord", "mean-sigma"):
        links = link_skills(ours.params, current, fitted=ours.fitted, method=method)
        lk = links["CE"]
        print(
            f"ours  {method:<14} A = {lk.A:.3f}  B = {lk.B:+.3f}   "
            f"(anchors {len(lk.anchors)}, dropped by purification: {', '.join(lk.dropped) or '-'})"
        )
        if method == "stocking-lord":
            linked = apply_links(ours.params, links, ours.fitted)
            checks = run_checks(
                linked, current, data, fitted=ours.fitted, thresholds=Thresholds(max_exposure=1.0)
            )
            flagged = {r.item_id for r in checks.flagged("drift")}
            verdicts["ours (|Δb| > 0.5, score test FDR)"] = flagged
            # the rule before: the same |Δb|, significant against the posterior SD (prior in)
            se_a, se_b, _ = transform_se(lk.A, ours.se_a, ours.se_b)
            before = set()
            for r in checks.items:
                i = current.index(r.item_id)
                if np.isnan(r.delta_b):
                    continue
                z_b = abs(r.delta_b) / se_b[i] if se_b[i] > 0 else np.inf
                z_a = abs(r.delta_log_a) / (se_a[i] / r.a_new) if se_a[i] > 0 else np.inf
                th = checks.thresholds
                if (abs(r.delta_b) > th.drift_b and z_b > 1.96) or (
                    abs(r.delta_log_a) > th.drift_log_a and z_a > 1.96
                ):
                    before.add(r.item_id)
            verdicts["ours before (|Δb|/posterior SD)"] = before
    print(f"ours: fit + link + checks {time.perf_counter() - t:.1f} s")

    X = np.full((data.n_persons, used.size), np.nan)
    col = {int(i): k for k, i in enumerate(used)}
    X[data.person, [col[int(i)] for i in data.item]] = data.score
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mirt.fit_mirt(X, model="2PL", compute_standard_errors=True)
    old_model = TwoParameterLogistic(n_items=used.size)
    old_model.set_parameters(
        discrimination=current.a[used].copy(), difficulty=current.b[used].copy()
    )
    anchors = list(range(used.size))
    for method, purify in (
        ("stocking_lord", False),
        ("mean_sigma", False),
        ("stocking_lord", True),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            lr = link(old_model, res.model, anchors, anchors, method=method, purify_anchors=purify)
        label = method + (" purified" if purify else "")
        print(
            f"mirt  {label:<14} A = {lr.constants.A:.3f}  B = {lr.constants.B:+.3f}   "
            f"(anchors {len(lr.anchor_items)})"
        )
    se_new = {k: np.asarray(v) for k, v in (res.standard_errors or {}).items()}
    for method in ("robust_z", "wald"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dr = detect_drift(
                    old_model, res.model, anchors, anchors, method=method,
                    se_new=se_new if method == "wald" else None,
                    # the current release carries no standard errors: nearly exact (mirt needs > 0)
                    se_old={k: np.full_like(v, 1e-6) for k, v in se_new.items()}
                    if method == "wald"
                    else None,
                )  # fmt: skip
            verdicts[f"mirt detect_drift {method}"] = {
                current.ids[used[k]] for k in dr.flagged_items
            }
        except Exception as exc:  # a method mirt cannot run is one of the findings
            print(f"mirt detect_drift {method}: failed ({type(exc).__name__}: {exc})")
    print(f"mirt: fit + link + drift {time.perf_counter() - t:.1f} s")

    true_set = {current.ids[i] for i in drifted}
    print(
        "\ndrift verdicts (truth: "
        + ", ".join(f"{current.ids[i]} {counts[i]} responses" for i in drifted)
        + ")"
    )
    for name, flagged in verdicts.items():
        hits = len(flagged & true_set)
        print(
            f"  {name:<34} flagged {len(flagged):3d}: found {hits}/{len(true_set)} drifted, "
            f"{len(flagged - true_set)} false alarms  {', '.join(sorted(flagged))}"
        )
    names = list(verdicts)
    base = verdicts[names[0]]
    for other in names[1:]:
        only_ours = sorted(base - verdicts[other])
        only_mirt = sorted(verdicts[other] - base)
        if only_ours or only_mirt:
            print(
                f"  differs from {other}: only ours now {', '.join(only_ours) or '-'}; "
                f"only there {', '.join(only_mirt) or '-'}"
            )
        else:
            print(f"  same verdict as {other}")


if __name__ == "__main__":
    main()
