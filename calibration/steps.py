"""The command line's steps as functions over a work directory.

Every step reads what earlier steps wrote and writes its own files, so that steps can be run
one by one (and inspected, or redone with other options) or chained by ``calibration run``::

    <work>/responses.csv           the long responses (copied or exported)
    <work>/current-parameters.csv  the current table (from a release or a CSV)
    <work>/context.json            where the current table came from, cut scores per skill
    <work>/fit-parameters.csv      fit: re-estimated rows on the new scale, kept rows as they were
    <work>/fit.json                fit: which rows were re-estimated, kept items and why, SEs
    <work>/parameters.csv          link: the new table on the current scale (what is published)
    <work>/linking.json            link: constants per skill, anchors, SEs on the old scale
    <work>/checks.json             check: statistics and flags per item, failures
    <work>/simulation.json         simulate: current against new, per skill
    <work>/report.html             report: the self-contained HTML report
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from calibration.checks import CheckReport, ItemCheck, Thresholds, run_checks
from calibration.data import (
    ItemParameters,
    Responses,
    read_parameters,
    read_responses,
    write_parameters,
)
from calibration.errors import CalibrationError, InputError
from calibration.fit import FitResult, SeMethod, fit
from calibration.linking import Linking, Method, apply_links, link_skills, transform_se
from calibration.report import write_report
from calibration.simulation import compare_banks
from placement.bank import bank_reason
from placement.staging import staged


@dataclass(frozen=True, slots=True)
class Workdir:
    """Paths of a calibration work directory."""

    root: Path

    def __post_init__(self) -> None:
        if self.root.exists() and not self.root.is_dir():
            raise InputError(f"{self.root} : le dossier de travail (--work) est un fichier")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(
                f"{self.root} : impossible de créer le dossier de travail ({exc.strerror or exc})"
            ) from None

    @property
    def responses(self) -> Path:
        """The long responses."""
        return self.root / "responses.csv"

    @property
    def current(self) -> Path:
        """The current parameter table."""
        return self.root / "current-parameters.csv"

    @property
    def context(self) -> Path:
        """Source of the current table and cut scores."""
        return self.root / "context.json"

    @property
    def fitted(self) -> Path:
        """Fit output, new scale."""
        return self.root / "fit-parameters.csv"

    @property
    def fit_info(self) -> Path:
        """Fit details."""
        return self.root / "fit.json"

    @property
    def parameters(self) -> Path:
        """The new table on the current scale."""
        return self.root / "parameters.csv"

    @property
    def linking(self) -> Path:
        """Linking details."""
        return self.root / "linking.json"

    @property
    def checks(self) -> Path:
        """Check results."""
        return self.root / "checks.json"

    @property
    def simulation(self) -> Path:
        """Simulation results."""
        return self.root / "simulation.json"

    @property
    def report(self) -> Path:
        """The HTML report."""
        return self.root / "report.html"

    @property
    def after_fit(self) -> tuple[Path, ...]:
        """What the steps after ``fit`` make from its output (stale once fit or link runs)."""
        return (self.parameters, self.linking, self.checks, self.simulation, self.report)


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN and infinities become None, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        return _clean(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, data: Any) -> Path:
    """Write plain data as JSON (NaN as null), beside the target first, then moved into place."""
    text = json.dumps(_clean(data), indent=1, ensure_ascii=False)
    with staged(path) as partial:
        partial.write_text(text, encoding="utf-8")
    return path


def install(source: Path, target: Path) -> None:
    """Copy ``source`` to ``target`` through a file beside it, moved in once complete."""
    if source.resolve() == target.resolve():
        return
    try:
        with staged(target) as partial:
            shutil.copyfile(source, partial)
    except OSError as exc:
        reason = exc.strerror or exc
        raise InputError(f"{source} : copie impossible vers {target} ({reason})") from None


def discard(*paths: Path) -> None:
    """Remove the outputs of later steps that a step is about to make stale.

    A later step's file left from an earlier run would otherwise be read as if it came from
    this one (``check`` and ``publish`` reading the linked table of a previous fit).
    """
    for path in paths:
        path.unlink(missing_ok=True)


def read_json(path: Path, step: str) -> Any:
    """Read a step's JSON; raises :class:`InputError` naming the step that makes it."""
    _require(path, step)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path} : JSON illisible ({exc})") from None


def _require(path: Path, step: str) -> None:
    if not path.is_file():
        raise InputError(f"{path} manque : lancez d'abord `calibration {step}`")


def _num(x: Any) -> float:
    return float("nan") if x is None else float(x)


# -- prepare ----------------------------------------------------------------------------------
def prepare(
    work: Workdir,
    *,
    responses: Path | None = None,
    parameters: Path | None = None,
    release: str | None = None,
    releases_root: Path | None = None,
    cuts: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Copy the responses and the current table into ``work`` and record their source.

    The current table comes from a parameter CSV or from a published release (its
    ``parameters.csv`` and its A1 cut scores). Both files are validated here, so that a
    malformed CSV or an unknown item id is refused before any computation.
    """
    context: dict[str, Any] = {"release": None, "cuts": dict(cuts or {})}
    if release is not None:
        import itembank

        try:
            rel = itembank.load_release(None if release == "latest" else release, releases_root)
        except (itembank.ItemBankError, OSError) as exc:
            raise InputError(
                f"version {release} de la banque introuvable : {bank_reason(exc)}"
            ) from None
        source = Path(rel.parameters_path)
        context["release"] = rel.version
        context["releases_root"] = str(releases_root) if releases_root else None
        context["retired"] = sorted(
            i for i, item in rel.items.items() if getattr(item, "status", "") == "retired"
        )
        if not cuts:
            context["cuts"] = {
                skill: levels["A1"] for skill, levels in rel.cut_scores.items() if "A1" in levels
            }
        context["cut_scores"] = rel.cut_scores
        context["skill_correlation"] = [list(row) for row in rel.skill_correlation]
    elif parameters is not None:
        source = Path(parameters)
        context["parameters"] = str(parameters)
    elif work.current.is_file():
        source = work.current
    else:
        raise InputError(
            "donnez les paramètres actuels : --release VERSION ou --parameters FICHIER.csv"
        )
    # every input is read and checked where the user put it (messages name their file and
    # line); only then is it copied into the work folder, so a refused file replaces nothing
    current = read_parameters(source)
    if responses is not None:
        answers = Path(responses)
    elif work.responses.is_file():
        answers = work.responses
    else:
        raise InputError(
            "donnez les réponses : --responses FICHIER.csv (ou lancez `calibration export`)"
        )
    data = read_responses(answers, current)
    install(source, work.current)
    install(answers, work.responses)
    context["n_persons"] = data.n_persons
    context["n_responses"] = data.n_responses
    context["notes"] = list(data.notes)
    write_json(work.context, context)
    return context


def _context(work: Workdir) -> dict[str, Any]:
    if work.context.is_file():
        data: dict[str, Any] = read_json(work.context, "fit")
        return data
    return {"release": None, "cuts": {}}


# -- fit ----------------------------------------------------------------------------------------
def fit_info(result: FitResult) -> dict[str, Any]:
    """The JSON form of a fit's details."""
    p = result.params
    se = {}
    for i, item_id in enumerate(p.ids):
        if result.fitted[i]:
            se[item_id] = {
                "a": result.se_a[i],
                "b": result.se_b[i],
                "c": result.se_c[i],
                "thresholds": [t for t in result.se_thresholds[i] if not math.isnan(t)],
            }
    return {
        "fitted": [item_id for i, item_id in enumerate(p.ids) if result.fitted[i]],
        "kept": [asdict(k) for k in result.kept],
        "n_responses": dict(zip(p.ids, result.n_responses.tolist(), strict=True)),
        "se": se,
        "se_method": result.se_method,
        "scales": list(result.scales),
        "log_likelihood": result.log_likelihood,
        "n_evaluations": result.n_evaluations,
        "converged": result.converged,
        "time_s": result.time_s,
        "messages": list(result.messages),
        "n_persons": int(result.theta_eap.shape[0]),
    }


def _with_conditioning(info: dict[str, Any], conditioned: bool) -> dict[str, Any]:
    info["conditioned_on_earlier_sections"] = conditioned
    return info


def _engine_priors(
    current: ItemParameters, responses: Responses, context: Mapping[str, Any]
) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Each person's section prior as the engine computed it (None when the current table
    does not come from a release, or the rules borrow nothing across sections)."""
    if not context.get("skill_correlation"):
        return None
    from calibration.fit import engine_priors
    from placement.rules import default_rules

    rules = default_rules()
    if not rules.prior.borrow:
        return None
    return engine_priors(
        current,
        responses,
        correlation=context["skill_correlation"],
        order=rules.skill_order,
        test_order=rules.skills,
        mean=rules.prior.mean,
        sd=rules.prior.sd,
    )


def step_fit(
    work: Workdir,
    *,
    model: str | None = None,
    min_responses: int = 50,
    se: SeMethod = "crossprod",
    n_bootstrap: int = 20,
    fit_guessing: bool = False,
    priors: bool = True,
    by_skill: bool = True,
    conditioning: bool = True,
    seed: int | None = None,
    progress: bool = True,
) -> FitResult:
    """Fit the responses; writes ``fit-parameters.csv`` and ``fit.json``.

    When the current table comes from a release and ``conditioning`` is on, each person's
    prior on a skill is the engine's section prior given the earlier sections (the CIR rules'
    test order and prior, the release's skill correlation; see
    :func:`calibration.fit.engine_priors`), as the engine's selection depended on it.
    """
    current = read_parameters(work.current)
    responses = read_responses(work.responses, current)
    context = _context(work)
    discard(*work.after_fit)
    priors_by_skill = (
        _engine_priors(current, responses, context) if conditioning and by_skill else None
    )
    result = fit(
        current,
        responses,
        by_skill=by_skill,
        model=model,
        min_responses=min_responses,
        se=se,
        n_bootstrap=n_bootstrap,
        fit_guessing=fit_guessing,
        priors=priors,
        conditioning=priors_by_skill,
        rng=np.random.default_rng(seed),
        progress=progress,
    )
    new = result.params.with_values(provisional=np.where(result.fitted, False, current.provisional))
    write_parameters(new, work.fitted)
    write_json(work.fit_info, _with_conditioning(fit_info(result), priors_by_skill is not None))
    return result


def _fitted_mask(params: ItemParameters, info: Mapping[str, Any]) -> np.ndarray:
    fitted = set(info["fitted"])
    return np.array([i in fitted for i in params.ids], dtype=bool)


# -- link ---------------------------------------------------------------------------------------
def step_link(
    work: Workdir,
    *,
    method: Method = "stocking-lord",
    anchors: Sequence[str] | None = None,
    purify: float | None = 0.5,
) -> dict[str, Linking]:
    """Link the fitted rows to the current scale; writes ``parameters.csv``, ``linking.json``."""
    _require(work.fitted, "fit")
    current = read_parameters(work.current)
    new = read_parameters(work.fitted)
    info = read_json(work.fit_info, "fit")
    fitted = _fitted_mask(new, info)
    discard(*work.after_fit)
    links = link_skills(new, current, fitted=fitted, method=method, purify=purify, anchors=anchors)
    linked = apply_links(new, links, fitted)
    write_parameters(linked, work.parameters)
    se_old: dict[str, dict[str, Any]] = {}
    for item_id, s in info["se"].items():
        skill = new.skills[new.index(item_id)]
        A = links[skill].A if skill in links else 1.0
        se_a, se_b, se_thr = transform_se(
            A, _num(s["a"]), _num(s["b"]), thresholds=[_num(t) for t in s["thresholds"]]
        )
        se_old[item_id] = {"a": se_a, "b": se_b, "c": s["c"], "thresholds": se_thr}
    write_json(
        work.linking,
        {
            "method": method,
            "skills": {skill: asdict(lk) for skill, lk in links.items()},
            "se": se_old,
        },
    )
    return links


# -- check --------------------------------------------------------------------------------------
def check_to_data(report: CheckReport) -> dict[str, Any]:
    """The JSON form of a check report."""
    return {
        "passed": report.passed,
        "failures": list(report.failures),
        "warnings": list(report.warnings),
        "notes": list(report.notes),
        "n_persons": report.n_persons,
        "thresholds": asdict(report.thresholds),
        "items": [asdict(row) for row in report.items],
    }


def check_from_data(data: Mapping[str, Any]) -> CheckReport:
    """Rebuild a check report from its JSON form."""
    floats = {
        "exposure", "infit", "outfit", "a_old", "b_old", "a_new", "b_new", "delta_b",
        "delta_log_a", "dif_delta", "dif_p", "drift_z_b", "drift_z_log_a",
    }  # fmt: skip
    rows = []
    for row in data["items"]:
        values: dict[str, Any] = {k: (_num(v) if k in floats else v) for k, v in row.items()}
        values["flags"] = tuple(row["flags"])
        rows.append(ItemCheck(**values))
    known = {f.name for f in fields(Thresholds)}
    th = {k: v for k, v in data["thresholds"].items() if k in known}  # older files: drift_z
    th["fit_range"] = tuple(th["fit_range"])
    return CheckReport(
        items=tuple(rows),
        thresholds=Thresholds(**th),
        n_persons=int(data["n_persons"]),
        failures=tuple(data["failures"]),
        warnings=tuple(data["warnings"]),
        notes=tuple(data.get("notes", ())),
    )


def step_check(work: Workdir, *, thresholds: Thresholds | None = None) -> CheckReport:
    """Check the linked table against the current one; writes ``checks.json``.

    The fitted table is on the new scale until ``link`` has put it on the current one: drift
    and fit are only read on the linked table.
    """
    _require(work.fitted, "fit")
    _require(work.parameters, "link")
    current = read_parameters(work.current)
    new = read_parameters(work.parameters)
    responses: Responses = read_responses(work.responses, new)
    info = read_json(work.fit_info, "fit")
    fitted = _fitted_mask(new, info)
    context = _context(work)
    # the drift tests condition each person on the earlier sections as the fit did (the
    # priors are on the current scale, where the linked table is)
    person_priors = (
        _engine_priors(current, read_responses(work.responses, current), context)
        if info.get("conditioned_on_earlier_sections")
        else None
    )
    report = run_checks(
        new,
        current,
        responses,
        fitted=fitted,
        thresholds=thresholds,
        retired=set(context.get("retired") or ()),
        person_priors=person_priors,
    )
    write_json(work.checks, check_to_data(report))
    return report


# -- simulate -----------------------------------------------------------------------------------
def step_simulate(
    work: Workdir,
    *,
    n_candidates: int = 500,
    test_length: int = 10,
    seed: int = 0,
    engine: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Simulate the CAT on the current and the new table; writes ``simulation.json``.

    With ``engine`` (default) the engine's own simulation runs the real rules (see
    :func:`calibration.simulation.compare_with_engine`); when the bank cannot meet them, or
    with ``engine=False``, the package's per-skill CAT does (:func:`compare_banks`) and
    ``fallback_reason`` says why.
    """
    _require(work.parameters, "link")
    current = read_parameters(work.current)
    new = read_parameters(work.parameters)
    context = _context(work)
    data: dict[str, Any] = {}
    reason = "simulation du moteur non demandée (--no-engine)"
    if engine:
        from calibration.simulation import compare_with_engine
        from placement.errors import PlacementError

        release = None
        if context.get("release"):
            import itembank

            root = context.get("releases_root")
            release = itembank.load_release(context["release"], Path(root) if root else None)
        try:
            data = compare_with_engine(
                work.current,
                work.parameters,
                release=release,
                n_candidates=n_candidates,
                seed=seed,
                progress=progress,
            )
        except PlacementError as exc:
            reason = f"le moteur ne peut pas faire passer le test sur cette banque : {exc}"
    if not data:
        cuts = {k: float(v) for k, v in (context.get("cuts") or {}).items()}
        comparisons = compare_banks(
            current,
            new,
            cuts=cuts,
            n_candidates=n_candidates,
            test_length=test_length,
            seed=seed,
            progress=progress,
        )
        data = {
            "engine": "calibration.synthetic",
            "fallback_reason": reason,
            "n_candidates": n_candidates,
            "test_length": test_length,
            "seed": seed,
            "skills": [c.to_data() for c in comparisons],
        }
    write_json(work.simulation, data)
    return data


def load_all(work: Workdir) -> dict[str, Any]:
    """Everything the report and publish read, with what is missing left as None."""
    out: dict[str, Any] = {"context": _context(work)}
    out["current"] = read_parameters(work.current) if work.current.is_file() else None
    out["fitted"] = read_parameters(work.fitted) if work.fitted.is_file() else None
    out["new"] = read_parameters(work.parameters) if work.parameters.is_file() else None
    out["fit"] = read_json(work.fit_info, "fit") if work.fit_info.is_file() else None
    out["linking"] = read_json(work.linking, "link") if work.linking.is_file() else None
    out["checks"] = (
        check_from_data(read_json(work.checks, "check")) if work.checks.is_file() else None
    )
    out["simulation"] = (
        read_json(work.simulation, "simulate") if work.simulation.is_file() else None
    )
    return out


# -- report -------------------------------------------------------------------------------------
def step_report(
    work: Workdir, *, state: Mapping[str, Any] | None = None, override_reason: str | None = None
) -> Path:
    """Write the HTML report (``report.html``) from what the steps left in ``work``.

    ``state`` is :func:`load_all`'s answer when the caller has already read it; the report shows
    the linked parameters, or the fitted ones before ``link`` has run.
    """
    _require(work.fit_info, "fit")
    if state is None:
        state = load_all(work)
    return write_report(
        work.report,
        current=state["current"],
        new=state["new"] or state["fitted"],
        fit=state["fit"],
        linking=state["linking"],
        checks=state["checks"],
        simulation=state["simulation"],
        context=state["context"],
        override_reason=override_reason,
    )


__all__ = [
    "CalibrationError",
    "Workdir",
    "check_from_data",
    "check_to_data",
    "discard",
    "fit_info",
    "load_all",
    "prepare",
    "read_json",
    "step_check",
    "step_fit",
    "step_link",
    "step_report",
    "step_simulate",
    "write_json",
]
