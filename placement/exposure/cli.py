"""``placement exposure``: fit Sympson-Hetter parameters per path, write or publish them."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from placement.errors import PlacementError
from placement.exposure import EXPOSURE_ATTACHMENT, figures, fit_exposure, read_exposure


def register(subparsers: Any) -> None:
    """Add the ``exposure`` sub-command."""
    p = subparsers.add_parser(
        "exposure",
        help="ajuster le contrôle d'exposition (Sympson-Hetter) des lecteurs et des non-lecteurs",
        description="Ajuste par simulation les paramètres de Sympson-Hetter, pour les lecteurs "
        "et pour les non-lecteurs séparément, et les écrit (--out) ou publie une nouvelle "
        "version de la banque qui les porte (--publish).",
    )
    p.add_argument(
        "--bank", required=True, help="un numéro de version, 'latest' ou un dossier de version"
    )
    p.add_argument(
        "--releases-root",
        type=Path,
        help="dossier des versions, pour 'latest' et un numéro de version (celui d'itembank par "
        "défaut)",
    )
    # the option's first name, kept so that scripts written with it still run
    p.add_argument("--root", dest="releases_root", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--rules", help="un fichier de règles YAML (défaut : placement/rules/cir.yaml)")
    p.add_argument(
        "--target", type=float, help="exposition maximale visée (défaut : celle des règles)"
    )
    p.add_argument(
        "--examinees", type=int, default=500, help="candidats simulés par tour (défaut : 500)"
    )
    p.add_argument("--iterations", type=int, default=12, help="tours d'ajustement (défaut : 12)")
    p.add_argument("--seed", type=int, default=0, help="graine de toute la simulation")
    p.add_argument("--out", type=Path, help="écrire les paramètres dans ce fichier exposure.json")
    p.add_argument(
        "--parameters", type=Path,
        help="un exposure.json déjà ajusté (par --out) : le publier sans ajuster de nouveau",
    )  # fmt: skip
    p.add_argument(
        "--publish", action="store_true", help="publier une nouvelle version qui les porte"
    )
    p.add_argument("--no-progress", action="store_true", help="sans barre de progression")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Fit, then write or publish; 0 on success, 2 on bad input (message on stderr)."""
    import itembank
    from itembank.errors import ItemBankError
    from placement.bank import bank_reason, load_release_spec, pool_from_release
    from placement.rules import default_rules, load_rules

    try:
        if args.examinees < 10 or args.iterations < 1:
            raise PlacementError("--examinees doit valoir au moins 10 et --iterations au moins 1")
        if args.target is not None and not 0 < args.target <= 1:
            raise PlacementError(f"--target doit être dans ]0, 1] (reçu {args.target})")
        if not args.out and not args.publish:
            raise PlacementError("dites où vont les paramètres : --out FICHIER ou --publish")
        release = load_release_spec(args.bank, args.releases_root)
        rules = load_rules(args.rules) if args.rules else default_rules()
        if args.parameters is not None:
            exposure = read_exposure(args.parameters)
        else:
            exposure = fit_exposure(
                pool_from_release(release), rules, target=args.target,
                n_examinees=args.examinees, iterations=args.iterations, seed=args.seed,
                cut_scores={k: dict(v) for k, v in release.cut_scores.items()},
                skill_correlation=release.skill_correlation, policy=release.policy,
                progress=not args.no_progress,
            )  # fmt: skip
    except PlacementError as exc:
        print(f"placement exposure : {exc}", file=sys.stderr)
        return 2
    text = json.dumps(exposure, indent=1, sort_keys=True) + "\n"
    labels = {"readers": "lecteurs", "non_readers": "non-lecteurs"}
    for name in ("readers", "non_readers"):
        block = exposure[name]
        if block is None:
            print(f"{labels[name]} : pas de parcours dans cette banque")
        else:
            print(
                f"{labels[name]} : {len(block['parameters'])} items contrôlés, exposition max. "
                f"{block['max_exposure']:.3f} (cible {exposure['target']})"
            )
            floor = block.get("mean_usage_floor") or 0.0
            if block["max_exposure"] > exposure["target"] and floor > exposure["target"]:
                # no parameter can help: the sections give most of their items to everyone
                print(
                    f"attention : {labels[name]} : cible {exposure['target']} hors d'atteinte sur "
                    f"cette banque : une de ses sections donne à chaque candidat "
                    f"{round(min(floor, 1.0) * 100)} % de ses items en moyenne ; il faut plus "
                    "d'items (itembank stats dit combien) ou des sections plus courtes",
                    file=sys.stderr,
                )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"écrit : {args.out}")
    if args.publish:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / EXPOSURE_ATTACHMENT
            path.write_text(text, encoding="utf-8")
            try:
                published = itembank.publish_release(
                    release,
                    notes=f"Sympson-Hetter exposure control fitted for {exposure['target']} "
                    f"(readers and non-readers) on release {release.version}",
                    attachments={EXPOSURE_ATTACHMENT: path},
                    metadata={"exposure": figures(exposure)},
                    root=release.root.parent,
                )
            except ItemBankError as exc:
                print(
                    f"placement exposure : la banque a refusé la nouvelle version : "
                    f"{bank_reason(exc)}",
                    file=sys.stderr,
                )
                return 2
        print(f"version publiée : {published.version}, avec {EXPOSURE_ATTACHMENT}")
    return 0
