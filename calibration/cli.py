"""The ``calibration`` command: export, fit, link, check, simulate, report, publish, run.

Every step works in a work directory (``--work``, default ``calibration-work``) and reads what
the previous steps wrote there (see :mod:`calibration.steps`). Errors print one line
(``calibration : erreur : …``, in French like everything the command prints) and exit with
status 2, never a traceback; ``check`` and ``run`` exit with 1 when checks fail.
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from calibration.checks import Thresholds
from calibration.errors import CalibrationError, InputError
from calibration.steps import Workdir
from calibration.wording import french


def _add_work(p: argparse.ArgumentParser) -> None:
    p.add_argument("--work", type=Path, default=Path("calibration-work"), help="dossier de travail")
    p.add_argument("--quiet", action="store_true", help="sans barres de progression")


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--responses",
        type=Path,
        help="fichier de réponses : person_id, item_id, score[, release, group]",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--parameters", type=Path, help="CSV des paramètres actuels")
    src.add_argument("--release", help="version actuelle de la banque (numéro, ou 'latest')")
    p.add_argument(
        "--releases-root", type=Path, help="dossier des versions (celui d'itembank par défaut)"
    )


def _add_fit(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", choices=["1PL", "2PL", "3PL"], help="modèle de tous les items juste/faux"
    )
    p.add_argument(
        "--min-responses", type=int, default=50, help="en dessous : anciennes valeurs gardées"
    )
    p.add_argument("--se", choices=["crossprod", "bootstrap", "none"], default="crossprod")
    p.add_argument(
        "--bootstrap", type=int, default=20, help="réestimations du bootstrap (--se bootstrap)"
    )
    p.add_argument(
        "--fit-guessing", action="store_true", help="estimer les asymptotes basses des 3PL"
    )
    p.add_argument("--no-priors", action="store_true", help="MML simple, sans a priori faibles")
    p.add_argument(
        "--single-scale",
        action="store_true",
        help="une seule échelle θ pour toutes les compétences",
    )
    p.add_argument(
        "--no-conditioning",
        action="store_true",
        help="a priori N(0, 1) pour tous, pas celui du moteur sachant les sections d'avant",
    )
    p.add_argument("--seed", type=int, default=None, help="graine du bootstrap")


def _add_link(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", choices=["stocking-lord", "mean-sigma"], default="stocking-lord")
    p.add_argument(
        "--anchors",
        help="ancres séparées par des virgules, ou @fichier (un identifiant par ligne) ; une "
        "compétence dont aucune n'est nommée garde ses ancres par défaut",
    )
    p.add_argument("--no-purify", action="store_true", help="garder les ancres en dérive")


def _add_check(p: argparse.ArgumentParser) -> None:
    d = Thresholds()
    p.add_argument("--drift-b", type=float, default=d.drift_b, help="signaler |Δb| au-dessus")
    p.add_argument("--max-exposure", type=float, default=d.max_exposure)
    p.add_argument("--fit-range", type=float, nargs=2, default=d.fit_range, metavar=("LOW", "HIGH"))


def _add_simulate(p: argparse.ArgumentParser) -> None:
    p.add_argument("--candidates", type=int, default=500, help="candidats simulés")
    p.add_argument("--length", type=int, default=10, help="items par compétence et par test")
    p.add_argument("--sim-seed", type=int, default=0)
    p.add_argument(
        "--no-engine",
        action="store_true",
        help="CAT propre par compétence au lieu de celui du moteur",
    )


def _add_publish(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", help="numéro de la nouvelle version (par défaut : la suivante)")
    p.add_argument(
        "--override-reason", help="publier malgré des contrôles en échec ; le motif est gardé"
    )
    p.add_argument("--notes", default="", help="notes de version")
    p.add_argument(
        "--republish",
        action="store_true",
        help="publier même si une version porte déjà ces paramètres calibrés",
    )


def _with(p: argparse.ArgumentParser, *adders: Callable[[argparse.ArgumentParser], None]) -> None:
    for add in adders:
        add(p)


def parser() -> argparse.ArgumentParser:
    """The argument parser (also used by the docs)."""
    top = argparse.ArgumentParser(
        prog="calibration",
        description="Recalibration de la banque : export, estimation, liaison, contrôles, "
        "simulation, rapport, publication.",
    )
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("export", help="les réponses de la base, en fichier de réponses")
    p.add_argument(
        "--database", required=True, help="SQLAlchemy URL (sqlite:///..., postgresql://...)"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--release-version", help="seulement les réponses données sous cette version")
    p.add_argument(
        "--group", choices=["help_language", "non_reader"], help="colonne group pour le DIF"
    )
    p.add_argument(
        "--pseudonymise",
        action="store_true",
        help="hacher les identifiants de session (clé aléatoire)",
    )

    p = sub.add_parser("fit", help="estimer les paramètres des items (MML sur données éparses)")
    _with(p, _add_work, _add_inputs, _add_fit)
    p = sub.add_parser("link", help="lier les nouvelles estimations à l'échelle actuelle")
    _with(p, _add_work, _add_link)
    p = sub.add_parser("check", help="ajustement, dérive, exposition, DIF")
    _with(p, _add_work, _add_check)
    p = sub.add_parser("simulate", help="le CAT sur les paramètres actuels et nouveaux")
    _with(p, _add_work, _add_simulate)
    p = sub.add_parser("report", help="le rapport HTML autonome")
    _with(p, _add_work)
    p = sub.add_parser("publish", help="publier une nouvelle version (itembank)")
    _with(p, _add_work, _add_publish)
    p.add_argument(
        "--release",
        help="version dont relèvent les nouveaux paramètres (par défaut : celle calibrée)",
    )
    p.add_argument("--releases-root", type=Path)
    p = sub.add_parser("run", help="estimer, lier, contrôler, simuler, rapport (et --publish)")
    _with(p, _add_work, _add_inputs, _add_fit, _add_link, _add_check, _add_simulate)
    _with(p, _add_publish)
    p.add_argument("--publish", action="store_true", help="publier à la fin")
    return top


def _anchors(spec: str | None) -> list[str] | None:
    if not spec:
        return None
    if spec.startswith("@"):
        path = Path(spec[1:])
        if not path.is_file():
            raise CalibrationError(f"{path} : fichier d'ancres introuvable")
        # utf-8-sig: a list saved by a spreadsheet or Notepad starts with a byte-order mark
        text = path.read_text(encoding="utf-8-sig")
        return [line.strip() for line in text.splitlines() if line.strip()]
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
    for note in _context_notes(work):
        print(f"  note : {note}")
    converged = "convergé" if result.converged else "NON convergé"
    print(
        f"estimation : {int(result.fitted.sum())} items réestimés sur "
        f"{result.theta_eap.shape[0]} personnes en {result.time_s:.1f} s ({converged}) ; "
        f"{len(result.kept)} gardés à leurs anciennes valeurs -> {work.fitted}"
    )
    by_reason: dict[str, list[str]] = {}
    for kept in result.kept:
        by_reason.setdefault(french(kept.reason), []).append(kept.item_id)
    for reason, ids in by_reason.items():
        shown = ", ".join(ids[:8]) + (f" (+{len(ids) - 8})" if len(ids) > 8 else "")
        print(f"  gardés, {reason} : {len(ids)} item(s) : {shown}")
    for message in result.messages:
        print(f"  note : {french(message)}")


def _do_link(args: argparse.Namespace, work: Workdir) -> None:
    from calibration.steps import step_link

    links = step_link(
        work,
        method=args.method,
        anchors=_anchors(args.anchors),
        purify=None if args.no_purify else 0.5,
    )
    for skill, lk in links.items():
        dropped = f", écartées : {', '.join(lk.dropped)}" if lk.dropped else ""
        if lk.provisional:
            dropped += " ; première calibration : liée aux paramètres provisoires"
        print(
            f"liaison {skill} : θ_ancien = {lk.A:.4f} θ_nouveau {lk.B:+.4f} ({lk.method}, "
            f"{len(lk.anchors)} ancres{dropped})"
        )
    print(f"paramètres liés -> {work.parameters}")


def _do_check(args: argparse.Namespace, work: Workdir) -> bool:
    from calibration.steps import step_check

    report = step_check(work, thresholds=_thresholds(args))
    for failure in report.failures:
        print(f"contrôle en ÉCHEC : {failure}")
    for warning in report.warnings:
        print(f"contrôle, avertissement : {warning}")
    print(f"contrôles {'réussis' if report.passed else 'en échec'} -> {work.checks}")
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
            f"simulation (moteur, {data['n_candidates']} candidats) : RMSE "
            f"{_fmt(cur['rmse']['overall'])} -> {_fmt(new['rmse']['overall'])}, items "
            f"{cur['mean_items']:.1f} -> {new['mean_items']:.1f}, justesse de la dispense "
            f"{_fmt(acc_cur)} -> {_fmt(acc_new)}, accord {_fmt(data['decision_agreement'])}"
            f", exposition max. {cur['max_exposure']:.2f} -> {new['max_exposure']:.2f}"
        )
        paths = data.get("non_reader") or {}
        if "skipped" in paths:
            print(f"simulation (moteur, non-lecteurs) : non faite : {paths['skipped']}")
        elif paths:
            cur, new = paths["current"], paths["new"]
            print(
                f"simulation (moteur, non-lecteurs) : RMSE {cur['rmse']['overall']:.3f} -> "
                f"{new['rmse']['overall']:.3f}, items {cur['mean_items']:.1f} -> "
                f"{new['mean_items']:.1f}, exposition max. {cur['max_exposure']:.2f} -> "
                f"{new['max_exposure']:.2f}"
            )
        return
    print(f"simulation : CAT propre par compétence ({data['fallback_reason']})")
    for s in data["skills"]:
        cur, new = s["current"], s["new"]
        print(
            f"simulation {s['skill']} : RMSE {cur['rmse']:.3f} -> {new['rmse']:.3f}, justesse "
            f"de la décision {cur['decision_accuracy']:.3f} -> {new['decision_accuracy']:.3f}, "
            f"accord {s['decision_agreement']:.3f}, exposition max. {cur['max_exposure']:.2f} "
            f"-> {new['max_exposure']:.2f}"
        )


def _fmt(x: float | None) -> str:
    return "n.d." if x is None else f"{x:.3f}"


def _do_report(work: Workdir) -> None:
    from calibration.steps import step_report

    step_report(work)
    print(f"rapport -> {work.report}")


def _do_publish(args: argparse.Namespace, work: Workdir) -> None:
    from calibration.publish import publish

    release = publish(
        work,
        release=getattr(args, "release", None) if args.command == "publish" else None,
        releases_root=args.releases_root,
        version=args.version,
        override_reason=args.override_reason,
        notes=args.notes,
        republish=args.republish,
    )
    print(f"version {release.version} publiée -> {release.root}")


def _export(args: argparse.Namespace) -> None:
    from calibration.export import export_responses

    n = export_responses(
        args.database,
        args.out,
        release_version=args.release_version,
        group=args.group,
        pseudonymise=args.pseudonymise,
    )
    print(f"{n} réponses exportées -> {args.out}")


def _check_numbers(args: argparse.Namespace) -> None:
    """Refuse numbers no step can use, before any step runs (not a traceback halfway)."""
    at_least = (("bootstrap", 1), ("min_responses", 0), ("candidates", 1), ("length", 1))
    for name, low in at_least:
        value = getattr(args, name, None)
        if value is not None and value < low:
            option = "--" + name.replace("_", "-")
            raise InputError(f"{option} doit valoir au moins {low} (reçu {value})")
    fit_range = getattr(args, "fit_range", None)
    if fit_range is not None and not 0 < fit_range[0] < fit_range[1]:
        low, high = fit_range
        raise InputError(f"--fit-range : LOW < HIGH, tous deux > 0 (reçu {low} {high})")
    exposure = getattr(args, "max_exposure", None)
    if exposure is not None and not 0 < exposure <= 1:
        raise InputError(f"--max-exposure doit être dans ]0, 1] (reçu {exposure})")
    drift = getattr(args, "drift_b", None)
    if drift is not None and not drift > 0:
        raise InputError(f"--drift-b doit être > 0 (reçu {drift})")


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run one command; returns the exit status (errors propagate)."""
    args = parser().parse_args(argv)
    _check_numbers(args)
    if args.command == "export":
        _export(args)
        return 0
    if args.command not in ("fit", "run") and not args.work.is_dir():
        # only fit starts a work folder: a later step on a mistyped one would make it empty
        raise InputError(
            f"{args.work} : dossier de travail introuvable : lancez d'abord `calibration fit` "
            f"(ou `calibration run`) avec --work {args.work}"
        )
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


def _context_notes(work: Workdir) -> list[str]:
    from calibration.steps import read_json

    if not work.context.is_file():
        return []
    return [str(n) for n in read_json(work.context, "fit").get("notes", [])]


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: one line on stderr and status 2 for any error of the input.

    Calibration errors carry their own message; a file the system cannot open or write (a
    missing folder, no permission, a full disk) is named with the system's reason.
    """
    try:
        return run(argv)
    except CalibrationError as exc:
        message = french(str(exc))
    except OSError as exc:
        where = f"{exc.filename} : " if exc.filename else ""
        message = f"{where}{system_reason(exc)}"
    # one line, whatever a library put in its message
    print(f"calibration : erreur : {' '.join(message.split())}", file=sys.stderr)
    return 2


#: What the system says, in French, for the usual reasons a file cannot be used.
_ERRNO = {
    errno.ENOENT: "fichier ou dossier introuvable",
    errno.EACCES: "accès refusé (droits du fichier)",
    errno.EPERM: "opération non permise",
    errno.ENOTDIR: "un élément du chemin n'est pas un dossier",
    errno.EISDIR: "c'est un dossier, pas un fichier",
    errno.EEXIST: "existe déjà et n'est pas un dossier",
    errno.ENOSPC: "plus de place sur le disque",
    errno.EROFS: "système de fichiers en lecture seule",
}


def system_reason(exc: OSError) -> str:
    """The reason of an ``OSError`` in French when it is a usual one, else the system's text."""
    return _ERRNO.get(exc.errno or -1, exc.strerror or str(exc))


if __name__ == "__main__":
    sys.exit(main())
