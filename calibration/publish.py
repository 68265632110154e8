"""Publishing a checked calibration as a new immutable bank release (through ``itembank``)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from calibration.data import write_parameters
from calibration.errors import AlreadyPublished, CalibrationError, InputError, PublishRefused
from calibration.steps import Workdir, load_all, step_report
from itembank.wording import problem as bank_problem
from placement.bank import bank_reason

#: Models of the calibration that the bank's parameter table spells differently: a 1PL is a
#: 2PL whose items share one slope.
RELEASE_MODEL = {"1PL": "2PL"}


def publish(
    work: Workdir,
    *,
    release: str | None = None,
    releases_root: Path | None = None,
    version: str | None = None,
    override_reason: str | None = None,
    notes: str = "",
    republish: bool = False,
) -> Any:
    """Publish ``work/parameters.csv`` as a new release built on the current one.

    The checks must have passed, or ``override_reason`` must say in words why the release goes
    out anyway; the reason, the failed checks, the linking constants and the counts go into the
    release's metadata, and the HTML report (rebuilt with the reason) and the check results
    are attached. The release's metadata keeps the SHA-256 of the parameter table it was
    given (``calibration.parameters_sha256``): a second publication of the same parameters on
    the same version (the command run twice from one work folder, or a rerun of the same
    calibration) is refused, naming the release that holds them, unless ``republish``.

    Returns
    -------
    itembank.Release
        The new release, loaded back from disk.

    Raises
    ------
    PublishRefused
        Checks failed and no (non-blank) reason was given.
    AlreadyPublished
        A release built on the same version already holds these parameters.
    InputError
        A step was not run, or the current table does not come from a release.
    CalibrationError
        The item bank refused the release (its message is kept).
    """
    import itembank

    state = load_all(work)
    checks, fit, linking, context = (
        state["checks"],
        state["fit"],
        state["linking"],
        state["context"],
    )
    if state["new"] is None or linking is None:
        raise InputError(f"{work.parameters} manque : lancez d'abord `calibration link`")
    if checks is None:
        raise InputError(f"{work.checks} manque : lancez d'abord `calibration check`")
    reason = (override_reason or "").strip() or None
    if not checks.passed and reason is None:
        raise PublishRefused(checks.failures)
    base_version = release or context.get("release")
    if base_version is None:
        raise InputError(
            "les paramètres actuels ne viennent pas d'une version de la banque : donnez "
            "--release VERSION (la version dont les nouveaux paramètres calibrent les items)"
        )
    root = releases_root or (
        Path(context["releases_root"]) if context.get("releases_root") else None
    )
    try:
        base = itembank.load_release(base_version, root)
    except itembank.ItemBankError as exc:
        raise InputError(
            f"version {base_version} de la banque introuvable : {bank_reason(exc)}"
        ) from None

    new = state["new"]
    _check_same_items(new.ids, base)
    out_csv = work.root / "release-parameters.csv"
    write_parameters(
        new.with_values(models=tuple(RELEASE_MODEL.get(m, m) for m in new.models)), out_csv
    )
    _check_models(out_csv, base)
    # the one writer makes the same table the same bytes: its hash says "this calibration"
    digest = hashlib.sha256(out_csv.read_bytes()).hexdigest()
    if not republish:
        holder = _release_holding(digest, base, root)
        if holder is not None:
            raise AlreadyPublished(holder, base.version)
    step_report(work, state=state, override_reason=reason)
    metadata = {
        "calibration": {
            "based_on": base.version,
            "parameters_sha256": digest,
            "checks_passed": checks.passed,
            "failed_checks": list(checks.failures),
            "override_reason": reason,
            "n_persons": fit["n_persons"] if fit else None,
            "n_responses": sum(fit["n_responses"].values()) if fit else None,
            "re_estimated": len(fit["fitted"]) if fit else 0,
            "kept": [k["item_id"] for k in fit["kept"]] if fit else [],
            "linking": {
                skill: {
                    "method": lk["method"],
                    "A": lk["A"],
                    "B": lk["B"],
                    "anchors": len(lk["anchors"]),
                }
                for skill, lk in linking["skills"].items()
            },
        }
    }
    text = notes or (
        f"Recalibration de {base.version} sur {metadata['calibration']['n_persons']} candidats"
        + (
            f" ; publiée malgré des contrôles en échec : {reason}"
            if reason and not checks.passed
            else ""
        )
    )
    try:
        return itembank.publish_release(
            base,
            version=version,
            parameters_csv=out_csv,
            notes=text,
            attachments={
                "calibration-report.html": work.report,
                "calibration-checks.json": work.checks,
            },
            metadata=metadata,
            root=root,
        )
    except itembank.ItemBankError as exc:
        # the item bank speaks English to its own callers; the psychometrician reads French
        raise CalibrationError(
            f"la banque a refusé la nouvelle version : {bank_reason(exc)}"
        ) from None


def _release_holding(digest: str, base: Any, root: Path | None) -> str | None:
    """The release, published after ``base`` and built on it, whose calibration is ``digest``."""
    import itembank
    from itembank.release import parse_version

    after = [
        v for v in itembank.list_releases(root) if parse_version(v) > parse_version(base.version)
    ]
    for version in after:
        try:
            # only release.yaml is read: the files' hashes are checked when one is loaded
            meta = itembank.load_release(version, root, verify=False).metadata
        except itembank.ItemBankError:
            continue  # a release that cannot be read holds nothing we could name
        calibration = meta.get("calibration") or {}
        if (
            calibration.get("parameters_sha256") == digest
            and calibration.get("based_on") == base.version
        ):
            return version
    return None


def _check_models(table_csv: Path, base: Any) -> None:
    """Refuse, in French and in short, rows whose model does not suit the release's item.

    The item bank would refuse them too, in English and all of them in one line; this says
    how many, the first few with the reason, and what to do, before anything is published.
    """
    from itembank.parameters import read_parameters_csv, row_problems

    problems = [
        f"{row.id} : {bank_problem(message)}"
        for row in read_parameters_csv(table_csv)
        if (item := base.items.get(row.id)) is not None
        for _, message in row_problems(row, item)
    ]
    if not problems:
        return
    more = f" (et {len(problems) - 5} autre(s))" if len(problems) > 5 else ""
    raise InputError(
        f"les paramètres calibrés ne conviennent pas aux items de la version {base.version} "
        f"({len(problems)} problème(s)) : " + " ; ".join(problems[:5]) + more + " : un item "
        "noté par grille se calibre en GRM ou GPCM, un item juste/faux en 1PL, 2PL ou 3PL ; "
        "calibrez à partir de cette version (calibration run --release), dont la table donne "
        "le modèle de chaque item"
    )


def _shown(ids: list[str], n: int = 8) -> str:
    return ", ".join(ids[:n]) + (f" (+{len(ids) - n})" if len(ids) > n else "")


def _check_same_items(ids: tuple[str, ...], base: Any) -> None:
    """Refuse, in French and in short, parameters that are not those of the release's items.

    The item bank would refuse them too, listing every id in English; this names both sides
    and what to do, before anything is written.
    """
    table, items = set(ids), set(base.items)
    absent = sorted(table - items)
    without = sorted(items - table)
    if not absent and not without:
        return
    parts = []
    if absent:
        parts.append(f"{len(absent)} item(s) absent(s) de la version : {_shown(absent)}")
    if without:
        parts.append(f"{len(without)} item(s) de la version sans paramètres : {_shown(without)}")
    raise InputError(
        f"les paramètres calibrés ne sont pas ceux des items de la version {base.version} ("
        + " ; ".join(parts)
        + ") : publiez sur la version d'où viennent les paramètres actuels (--release), ou "
        "calibrez à partir de cette version (calibration run --release)"
    )
