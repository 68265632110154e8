"""CECR levels from θ̂ and the prescription policy that turns levels into a decision.

Levels and their probabilities
------------------------------
A release gives, per skill, the cut scores :math:`c_{A1.1} < c_{A1} < c_{A2} < c_{B1}` on that
skill's θ scale. The reported level is the band that contains θ̂. Treating the ability as
:math:`N(\\hat\\theta, SE^2)`, the probability of each level is the normal mass of its band:

.. math:: P(\\text{level } l) = \\Phi\\Big(\\frac{c_{l+1} - \\hat\\theta}{SE}\\Big)
                              - \\Phi\\Big(\\frac{c_l - \\hat\\theta}{SE}\\Big)

with :math:`c_{\\text{pré-A1}} = -\\infty` and :math:`c_{B1+1} = +\\infty`.

The global (combined) estimate
------------------------------
The policy's ``global.weights`` :math:`w_s` combine the assessed skills that count:

.. math:: \\theta_G = \\frac{\\sum_s w_s \\hat\\theta_s}{\\sum_s w_s},\\quad
          SE_G = \\frac{\\sqrt{\\sum_s w_s^2 SE_s^2}}{\\sum_s w_s},\\quad
          c_G(l) = \\frac{\\sum_s w_s c_s(l)}{\\sum_s w_s}

i.e. the weighted mean of abilities is compared with the same weighted mean of the cuts, so
that a skill whose scale is shifted by its calibration shifts its cuts alike (errors are taken
as independent across skills, which slightly overstates :math:`SE_G`). Skills not assessed
(a non-reader's CE and EE) are left out of both sums.

The policy
----------
``placement/policies/<name>.yaml`` (``cir-2016``, the default, and ``cir-2019``) holds what
the law fixes: the dispense level and the skills that count, the bands of hours by global
level (first match), the débutant cut, the non-reader rule, optional trainings and the French
wording of the attestation. :func:`assess` applies it:

1. a non-reader (the auditeur's mark) gets the non-reader rule (2016: 200 h; 2019: 600 h)
   unless the policy allows a dispense;
2. every counted skill assessed and at the dispense level or above → ``dispense`` (0 h), with
   the optional trainings whose target some counted skill has not reached;
3. otherwise ``prescription``: the first band whose condition the global level meets.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from scipy.special import ndtr

from placement.cat.joint import Band as EngineBand
from placement.cat.joint import DecisionModel, JointPosterior
from placement.cat.rules import LEVELS, Triage
from placement.errors import InvalidPolicy
from placement.formatting import number
from placement.irt import Estimate

CUT_LEVELS = LEVELS[1:]
POLICIES_DIR = Path(__file__).resolve().parent / "policies"
DEFAULT_POLICY = "cir-2016"

SKILL_NAMES = {
    "CO": "Compréhension orale",
    "CE": "Compréhension écrite",
    "EO": "Expression orale",
    "EE": "Expression écrite",
}


def _fr(x: float) -> str:
    return number(x)


def _check_cuts(cuts: Mapping[str, float], where: str = "seuils CECR") -> list[float]:
    missing = [lv for lv in CUT_LEVELS if lv not in cuts]
    if missing:
        raise InvalidPolicy(f"{where} : seuil(s) manquant(s) {', '.join(missing)}")
    values = [float(cuts[lv]) for lv in CUT_LEVELS]
    if not all(math.isfinite(v) for v in values) or any(
        b <= a for a, b in itertools.pairwise(values)
    ):
        raise InvalidPolicy(
            f"{where} : les seuils doivent être finis et croître avec le niveau : {values}"
        )
    return values


def level_of(theta: float, cuts: Mapping[str, float]) -> str:
    """The CECR level of ``theta``: the band between two cuts that contains it."""
    values = _check_cuts(cuts)
    level = LEVELS[0]
    for name, cut in zip(CUT_LEVELS, values, strict=True):
        if theta >= cut:
            level = name
    return level


def level_probabilities(theta: float, se: float, cuts: Mapping[str, float]) -> dict[str, float]:
    """Probability of each level for an ability :math:`N(\\theta, se^2)` (sums to 1).

    Parameters
    ----------
    theta, se : float
        The estimate and its standard error (``se > 0``; ``se = 0`` gives a 0/1 answer).
    cuts : mapping level -> θ
        Cuts of A1.1, A1, A2 and B1 on the same scale.
    """
    values = _check_cuts(cuts)
    if not math.isfinite(theta) or not math.isfinite(se) or se < 0:
        raise InvalidPolicy(f"level_probabilities needs a finite theta and se >= 0 ({theta}, {se})")
    if se == 0:
        level = level_of(theta, cuts)
        return {lv: float(lv == level) for lv in LEVELS}
    # ndtr, the normal CDF as a plain ufunc: scipy.stats.norm.cdf costs 0.1 ms a call
    cdf = [0.0, *(float(ndtr((c - theta) / se)) for c in values), 1.0]
    return {lv: max(cdf[i + 1] - cdf[i], 0.0) for i, lv in enumerate(LEVELS)}


@dataclass(frozen=True, slots=True)
class LevelEstimate:
    """A skill's (or the global) level, the probability of each level, and the estimate."""

    level: str
    probabilities: dict[str, float]
    theta: float
    se: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "level": self.level,
            "probabilities": {k: round(v, 6) for k, v in self.probabilities.items()},
            "theta": float(self.theta),
            "se": float(self.se),
        }


def level_estimate(estimate: Estimate, cuts: Mapping[str, float]) -> LevelEstimate:
    """The :class:`LevelEstimate` of an estimate against one skill's cuts."""
    return LevelEstimate(
        level_of(estimate.theta, cuts),
        level_probabilities(estimate.theta, estimate.se, cuts),
        float(estimate.theta),
        float(estimate.se),
    )


# ---------------------------------------------------------------------- the policy


@dataclass(frozen=True, slots=True)
class Band:
    """A prescription band: matched when the global level is at least ``min_level`` (if set)
    and, with ``above_debutant``, when θ_G is at or above the débutant cut."""

    hours: int
    label: str
    min_level: str | None = None
    above_debutant: bool = False


@dataclass(frozen=True, slots=True)
class OptionalTraining:
    """An optional training offered with a dispense."""

    name: str
    target: str
    hours: int
    skills: tuple[str, ...]
    purpose: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "target": self.target,
            "hours": self.hours,
            "skills": list(self.skills),
            "purpose": self.purpose,
        }


@dataclass(frozen=True, slots=True)
class Policy:
    """A prescription policy, as read from ``placement/policies/<name>.yaml``."""

    name: str
    version: str
    title: str
    dispense_level: str
    dispense_skills: tuple[str, ...]
    weights: dict[str, float]
    debutant_below: str
    debutant_offset: float
    bands: tuple[Band, ...]
    non_reader_dispense: bool
    non_reader_hours: int
    non_reader_label: str
    optional_trainings: tuple[OptionalTraining, ...]
    wording: dict[str, str]
    source: str = ""

    @property
    def label(self) -> str:
        """``name@version``, kept with every decision."""
        return f"{self.name}@{self.version}"

    def decision_model(self) -> DecisionModel:
        """The policy's decision as the engine sees it (for the joint posterior's outcomes)."""
        return _decision_model(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "name": self.name,
            "version": self.version,
            "title": self.title,
            "dispense_level": self.dispense_level,
            "dispense_skills": list(self.dispense_skills),
            "weights": dict(self.weights),
            "bands": [
                {
                    "hours": b.hours,
                    "label": b.label,
                    "min_level": b.min_level,
                    "above_debutant": b.above_debutant,
                }
                for b in self.bands
            ],
            "non_reader_hours": self.non_reader_hours,
            "optional_trainings": [t.to_dict() for t in self.optional_trainings],
        }


def _decision_model(policy: Policy) -> DecisionModel:
    return DecisionModel(
        dispense_level=policy.dispense_level,
        dispense_skills=policy.dispense_skills,
        weights=dict(policy.weights),
        bands=tuple(EngineBand(b.hours, b.min_level, b.above_debutant) for b in policy.bands),
        debutant_below=policy.debutant_below,
        debutant_offset=policy.debutant_offset,
        non_reader_dispense=policy.non_reader_dispense,
        non_reader_hours=policy.non_reader_hours,
    )


def _table(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidPolicy(f"{where} doit être une table de clés et de valeurs, reçu {data!r}")
    return data


def _require(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in _table(data, where):
        raise InvalidPolicy(f"{where} : clé {key!r} manquante")
    return data[key]


def _level(value: Any, where: str) -> str:
    if value not in LEVELS:
        raise InvalidPolicy(f"{where} : {value!r} n'est pas un niveau CECR ({', '.join(LEVELS)})")
    return str(value)


def _hours(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidPolicy(f"{where} : hours doit être un nombre entier ≥ 0, reçu {value!r}")
    return value


def policy_from_mapping(data: Mapping[str, Any], source: str = "policy") -> Policy:
    """Build a :class:`Policy` from parsed YAML; raises :class:`InvalidPolicy` naming the key."""
    if not isinstance(data, Mapping):
        raise InvalidPolicy(f"{source} : une politique est une table de clés et de valeurs")
    dispense = _require(data, "dispense", source)
    glob = _table(data.get("global", {}) or {}, f"{source} : global")
    debutant = _table(data.get("debutant", {}) or {}, f"{source} : debutant")
    non_reader = _require(data, "non_reader", source)
    raw_bands = _require(data, "prescriptions", source)
    if not isinstance(raw_bands, Sequence) or not raw_bands:
        raise InvalidPolicy(f"{source} : 'prescriptions' doit être une liste non vide de tranches")
    bands = []
    for i, raw in enumerate(raw_bands):
        where = f"{source} : prescriptions[{i}]"
        bands.append(
            Band(
                hours=_hours(_require(raw, "hours", where), where),
                label=str(raw.get("label", "")),
                min_level=_level(raw["min_level"], where) if raw.get("min_level") else None,
                above_debutant=bool(raw.get("above_debutant", False)),
            )
        )
    last = bands[-1]
    if last.min_level is not None or last.above_debutant:
        raise InvalidPolicy(
            f"{source} : la dernière tranche de prescriptions doit valoir pour tous "
            "(sans min_level ni above_debutant)"
        )
    skills = tuple(str(s) for s in _require(dispense, "skills", f"{source} : dispense"))
    weights_raw = glob.get("weights") or dict.fromkeys(skills, 1)
    weights = {}
    for skill, w in weights_raw.items():
        if isinstance(w, bool) or not isinstance(w, int | float) or w < 0:
            raise InvalidPolicy(f"{source} : global.weights[{skill}] doit être un nombre ≥ 0")
        weights[str(skill)] = float(w)
    if not any(weights.values()):
        raise InvalidPolicy(f"{source} : global.weights sont tous nuls")
    trainings = []
    for i, raw in enumerate(data.get("optional_trainings", []) or []):
        where = f"{source} : optional_trainings[{i}]"
        trainings.append(
            OptionalTraining(
                name=str(_require(raw, "name", where)),
                target=_level(_require(raw, "target", where), where),
                hours=_hours(_require(raw, "hours", where), where),
                skills=tuple(str(s) for s in raw.get("skills", skills)),
                purpose=str(raw.get("purpose", "")),
            )
        )
    wording = {str(k): str(v) for k, v in (data.get("wording", {}) or {}).items()}
    for key in ("dispense", "prescription"):
        if key not in wording:
            raise InvalidPolicy(f"{source} : wording.{key} (le texte de l'attestation) manque")
    offset = debutant.get("offset", 1.0)
    if isinstance(offset, bool) or not isinstance(offset, int | float) or offset < 0:
        raise InvalidPolicy(f"{source} : debutant.offset doit être un nombre ≥ 0")
    return Policy(
        name=str(_require(data, "name", source)),
        version=str(_require(data, "version", source)),
        title=str(data.get("title", "")),
        dispense_level=_level(_require(dispense, "level", f"{source} : dispense"), source),
        dispense_skills=skills,
        weights=weights,
        debutant_below=_level(debutant.get("below", "A1.1"), f"{source} : debutant.below"),
        debutant_offset=float(offset),
        bands=tuple(bands),
        non_reader_dispense=bool(non_reader.get("dispense", False)),
        non_reader_hours=_hours(_require(non_reader, "hours", f"{source}: non_reader"), source),
        non_reader_label=str(non_reader.get("label", "")),
        optional_trainings=tuple(trainings),
        wording=wording,
        source=source,
    )


def available_policies() -> list[str]:
    """The names of the bundled policies."""
    return sorted(p.stem for p in POLICIES_DIR.glob("*.yaml"))


def load_policy(name_or_path: str | Path = DEFAULT_POLICY) -> Policy:
    """Read a policy: a bundled name (``cir-2016``, ``cir-2019``) or a YAML file path.

    Raises
    ------
    InvalidPolicy
        Unknown name, unreadable file, invalid YAML or an inconsistent policy.
    """
    path = Path(name_or_path)
    bundled = POLICIES_DIR / f"{name_or_path}.yaml"
    if bundled.is_file() and path.suffix not in (".yaml", ".yml"):
        return _bundled_policy(str(name_or_path))
    return _read_policy(path, name_or_path)


@functools.lru_cache(maxsize=8)
def _bundled_policy(name: str) -> Policy:
    # bundled files are part of the package: read once per process
    return _read_policy(POLICIES_DIR / f"{name}.yaml", name)


def _read_policy(path: Path, name_or_path: str | Path) -> Policy:
    if not path.is_file():
        raise InvalidPolicy(
            f"politique inconnue {str(name_or_path)!r} (politiques livrées : "
            f"{', '.join(available_policies())})"
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", ligne {mark.line + 1}, colonne {mark.column + 1}" if mark is not None else ""
        raise InvalidPolicy(f"{path} : politique illisible : YAML invalide{where}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "le texte n'est pas en UTF-8"
        raise InvalidPolicy(f"{path} : politique illisible ({reason})") from None
    return policy_from_mapping(data, source=str(path))


# ---------------------------------------------------------------------- the decision


@dataclass(frozen=True, slots=True)
class Decision:
    """The machine's decision: a dispense (0 h) or a prescription of ``hours``."""

    kind: str  # "dispense" | "prescription"
    hours: int
    optional_trainings: tuple[OptionalTraining, ...]
    reasons: tuple[str, ...]
    policy: str
    text: str = ""
    #: which rule of the policy gave it: "dispense", "band" (hours by the global level) or
    #: "non_reader"; the attestation's wording follows it
    rule: str = ""
    #: the decision's probabilities and whether it goes to the auditeur (see
    #: :func:`with_probabilities`)
    triage: dict[str, Any] | None = None

    @property
    def referred(self) -> bool:
        """The decision is referred to the auditeur rather than proposed."""
        return bool(self.triage and self.triage.get("referred"))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = {
            "kind": self.kind,
            "hours": self.hours,
            "optional_trainings": [t.to_dict() for t in self.optional_trainings],
            "reasons": list(self.reasons),
            "policy": self.policy,
            "text": self.text,
            "rule": self.rule,
        }
        if self.triage is not None:
            out["triage"] = dict(self.triage)
        return out


@dataclass(frozen=True, slots=True)
class Assessment:
    """Per-skill levels (None = not assessed), the global level and the decision."""

    skills: dict[str, LevelEstimate | None]
    global_level: LevelEstimate | None
    decision: Decision
    non_reader: bool = False
    global_cuts: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "skills": {k: (v.to_dict() if v else None) for k, v in self.skills.items()},
            "global": self.global_level.to_dict() if self.global_level else None,
            "global_cuts": dict(self.global_cuts),
            "decision": self.decision.to_dict(),
            "non_reader": self.non_reader,
        }


def combine(
    estimates: Mapping[str, Estimate | None],
    cuts: Mapping[str, Mapping[str, float]],
    weights: Mapping[str, float],
) -> tuple[Estimate, dict[str, float]] | None:
    """The global estimate and global cuts (see the module docstring); None if nothing counts."""
    used = [s for s, w in weights.items() if w > 0 and estimates.get(s) is not None and s in cuts]
    if not used:
        return None
    chosen = {s: e for s in used if (e := estimates.get(s)) is not None}
    total = sum(weights[s] for s in chosen)
    theta = sum(weights[s] * e.theta for s, e in chosen.items()) / total
    se = math.sqrt(sum((weights[s] * e.se) ** 2 for s, e in chosen.items())) / total
    global_cuts: dict[str, float] = {}
    for level in CUT_LEVELS:
        global_cuts[level] = sum(weights[s] * float(cuts[s][level]) for s in used) / total
    if all("débutant" in cuts[s] for s in used):
        global_cuts["débutant"] = sum(weights[s] * float(cuts[s]["débutant"]) for s in used) / total
    return Estimate(theta, se), global_cuts


def _at_least(level: str, target: str) -> bool:
    return LEVELS.index(level) >= LEVELS.index(target)


def optional_trainings_for(
    policy: Policy, levels: Mapping[str, str | None]
) -> tuple[OptionalTraining, ...]:
    """The optional trainings a dispensed candidate is offered: those whose target some of
    their skills (assessed, at ``levels``) has not reached."""
    return tuple(
        t
        for t in policy.optional_trainings
        if any(
            (level := levels.get(s)) is not None and not _at_least(level, t.target)
            for s in t.skills
        )
    )


def decide(
    policy: Policy,
    skill_results: Mapping[str, LevelEstimate | None],
    non_reader: bool,
    global_result: LevelEstimate | None = None,
    global_cuts: Mapping[str, float] | None = None,
    *,
    corrected: Collection[str] = (),
) -> Decision:
    """Apply ``policy`` to per-skill levels and the global level (see the module docstring).

    :func:`assess` computes ``global_result`` and ``global_cuts``; calling ``decide`` directly
    for a candidate who is neither dispensed nor a non-reader requires them. ``corrected``
    names the skills (and ``global``) whose level an auditeur set: their reasons say so
    instead of quoting θ.
    """
    reasons: list[str] = []
    for skill, result in skill_results.items():
        name = SKILL_NAMES.get(skill, skill)
        if result is None:
            reasons.append(f"{name} : non évaluée.")
        elif skill in corrected:
            reasons.append(f"{name} : niveau {result.level} (retenu par l'auditeur).")
        else:
            reasons.append(
                f"{name} : niveau {result.level} (θ = {_fr(result.theta)} ± {_fr(result.se)})."
            )
    if non_reader and not policy.non_reader_dispense:
        reasons.append(
            "Candidat marqué non-lecteur / non-scripteur : "
            + (policy.non_reader_label or "parcours le plus long")
            + "."
        )
        return Decision(
            "prescription",
            policy.non_reader_hours,
            (),
            tuple(reasons),
            policy.label,
            policy.wording.get("non_reader", policy.wording["prescription"]).format(
                hours=policy.non_reader_hours
            ),
            rule="non_reader",
        )
    counted = [
        s for s in policy.dispense_skills if not (non_reader and skill_results.get(s) is None)
    ]
    missing = [s for s in counted if skill_results.get(s) is None]
    below = [
        s for s in counted
        if (r := skill_results.get(s)) is not None and not _at_least(r.level, policy.dispense_level)
    ]  # fmt: skip
    if counted and not missing and not below:
        trainings = optional_trainings_for(
            policy, {s: r.level if r is not None else None for s, r in skill_results.items()}
        )
        reasons.append(
            f"Niveau {policy.dispense_level} atteint dans chaque compétence évaluée "
            f"({', '.join(s for s in counted)}) : dispense de formation linguistique."
        )
        return Decision(
            "dispense",
            0,
            trainings,
            tuple(reasons),
            policy.label,
            policy.wording["dispense"],
            rule="dispense",
        )
    if missing:
        reasons.append(
            "Dispense impossible : compétence(s) non évaluée(s) "
            + ", ".join(SKILL_NAMES.get(s, s) for s in missing)
            + "."
        )
    if below:
        reasons.append(
            f"Niveau {policy.dispense_level} non atteint en "
            + ", ".join(SKILL_NAMES.get(s, s) for s in below)
            + "."
        )
    hours = policy.bands[-1].hours
    band_label = policy.bands[-1].label
    if global_result is None and any(r is not None for r in skill_results.values()):
        raise InvalidPolicy("decide() needs the global level to choose the band; use assess()")
    if global_result is not None:
        cuts = dict(global_cuts or {})
        debutant = cuts.get("débutant")
        if debutant is None and policy.debutant_below in cuts:
            debutant = cuts[policy.debutant_below] - policy.debutant_offset
        for band in policy.bands:
            if band.min_level is not None and not _at_least(global_result.level, band.min_level):
                continue
            if band.above_debutant and (debutant is None or global_result.theta < debutant):
                continue
            hours, band_label = band.hours, band.label
            break
        how = (
            "retenu par l'auditeur"
            if "global" in corrected
            else f"θ = {_fr(global_result.theta)} ± {_fr(global_result.se)}"
        )
        reasons.append(
            f"Niveau global {global_result.level} ({how}) : {band_label}, {hours} heures."
        )
    else:
        reasons.append(f"Aucune compétence évaluée : {band_label}, {hours} heures.")
    return Decision(
        "prescription", hours, (), tuple(reasons), policy.label,
        policy.wording["prescription"].format(hours=hours), rule="band",
    )  # fmt: skip


def assess(
    estimates: Mapping[str, Estimate | None],
    cuts: Mapping[str, Mapping[str, float]],
    policy: Policy | str = DEFAULT_POLICY,
    non_reader: bool = False,
    *,
    joint: JointPosterior | None = None,
    triage_rule: Triage | None = None,
) -> Assessment:
    """Levels per skill, the global level and the decision of ``policy``.

    With ``joint`` (the joint posterior of the skills, :func:`placement.cat.decision_posterior`)
    the decision is the more probable one (:func:`with_probabilities`) and carries its
    probabilities and whether ``triage_rule`` (default :class:`~placement.cat.Triage`) refers it
    to the auditeur.

    Parameters
    ----------
    estimates : mapping skill -> Estimate or None
        θ̂ and SE per skill; None (or absent) means "not assessed".
    cuts : mapping skill -> {level: θ}
        The release's cut scores.
    policy : Policy or str
        A policy or the name of a bundled one.
    non_reader : bool
        The auditeur's non-lecteur / non-scripteur mark.
    """
    if isinstance(policy, str):
        policy = load_policy(policy)
    skills = list(dict.fromkeys([*policy.dispense_skills, *estimates]))
    results: dict[str, LevelEstimate | None] = {}
    for skill in skills:
        estimate = estimates.get(skill)
        if estimate is None:
            results[skill] = None
            continue
        if skill not in cuts:
            raise InvalidPolicy(f"pas de seuils CECR pour la compétence {skill!r}")
        results[skill] = level_estimate(estimate, cuts[skill])
    combined = combine(estimates, cuts, policy.weights)
    global_result: LevelEstimate | None = None
    global_cuts: dict[str, float] = {}
    if combined is not None:
        global_estimate, global_cuts = combined
        levels_only = {k: v for k, v in global_cuts.items() if k in CUT_LEVELS}
        global_result = level_estimate(global_estimate, levels_only)
    decision = decide(policy, results, non_reader, global_result, global_cuts)
    if joint is not None:
        decision = with_probabilities(decision, joint, policy, results, triage_rule or Triage())
    return Assessment(results, global_result, decision, non_reader, global_cuts)


def with_probabilities(
    decision: Decision,
    joint: JointPosterior,
    policy: Policy,
    skill_results: Mapping[str, LevelEstimate | None],
    triage_rule: Triage,
) -> Decision:
    """The decision of the joint posterior, with its probabilities and the triage.

    The levels' decision is kept when the joint posterior agrees with it; otherwise the more
    probable decision replaces it (a dispense needs :math:`P(\\text{dispense}) \\ge 0.5`;
    a prescription takes the most probable band of hours), and a reason says why. The
    ``triage`` block holds ``p_dispense``, ``p_hours`` (the probability of the hours decided,
    that of the dispense for a dispense), ``p_bands``, ``p_levels`` (per skill, the joint
    posterior's probability of reaching each level), ``referred`` and ``pivotal`` (the skill
    whose reaching the dispense level is most in doubt, its level and that probability).
    """
    kind = "dispense" if joint.dispense else "prescription"
    p_hours = joint.p_dispense if joint.dispense else joint.p_hours.get(joint.hours, 0.0)
    referred = triage_rule.referred(joint.p_dispense, joint.dispense, p_hours)
    block: dict[str, Any] = {
        "p_dispense": round(joint.p_dispense, 4),
        "p_hours": round(p_hours, 4),
        "p_bands": {str(h): round(p, 4) for h, p in joint.p_hours.items()},
        "p_levels": {
            s: {lv: round(p, 4) for lv, p in levels.items()}
            for s, levels in joint.p_at_least.items()
        },
        "referred": referred,
        "refer_between": list(triage_rule.refer_between),
        "pivotal": (
            {"skill": joint.pivotal[0], "level": joint.pivotal[1], "p": round(joint.pivotal[2], 4)}
            if joint.pivotal
            else None
        ),
    }
    if decision.kind == kind and decision.hours == joint.hours:
        return replace(decision, triage=block)
    reasons = [
        *decision.reasons,
        (
            f"Probabilité que le niveau {policy.dispense_level} soit atteint dans chaque "
            f"compétence : {_fr(joint.p_dispense)} ; décision la plus probable retenue."
        ),
    ]
    if kind == "dispense":
        trainings = optional_trainings_for(
            policy, {s: r.level if r is not None else None for s, r in skill_results.items()}
        )
        return Decision(
            "dispense", 0, trainings, tuple(reasons), policy.label, policy.wording["dispense"],
            rule="dispense", triage=block,
        )  # fmt: skip
    return Decision(
        "prescription", joint.hours, (), tuple(reasons), policy.label,
        policy.wording["prescription"].format(hours=joint.hours), rule="band", triage=block,
    )  # fmt: skip


def _within(theta: float, level: str, cuts: Mapping[str, float]) -> float:
    """``theta`` moved into the band of ``level`` (the band's lower cut when ``theta`` is NaN).

    A level an auditeur retained has no θ of its own: the machine's θ, kept inside the retained
    band, decides what the band alone cannot (above or below the débutant cut).
    """
    index = LEVELS.index(level)
    low = float(cuts[level]) if index > 0 else -math.inf
    high = float(cuts[LEVELS[index + 1]]) if index + 1 < len(LEVELS) else math.inf
    if math.isnan(theta):
        return low
    return min(max(theta, low), math.nextafter(high, -math.inf))


def reassess(
    estimates: Mapping[str, Estimate | None],
    cuts: Mapping[str, Mapping[str, float]],
    retained: Mapping[str, str],
    policy: Policy | str = DEFAULT_POLICY,
    non_reader: bool = False,
) -> Assessment:
    """:func:`assess` with the levels an auditeur retained in place of the computed ones.

    The one way from levels to a decision: the machine's levels, each replaced by the level
    the auditeur retained for that skill (or ``global``), go through the same :func:`decide`.
    A retained level keeps the machine's θ inside its band (see :func:`_within`), so that the
    débutant cut still separates the lower bands.

    Parameters
    ----------
    estimates : mapping skill -> Estimate or None
        The machine's θ̂ and SE per skill.
    cuts : mapping skill -> {level: θ}
        The release's cut scores.
    retained : mapping skill or ``"global"`` -> level
        The auditeur's levels; skills absent keep the machine's.
    """
    if isinstance(policy, str):
        policy = load_policy(policy)
    machine = assess(estimates, cuts, policy, non_reader)
    for skill, level in retained.items():
        _level(level, f"retained level of {skill}")
    skills: dict[str, LevelEstimate | None] = dict(machine.skills)
    for skill, level in retained.items():
        if skill == "global" or skill not in cuts:
            continue
        before = skills.get(skill)
        theta = before.theta if before is not None else math.nan
        skills[skill] = LevelEstimate(
            level, {}, _within(theta, level, cuts[skill]), before.se if before else math.nan
        )
    global_result = machine.global_level
    global_cuts = dict(machine.global_cuts)
    if "global" in retained:
        if not global_cuts:  # nothing assessed: the plain mean of the cuts places the level
            counted = [s for s in policy.dispense_skills if s in cuts] or list(cuts)
            global_cuts = {
                lv: sum(float(cuts[s][lv]) for s in counted) / len(counted) for lv in CUT_LEVELS
            }
        before_g = global_result
        theta = before_g.theta if before_g is not None else math.nan
        level_cuts = {k: v for k, v in global_cuts.items() if k in CUT_LEVELS}
        global_result = LevelEstimate(
            retained["global"],
            {},
            _within(theta, retained["global"], level_cuts),
            before_g.se if before_g else math.nan,
        )
    decision = decide(
        policy, skills, non_reader, global_result, global_cuts, corrected=frozenset(retained)
    )
    return Assessment(skills, global_result, decision, non_reader, global_cuts)
