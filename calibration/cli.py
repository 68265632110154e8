"""The ``calibration`` command: export, fit, link, check, simulate, report, publish, run.

Every step works in a work directory (``--work``, default ``calibration-work``) and reads what
the previous steps wrote there (see :mod:`calibration.steps`). Errors print one line and exit
with status 2; ``check`` and ``run`` exit with 1 when checks fail.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from calibration.checks import Thresholds
from calibration.errors import CalibrationError
from calibration.steps import Workdir


def _add_work(p: argparse.ArgumentParser) -> None:
    p.add_argument("--work", type=Path, default=Path("calibration-work"), help="work directory")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--responses", type=Path, help="long CSV: person_id, item_id, score[, release, group]"
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--parameters", type=Path, help="current parameter CSV")
    src.add_argument("--release", help="current bank release (version, or 'latest')")
    p.add_argument(
        "--releases-root", type=Path, help="folder of the releases (itembank's by default)"
    )


def _add_fit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=["1PL", "2PL", "3PL"], help="model of every right/wrong item")
    p.add_argument("--min-responses", type=int, default=50, help="fewer: kept at old values")
    p.add_argument("--se", choices=["crossprod", "bootstrap", "none"], default="crossprod")
    p.add_argument("--bootstrap", type=int, default=20, help="bootstrap refits (--se bootstrap)")
    p.add_argument("--fit-guessing", action="store_true", help="estimate 3PL lower asymptotes")
    p.add_argument("--no-priors", action="store_true", help="plain MML, no weak priors")
    p.add_argument("--single-scale", action="store_true", help="one θ scale for every skill")
    p.add_argument(
        "--no-conditioning",
        action="store_true",
        help="N(0, 1) prior for everyone, not the engine's prior given the earlier sections",
    )
    p.add_argument("--seed", type=int, default=None, help="seed of the bootstrap")


def _add_link(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", choices=["stocking-lord", "mean-sigma"], default="stocking-lord")
    p.add_argument("--anchors", help="comma-separated anchor ids, or @file with one id a line")
    p.add_argument("--no-purify", action="store_true", help="keep drifted anchors")


def _add_check(p: argparse.ArgumentParser) -> None:
    d = Thresholds()
    p.add_argument("--drift-b", type=float, default=d.drift_b, help="flag |Δb| above this")
    p.add_argument("--max-exposure", type=float, default=d.max_exposure)
    p.add_argument("--fit-range", type=float, nargs=2, default=d.fit_range, metavar=("LOW", "HIGH"))


def _add_simulate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--candidates", type=int, default=500, help="simulated candidates")
    p.add_argument("--length", type=int, default=10, help="items per skill and test")
    p.add_argument("--sim-seed", type=int, default=0)
    p.add_argument(
        "--no-engine", action="store_true", help="own per-skill CAT instead of the engine's"
    )


def _add_publish(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", help="version of the new release (default: the next one)")
    p.add_argument("--override-reason", help="publish although checks failed; the reason is kept")
    p.add_argument("--notes", default="", help="release notes")


def _with(p: argparse.ArgumentParser, *adders: Callable[[argparse.ArgumentParser], None]) -> None:
    for add in adders:
        add(p)


def parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs)."""
    top = argparse.ArgumentParser(prog="calibration", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("export", help="responses from the database as a long CSV")
    p.add_argument(
        "--database", required=True, help="SQLAlchemy URL (sqlite:///..., postgresql://...)"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--release-version", help="only responses given under this bank release")
    p.add_argument("--group", choices=["help_language", "non_reader"], help="DIF group column")
    p.add_argument("--pseudonymise", action="store_true", help="hash session ids (random key)")

    p = sub.add_parser("fit", help="estimate item parameters (MML on sparse data)")
    _with(p, _add_work, _add_inputs, _add_fit)
    p = sub.add_parser("link", help="link the new estimates to the current scale")
    _with(p, _add_work, _add_link)
    p = sub.add_parser("check", help="item fit, drift, exposure, DIF")
    _with(p, _add_work, _add_check)
    p = sub.add_parser("simulate", help="CAT on the current and the new parameters")
    _with(p, _add_work, _add_simulate)
    p = sub.add_parser("report", help="the self-contained HTML report")
    _with(p, _add_work)
    p = sub.add_parser("publish", help="publish a new release through itembank")
    _with(p, _add_work, _add_publish)
    p.add_argument(
        "--release", help="release the new parameters belong to (default: the fitted one)"
    )
    p.add_argument("--releases-root", type=Path)
    p = sub.add_parser("run", help="fit, link, check, simulate, report (and --publish)")
    _with(p, _add_work, _add_inputs, _add_fit, _add_link, _add_check, _add_simulate)
    _with(p, _add_publish)
    p.add_argument("--publish", action="store_true", help="publish at the end")
    return top


def _anchors(spec: str | None) -> list[str] | None:
    if not spec:
        return None
    if spec.startswith("@"):
        path = Path(spec[1:])
        if not path.is_file():
            raise CalibrationError(f"anchor file {path} does not exist")
        return [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return [s.strip() for s in spec.split(",") if s.strip()]


def _thresholds(args: argparse.Namespace) -> Thresholds:
    return Thresholds(
        drift_b=args.drift_b, max_exposure=args.max_exposure, fit_range=tuple(args.fit_range)
    )


def _do_fit(args: argparse.Namespace, work: Workdir) -> None:
    from calibration.steps import prepare, step_fit

    prepare(
        work,
        responses=args.responses,
        parameters=args.parameters,
        release=args.release,
        releases_root=args.releases_root,
    )
    result = step_fit(
        work,
        model=args.model,
        min_responses=args.min_responses,
        se=args.se,
        n_bootstrap=args.bootstrap,
        fit_guessing=args.fit_guessing,
        priors=not args.no_priors,
        by_skill=not args.single_scale,
        conditioning=not args.no_conditioning,
        seed=args.seed,
        progress=not args.quiet,
    )
    print(
        f"fit: {int(result.fitted.sum())} items re-estimated on {result.theta_eap.shape[0]} "
        f"persons in {result.time_s:.1f} s ({'converged' if result.converged else 'NOT converged'})"
        f"; {len(result.kept)} kept at their old values -> {work.fitted}"
    )
    for kept in result.kept:
        print(f"  kept {kept.item_id}: {kept.reason} ({kept.n_responses} responses)")
    for message in result.messages:
        print(f"  note: {message}")


def _do_link(args: argparse.Namespace, work: Workdir) -> None:
    from calibration.steps import step_link

    links = step_link(
        work,
        method=args.method,
        anchors=_anchors(args.anchors),
        purify=None if args.no_purify else 0.5,
    )
    for skill, lk in links.items():
        dropped = f", dropped {', '.join(lk.dropped)}" if lk.dropped else ""
        if lk.provisional:
            dropped += "; first calibration: linked to the provisional parameters"
        print(
            f"link {skill}: θ_old = {lk.A:.4f} θ_new + {lk.B:+.4f} ({lk.method}, "
            f"{len(lk.anchors)} anchors{dropped})"
        )
    print(f"linked parameters -> {work.parameters}")


def _do_check(args: argparse.Namespace, work: Workdir) -> bool:
    from calibration.steps import step_check

    report = step_check(work, thresholds=_thresholds(args))
    for failure in report.failures:
        print(f"check FAILED: {failure}")
    for warning in report.warnings:
        print(f"check warning: {warning}")
    print(f"checks {'passed' if report.passed else 'failed'} -> {work.checks}")
    return report.passed


def _do_simulate(args: argparse.Namespace, work: Workdir) -> None:
    from calibration.steps import step_simulate

    data = step_simulate(
        work,
        n_candidates=args.candidates,
        test_length=args.length,
        seed=args.sim_seed,
        engine=not args.no_engine,
        progress=not args.quiet,
    )
    if data["engine"] == "placement.simulation":
        cur, new = data["current"], data["new"]
        acc_cur = cur["classification_accuracy"].get("dispense")
        acc_new = new["classification_accuracy"].get("dispense")
        print(
            f"simulate (engine, {data['n_candidates']} candidates): RMSE "
            f"{cur['rmse']['overall']:.3f} -> {new['rmse']['overall']:.3f}, items "
            f"{cur['mean_items']:.1f} -> {new['mean_items']:.1f}, dispense accuracy "
            f"{_fmt(acc_cur)} -> {_fmt(acc_new)}, agreement {_fmt(data['decision_agreement'])}"
            f", max exposure {cur['max_exposure']:.2f} -> {new['max_exposure']:.2f}"
        )
        paths = data.get("non_reader") or {}
        if "skipped" in paths:
            print(f"simulate (engine, non-readers): skipped, {paths['skipped']}")
        elif paths:
            cur, new = paths["current"], paths["new"]
            print(
                f"simulate (engine, non-readers): RMSE {cur['rmse']['overall']:.3f} -> "
                f"{new['rmse']['overall']:.3f}, items {cur['mean_items']:.1f} -> "
                f"{new['mean_items']:.1f}, max exposure {cur['max_exposure']:.2f} -> "
                f"{new['max_exposure']:.2f}"
            )
        return
    print(f"simulate: own CAT per skill ({data['fallback_reason']})")
    for s in data["skills"]:
        cur, new = s["current"], s["new"]
        print(
            f"simulate {s['skill']}: RMSE {cur['rmse']:.3f} -> {new['rmse']:.3f}, decision "
            f"accuracy {cur['decision_accuracy']:.3f} -> {new['decision_accuracy']:.3f}, "
            f"agreement {s['decision_agreement']:.3f}, max exposure {cur['max_exposure']:.2f} "
            f"-> {new['max_exposure']:.2f}"
        )


def _fmt(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _do_report(work: Workdir) -> None:
    from calibration.steps import step_report

    step_report(work)
    print(f"report -> {work.report}")


def _do_publish(args: argparse.Namespace, work: Workdir) -> None:
    from calibration.publish import publish

    release = publish(
        work,
        release=getattr(args, "release", None) if args.command == "publish" else None,
        releases_root=args.releases_root,
        version=args.version,
        override_reason=args.override_reason,
        notes=args.notes,
    )
    print(f"published release {release.version} -> {release.root}")


def _export(args: argparse.Namespace) -> None:
    from calibration.export import export_responses

    n = export_responses(
        args.database,
        args.out,
        release_version=args.release_version,
        group=args.group,
        pseudonymise=args.pseudonymise,
    )
    print(f"exported {n} responses -> {args.out}")


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run one command; returns the exit status (errors propagate)."""
    args = parser().parse_args(argv)
    if args.command == "export":
        _export(args)
        return 0
    work = Workdir(args.work)
    status = 0
    if args.command == "fit":
        _do_fit(args, work)
    elif args.command == "link":
        _do_link(args, work)
    elif args.command == "check":
        status = 0 if _do_check(args, work) else 1
    elif args.command == "simulate":
        _do_simulate(args, work)
    elif args.command == "report":
        _do_report(work)
    elif args.command == "publish":
        _do_publish(args, work)
    elif args.command == "run":
        _do_fit(args, work)
        _do_link(args, work)
        passed = _do_check(args, work)
        _do_simulate(args, work)
        _do_report(work)
        if args.publish:
            _do_publish(args, work)
        elif not passed:
            status = 1
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: one line on stderr and status 2 for any calibration error."""
    try:
        return run(argv)
    except CalibrationError as exc:
        print(f"calibration: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
