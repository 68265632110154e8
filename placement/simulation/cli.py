"""``placement simulate``: run the adaptive test on simulated candidates and write a report.

Writes ``DIR/summary.json``, ``DIR/examinees.csv``, ``DIR/exposure.csv``,
``DIR/responses.csv`` (the one responses format, :mod:`placement.responses`, that
``calibration`` reads) and four PNG plots, and prints the main figures. Any bank runs: without
``--rules`` the sections are the skills the bank has (:func:`placement.rules.rules_for_pool`).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from placement import csvsafe
from placement.bank import load_bank
from placement.cat import Exposure, Rules
from placement.errors import PlacementError
from placement.irt import Pool
from placement.responses import write_responses
from placement.rules import blueprint_gaps, load_rules, rules_for_pool

#: Simulated candidates when neither --examinees nor --thetas says how many.
DEFAULT_EXAMINEES = 1000


def register(subparsers: Any) -> None:
    """Add the ``simulate`` sub-command."""
    p = subparsers.add_parser(
        "simulate",
        help="faire passer le test adaptatif à des candidats simulés",
        description="Fait passer le test adaptatif à des candidats simulés et écrit "
        "summary.json, examinees.csv, exposure.csv, responses.csv et des graphiques PNG.",
    )
    p.add_argument(
        "--bank",
        required=True,
        help="un CSV de paramètres, un dossier de version ou un numéro de version",
    )
    p.add_argument(
        "--examinees",
        type=int,
        help="nombre de candidats simulés (défaut : 1000, ou un par θ de --thetas)",
    )
    p.add_argument(
        "--releases-root",
        type=Path,
        help="dossier des versions, pour 'latest' et un numéro de version (celui d'itembank par "
        "défaut)",
    )
    p.add_argument("--seed", type=int, default=0, help="graine de toute la simulation")
    p.add_argument(
        "--rules",
        help="un fichier de règles YAML (défaut : règles CIR, une section par compétence)",
    )
    p.add_argument(
        "--items",
        type=int,
        help="sans --rules : exactement N items par section (test de longueur fixe)",
    )
    p.add_argument("--out", required=True, type=Path, help="dossier de sortie")
    p.add_argument(
        "--policy", help="politique de prescription (défaut : celle de la version, sinon cir-2016)"
    )
    p.add_argument(
        "--thetas", type=Path, help="CSV des vrais θ, une colonne par compétence (ou 'theta')"
    )
    p.add_argument(
        "--non-reader-share", type=float, default=0.0, help="part de candidats non-lecteurs"
    )
    p.add_argument(
        "--exposure-target", type=float,
        help="calculer d'abord les paramètres de Sympson-Hetter pour cette exposition max.",
    )  # fmt: skip
    p.add_argument("--no-plots", action="store_true", help="sans graphiques PNG")
    p.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    p.set_defaults(func=run)


def _read_thetas(path: Path, skills: list[str]) -> dict[str, np.ndarray]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise PlacementError(f"{path} : lecture impossible ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise PlacementError(f"{path} : le texte n'est pas en UTF-8") from None
    if not rows:
        raise PlacementError(f"{path} : aucune ligne de θ")
    out = {}
    for s in skills:
        column = s if s in rows[0] else "theta" if "theta" in rows[0] else None
        if column is None:
            raise PlacementError(f"{path} : ni colonne {s!r} ni colonne 'theta'")
        values = []
        for line, row in enumerate(rows, start=2):
            text = (row[column] or "").strip()
            try:
                values.append(float(text))
            except ValueError:
                raise PlacementError(
                    f"{path}, ligne {line} : colonne {column!r} : {text!r} n'est pas un nombre"
                ) from None
        out[s] = np.array(values)
    return out


#: Optional columns of the simulated responses file (placement.responses); ``person_id`` is
#: the ``examinee`` number of examinees.csv.
SIMULATED_EXTRA = ("seq", "skill", "pretest")


def _response_rows(result: Any, pool: Pool) -> Iterator[dict[str, Any]]:
    seq: Counter[int] = Counter()
    for examinee, item_id, score in result.responses:
        seq[examinee] += 1
        i = pool.index(item_id)
        yield {
            "person_id": examinee,
            "item_id": item_id,
            "score": score,
            "seq": seq[examinee],
            "skill": pool.skills[i],
            "pretest": bool(pool.pretest[i]),
        }


def _rules(args: argparse.Namespace, pool: Pool) -> tuple[Rules, list[str]]:
    """The rules file's rules, checked against the bank; else rules made from its skills."""
    if not args.rules:
        return rules_for_pool(pool, items=args.items, non_readers=args.non_reader_share > 0)
    if args.items is not None:
        raise PlacementError("--items vaut sans --rules (un fichier de règles fixe ses sections)")
    rules = load_rules(args.rules)
    gaps = blueprint_gaps(pool, rules)
    if gaps:
        have = ", ".join(
            f"{s or '(sans compétence)'} ({n})"
            for s, n in Counter(
                skill
                for skill, pretest in zip(pool.skills, pool.pretest, strict=True)
                if not pretest
            ).items()
        )
        raise PlacementError(
            f"les règles {args.rules} ne conviennent pas à cette banque : "
            + " ; ".join(gaps)
            + f". La banque a : {have}. Le fichier de règles doit retirer ces sections ou baisser "
            "leur min_items ; sans --rules, les sections viennent des compétences de la banque "
            "(--items N pour N items par section)."
        )
    return rules, []


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csvsafe.DictWriter(handle, fieldnames=list(rows[0]))  # a bank's ids stay text
        writer.writeheader()
        writer.writerows(rows)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _write_outputs(
    args: argparse.Namespace, out: Path, result: Any, bank: Any, rules: Rules
) -> int:
    """Write the files; returns how many PNG plots were written."""
    out.mkdir(parents=True, exist_ok=True)
    summary = dict(result.summary, bank=bank.version, rules=rules.version)
    if args.exposure_target is not None:
        summary["sympson_hetter"] = dict(rules.exposure.sympson_hetter)
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8"
    )
    _write_csv(out / "examinees.csv", result.rows)
    _write_csv(
        out / "exposure.csv",
        [{"item_id": k, "exposure": v} for k, v in sorted(result.exposure.items())],
    )
    write_responses(out / "responses.csv", _response_rows(result, bank.pool), SIMULATED_EXTRA)
    if not args.no_plots:
        from placement.simulation.plots import write_plots

        return len(write_plots(result, list(rules.skills), out))
    return 0


def run(args: argparse.Namespace) -> int:
    """Run the simulation; 0 on success, 2 on bad input (message on stderr)."""
    from placement.simulation import simulate, sympson_hetter_parameters

    try:
        if args.examinees is not None and args.examinees < 1:
            raise PlacementError("--examinees doit valoir au moins 1")
        if args.seed < 0:
            raise PlacementError("--seed doit être ≥ 0")
        if not 0 <= args.non_reader_share <= 1:
            raise PlacementError(
                f"--non-reader-share doit être entre 0 et 1 (reçu {args.non_reader_share})"
            )
        if args.exposure_target is not None and not 0 < args.exposure_target <= 1:
            raise PlacementError(
                f"--exposure-target doit être dans ]0, 1] (reçu {args.exposure_target})"
            )
        bank = load_bank(args.bank, args.releases_root)
        rules, notes = _rules(args, bank.pool)
        for note in notes:
            print(f"note : {note}", file=sys.stderr)
        if args.non_reader_share > 0:
            gaps = blueprint_gaps(bank.pool, rules, non_reader=True)
            if gaps:
                raise PlacementError(
                    "--non-reader-share : la banque ne peut pas faire passer le test aux "
                    "non-lecteurs : " + " ; ".join(gaps) + ". Marquez des items non_reader "
                    "(colonne non_reader du CSV) ou simulez sans non-lecteurs."
                )
        policy = args.policy or bank.policy or "cir-2016"
        options: dict[str, Any] = {
            "cut_scores": bank.cut_scores,
            "skill_correlation": bank.skill_correlation,
            "non_reader_share": args.non_reader_share,
            "policy": policy,
        }
        if args.exposure_target is None and bank.exposure:
            # the release's own exposure control, as the tablet uses it
            from placement.exposure import exposure_mismatch, with_exposure

            mismatch = exposure_mismatch(rules, bank.exposure)
            if mismatch:
                print(f"placement simulate : attention : {mismatch}", file=sys.stderr)
            rules = with_exposure(rules, bank.exposure)
        if args.exposure_target is not None:
            parameters = sympson_hetter_parameters(
                bank.pool, rules, target=args.exposure_target,
                n_examinees=min(args.examinees or DEFAULT_EXAMINEES, 500), seed=args.seed,
                progress=not args.no_progress, **options,
            )  # fmt: skip
            rules = rules.with_changes(exposure=Exposure(rules.exposure.randomesque_k, parameters))
        thetas = _read_thetas(args.thetas, list(rules.skills)) if args.thetas else None
        n_examinees = args.examinees or DEFAULT_EXAMINEES
        if thetas is not None:
            # the file's candidates are the simulation's: one per row
            given = len(next(iter(thetas.values())))
            if args.examinees is not None and args.examinees != given:
                print(
                    f"note : --thetas donne {given} candidats : --examinees {args.examinees} "
                    "n'est pas suivi",
                    file=sys.stderr,
                )
            n_examinees = given
        result = simulate(
            bank.pool, rules, n_examinees, args.seed, thetas,
            progress=not args.no_progress, **options,
        )  # fmt: skip
    except PlacementError as exc:
        print(f"placement simulate : {exc}", file=sys.stderr)
        return 2
    out: Path = args.out
    try:
        n_plots = _write_outputs(args, out, result, bank, rules)
    except OSError as exc:
        where = exc.filename or out
        print(f"placement simulate : écriture impossible dans {where} : {exc.strerror or exc}",
              file=sys.stderr)  # fmt: skip
        return 2
    s = result.summary
    print(
        f"banque {bank.version}, règles {rules.version}, politique {s['policy']}, "
        f"{s['n_examinees']} candidats, graine {args.seed}"
    )
    print(f"items par test : moyenne {_fmt(s['mean_items'])}, p95 {_fmt(s['items_p95'])}")
    for skill in rules.skills:
        print(
            f"  {skill or '(sans compétence)'} : items {_fmt(s['mean_items_by_skill'][skill])}"
            f"  rmse {_fmt(s['rmse'][skill])}  biais {_fmt(s['bias'][skill])}"
            f"  justesse A1 {_fmt(s['classification_accuracy'][skill].get('A1'))}"
        )
    se_stopped = sum(r.get("se_target", 0) for r in s["section_stop_reasons"].values())
    print(
        f"rmse global {_fmt(s['rmse']['overall'])}, "
        + (
            f"là où la règle d'erreur type a arrêté {_fmt(s['rmse_se_stop']['overall'])} "
            f"({se_stopped} sections)"
            if se_stopped
            else "aucune section arrêtée par la règle d'erreur type"
        )
    )
    print(
        f"justesse de la décision de dispense {_fmt(s['classification_accuracy']['dispense'])}, "
        f"des heures {_fmt(s['classification_accuracy']['hours'])}"
    )
    if s.get("referred_share") is not None:
        acc, cal = s["classification_accuracy"], s["dispense_calibration"]
        print(
            f"décisions renvoyées à l'auditeur {_fmt(s['referred_share'])} ; justesse des autres : "
            f"dispense {_fmt(acc['dispense_auto'])}, heures {_fmt(acc['hours_auto'])} ; "
            f"erreur de calibration de p_dispense {_fmt(cal['ece'])} (celle d'un moteur "
            f"parfaitement calibré sur autant de candidats : {_fmt(cal['ece_floor'])}, "
            f"95e centile {_fmt(cal['ece_floor_p95'])})"
        )
    print(
        f"exposition max. {_fmt(s['max_exposure'])}, items inutilisés {_fmt(s['unused_fraction'])}"
    )
    names = {"readers": "lecteurs", "non_readers": "non-lecteurs"}
    for path_name, figures in (s.get("exposure_by_path") or {}).items():
        print(
            f"  {names.get(path_name, path_name)} : {figures['n_examinees']} candidats, "
            f"exposition max. {_fmt(figures['max_exposure'])}"
        )
    print(f"temps d'un pas p50 {_fmt(s['step_ms_p50'])} ms, p99 {_fmt(s['step_ms_p99'])} ms")
    plots = f" et {n_plots} graphiques PNG" if n_plots else ""
    print(f"écrits : {out}/summary.json, examinees.csv, exposure.csv, responses.csv{plots}")
    return 0
