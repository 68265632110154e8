"""The CAT rules: blueprint, selection, exposure control, stopping, prior and pretest seeding.

``Rules`` is plain data (frozen dataclasses of numbers, strings and tuples) so that the pure
core can hold it; it is built from a mapping by :meth:`Rules.from_mapping`. Reading a YAML
file is not the core's business (it imports numpy and scipy only):
:func:`placement.rules.load_rules` parses ``placement/rules/*.yaml`` and calls
:meth:`Rules.from_mapping`, and :func:`placement.rules.default_rules` loads the bundled CIR
rules. The release's cut scores and skill correlation can live in the rules (defaults) or
in the :class:`~placement.cat.state.TestState` (which wins): the server fills the state from
the release, so one rules file serves every bank version.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from placement.irt.errors import InvalidRules
from placement.irt.estimation import ESTIMATORS

SELECTION_METHODS = ("max_info", "posterior_weighted", "a_stratified", "decision")
CLASSIFICATION_METHODS = ("none", "ci", "sprt", "decision")
SKILL_ORDER = ("CO", "CE", "EO", "EE")
NON_READER_SKILLS = ("CO", "EO")  # the default: listening and speaking
LEVELS = ("pré-A1", "A1.1", "A1", "A2", "B1")


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the test: the items of one skill, given one after the other.

    ``se_target`` overrides :attr:`Stopping.se_target` for this section when set.
    ``item_seconds``: the expected time of one item of the section; with a time limit, a
    section past its minimum ends once one more item would leave too little time for the
    minimums of the sections after it (``time_budget``), so that no skill goes unassessed.
    """

    skill: str
    min_items: int
    max_items: int
    se_target: float | None = None
    item_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Themes:
    """Content balance by theme.

    ``min_items``: each theme in ``names`` gets at least this many operational items in the
    whole test (as far as the pool allows); ``max_share``: within a section no theme takes more
    than ``ceil(max_share * section.max_items)`` items.
    """

    names: tuple[str, ...] = ("vie pratique", "vie publique", "vie professionnelle")
    min_items: int = 1
    max_share: float = 1.0


@dataclass(frozen=True, slots=True)
class Selection:
    """How the next item is chosen among the eligible ones.

    ``max_info``: Fisher information at θ̂; ``posterior_weighted``: information averaged over
    the current posterior; ``a_stratified``: Chang & Ying's a-stratification with ``strata``
    strata of increasing ``a`` over the section, choosing the item whose ``b`` is nearest θ̂.
    """

    method: str = "max_info"
    strata: int = 4


@dataclass(frozen=True, slots=True)
class Exposure:
    """Exposure control.

    ``randomesque_k``: the item is drawn uniformly among the ``k`` best (1 = no randomesque).
    ``sympson_hetter``: item id -> exposure-control parameter ``K_i`` in (0, 1] (items absent
    have ``K = 1``); the ranked candidates are accepted with probability ``K_i`` in turn.
    Compute the parameters with :func:`placement.simulation.sympson_hetter_parameters`.
    """

    randomesque_k: int = 1
    sympson_hetter: Mapping[str, float] = field(default_factory=dict)
    #: the parameters fitted on non-readers (their pool and path differ); empty: ``sympson_hetter``
    sympson_hetter_non_reader: Mapping[str, float] = field(default_factory=dict)
    #: the maximum exposure rate the parameters are fitted for (``placement exposure``)
    target: float = 0.25


@dataclass(frozen=True, slots=True)
class Classification:
    """Classification stopping around cut scores.

    ``ci``: stop when :math:`[\\hat\\theta - z SE, \\hat\\theta + z SE]` contains none of the
    cuts of ``levels``. ``sprt``: Wald's test of :math:`\\theta = c - \\delta` against
    :math:`c + \\delta` at each cut ``c``; stop when every cut is decided with error rates
    ``alpha`` and ``beta``. ``decision``: stop when the rest of the section's items can no
    longer change the *final decision* materially: the expected fall of the probability that
    the dispense decision is wrong, plus the skill's share of that of the hours, from the
    section's remaining items, is below ``voi_min`` (value of information; see
    :mod:`placement.cat.step`). ``hold_se``: the SE rule may not end
    a section while a cut is still undecided (the decision matters more than the precision).
    ``carry_over``: the items a section leaves unused raise the maximum of the sections after
    it (within the test's maximum and time limit), so the budget goes where the decision is
    still open.
    """

    method: str = "ci"
    levels: tuple[str, ...] = ("A1",)
    z: float = 1.96
    delta: float = 0.3
    alpha: float = 0.05
    beta: float = 0.05
    hold_se: bool = False
    voi_min: float = 0.01
    carry_over: bool = False


@dataclass(frozen=True, slots=True)
class Triage:
    """When a decision is referred to the auditeur instead of proposed.

    A decision is referred when :math:`P(\text{dispense})` lies strictly inside
    ``refer_between``, or, for a prescription, when ``hours_below`` is set and the probability
    of the prescribed hours is below it.
    """

    refer_between: tuple[float, float] = (0.15, 0.85)
    hours_below: float | None = None

    def referred(self, p_dispense: float, dispense: bool, p_hours: float) -> bool:
        """Whether a decision with these probabilities goes to the auditeur."""
        lo, hi = self.refer_between
        if lo <= p_dispense <= hi:
            return True
        return not dispense and self.hours_below is not None and p_hours < self.hours_below


@dataclass(frozen=True, slots=True)
class Stopping:
    """Stopping rules; their precedence is documented in :mod:`placement.cat.stopping`."""

    se_target: float | None = 0.30
    classification: Classification = field(default_factory=Classification)
    min_items: int = 0
    max_items: int | None = None
    time_limit_s: float | None = None


@dataclass(frozen=True, slots=True)
class Prior:
    """The ability prior: :math:`N(mean, sd^2)` per skill, correlated across skills.

    With ``borrow``, a section's prior is the normal conditioned on the sections before it
    through ``skill_correlation`` (see :mod:`placement.cat.prior`).
    """

    mean: float = 0.0
    sd: float = 1.0
    borrow: bool = True


@dataclass(frozen=True, slots=True)
class Pretest:
    """Pretest seeding: a ``share`` of candidates get ``items`` pretest items.

    Pretest items are placed at random positions inside the sections that have some (never
    first in a section, always before the section's minimum is reached); their responses are
    stored but never enter θ̂ nor the item counts of the blueprint.
    """

    share: float = 0.0
    items: int = 0


@dataclass(frozen=True, slots=True)
class Rules:
    """Everything that drives one adaptive test (see ``placement/rules/cir.yaml``).

    Attributes
    ----------
    sections : tuple of Section
        The sections in the order they are given.
    non_reader_skills : tuple of str
        The skills a non-reader is tested on, with non-reader items only; the others are
        "not assessed". Skills without a section are ignored (one default serves banks of a
        single skill).
    non_reader_sections : tuple of Section
        The non-readers' own lengths for some of their sections (a non-reader takes no CE
        nor EE, so the time of those sections is free for the others); each replaces the
        section of its skill on the non-reader path (an override of a skill off the path is
        ignored, so rules narrowed to fewer sections keep working; a rules file naming one is
        refused when read). See :meth:`path_sections`.
    themes, selection, exposure, stopping, prior, pretest
        See their classes.
    estimator : str
        ``eap`` (default), ``map``, ``wle`` or ``ml`` for the reported θ̂ (selection and
        stopping always use the EAP posterior).
    cut_scores : mapping skill -> {level: θ}
        Default cut scores (A1.1, A1, A2, B1) when the state carries none.
    skill_correlation : tuple of tuple of float, (S, S)
        Default correlation between the skills in ``skill_order``.
    skill_order : tuple of str
        The order of the rows of ``skill_correlation``.
    version : str
        A label kept in results.
    """

    sections: tuple[Section, ...]
    non_reader_skills: tuple[str, ...] = NON_READER_SKILLS
    non_reader_sections: tuple[Section, ...] = ()
    themes: Themes = field(default_factory=Themes)
    selection: Selection = field(default_factory=Selection)
    exposure: Exposure = field(default_factory=Exposure)
    stopping: Stopping = field(default_factory=Stopping)
    prior: Prior = field(default_factory=Prior)
    pretest: Pretest = field(default_factory=Pretest)
    triage: Triage = field(default_factory=Triage)
    estimator: str = "eap"
    cut_scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    skill_correlation: tuple[tuple[float, ...], ...] | None = None
    skill_order: tuple[str, ...] = SKILL_ORDER
    version: str = "custom"

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def skills(self) -> tuple[str, ...]:
        """The skills of the sections, in test order."""
        return tuple(s.skill for s in self.sections)

    def path_sections(self, non_reader: bool = False) -> tuple[Section, ...]:
        """The sections of a path, in test order.

        Readers take every section; non-readers the sections of ``non_reader_skills``, each
        replaced by its ``non_reader_sections`` entry when there is one. The engine, the
        tablet's progress, exposure fitting and the bank checks all read the path from here.
        """
        if not non_reader:
            return self.sections
        own = {s.skill: s for s in self.non_reader_sections}
        return tuple(
            own.get(s.skill, s) for s in self.sections if s.skill in self.non_reader_skills
        )

    def section(self, skill: str) -> Section:
        """The section of ``skill``; raises ``KeyError`` when there is none."""
        for s in self.sections:
            if s.skill == skill:
                return s
        raise KeyError(f"aucune section pour la compétence {skill!r}")

    def with_changes(self, **changes: Any) -> Rules:
        """A copy with some top-level fields replaced (validated again)."""
        return replace(self, **changes)

    # ------------------------------------------------------------------ building

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Rules:
        """Build rules from plain data (the parsed YAML of ``placement/rules/*.yaml``).

        Raises
        ------
        InvalidRules
            Unknown keys, wrong types, or inconsistent values, with the key named.
        """
        return _from_mapping(data)


# ---------------------------------------------------------------------- validation


def _check_section(s: Section, where: str) -> None:
    if s.min_items < 0 or s.max_items < 1 or s.min_items > s.max_items:
        raise InvalidRules(
            f"{where} : il faut 0 ≤ min_items ≤ max_items et max_items ≥ 1, "
            f"reçu {s.min_items}..{s.max_items}"
        )
    if s.se_target is not None and not s.se_target > 0:
        raise InvalidRules(f"{where} : se_target doit être > 0")
    if s.item_seconds is not None and not s.item_seconds > 0:
        raise InvalidRules(f"{where} : item_seconds doit être > 0")


def _validate(rules: Rules) -> None:
    if not rules.sections:
        raise InvalidRules("le plan de test n'a aucune section (sections est vide)")
    # an override of a skill off the non-reader path is ignored, as non_reader_skills without
    # a section are (rules narrowed to fewer sections keep working); a file is checked when read
    for group, where in (
        (rules.sections, "section"),
        (rules.non_reader_sections, "non_reader_sections"),
    ):
        seen: set[str] = set()
        for s in group:
            if s.skill in seen:
                raise InvalidRules(f"{where} : la compétence {s.skill!r} a deux sections")
            seen.add(s.skill)
            _check_section(s, f"{where} {s.skill}")
    if rules.themes.min_items < 0:
        raise InvalidRules("themes.min_items doit être ≥ 0")
    if not 0 < rules.themes.max_share <= 1:
        raise InvalidRules("themes.max_share doit être dans ]0, 1]")
    if rules.selection.method not in SELECTION_METHODS:
        raise InvalidRules(
            f"selection.method {rules.selection.method!r} n'est pas l'une de {SELECTION_METHODS}"
        )
    if rules.selection.strata < 1:
        raise InvalidRules("selection.strata doit être ≥ 1")
    if rules.exposure.randomesque_k < 1:
        raise InvalidRules("exposure.randomesque_k doit être ≥ 1")
    for name in ("sympson_hetter", "sympson_hetter_non_reader"):
        for item_id, k in getattr(rules.exposure, name).items():
            if not (isinstance(k, int | float) and 0 < k <= 1):
                raise InvalidRules(f"exposure.{name}[{item_id!r}] = {k!r} n'est pas dans ]0, 1]")
    if not 0 < rules.exposure.target <= 1:
        raise InvalidRules("exposure.target doit être dans ]0, 1]")
    lo, hi = rules.triage.refer_between
    if not 0 <= lo <= hi <= 1:
        raise InvalidRules(
            "triage.refer_between doit être deux probabilités, la plus petite d'abord"
        )
    if rules.triage.hours_below is not None and not 0 < rules.triage.hours_below <= 1:
        raise InvalidRules("triage.hours_below doit être dans ]0, 1]")
    st = rules.stopping
    if st.se_target is not None and not st.se_target > 0:
        raise InvalidRules("stopping.se_target doit être > 0")
    if st.min_items < 0:
        raise InvalidRules("stopping.min_items doit être ≥ 0")
    if st.max_items is not None and st.max_items < max(1, st.min_items):
        raise InvalidRules("stopping.max_items doit être ≥ 1 et ≥ stopping.min_items")
    if st.time_limit_s is not None and not st.time_limit_s > 0:
        raise InvalidRules("stopping.time_limit_s doit être > 0")
    cl = st.classification
    if cl.method not in CLASSIFICATION_METHODS:
        raise InvalidRules(
            f"stopping.classification.method {cl.method!r} n'est pas l'une de "
            f"{CLASSIFICATION_METHODS}"
        )
    for level in cl.levels:
        if level not in LEVELS[1:]:
            raise InvalidRules(f"stopping.classification.levels : seuil inconnu {level!r}")
    if not cl.z > 0 or not cl.delta > 0:
        raise InvalidRules("stopping.classification : z et delta doivent être > 0")
    if not 0 < cl.voi_min < 1:
        raise InvalidRules("stopping.classification.voi_min doit être dans ]0, 1[")
    if not (0 < cl.alpha < 0.5 and 0 < cl.beta < 0.5):
        raise InvalidRules("stopping.classification : alpha et beta doivent être dans ]0, 0,5[")
    if not rules.prior.sd > 0 or not math.isfinite(rules.prior.mean):
        raise InvalidRules("prior : sd doit être > 0 et mean un nombre fini")
    if not 0 <= rules.pretest.share <= 1 or rules.pretest.items < 0:
        raise InvalidRules("pretest : share doit être dans [0, 1] et items ≥ 0")
    if rules.estimator not in ESTIMATORS:
        raise InvalidRules(f"estimator {rules.estimator!r} n'est pas l'un de {ESTIMATORS}")
    check_cut_scores(rules.cut_scores)
    if rules.skill_correlation is not None:
        check_correlation(rules.skill_correlation, rules.skill_order)


def check_cut_scores(cut_scores: Mapping[str, Mapping[str, float]]) -> None:
    """Raise :class:`InvalidRules` unless every skill's cuts are finite and increasing."""
    for skill, cuts in cut_scores.items():
        values = []
        for level in LEVELS[1:]:
            if level in cuts:
                value = cuts[level]
                if not isinstance(value, int | float) or not math.isfinite(value):
                    raise InvalidRules(f"cut_scores {skill}/{level} n'est pas un nombre fini")
                values.append(float(value))
        unknown = set(cuts) - set(LEVELS[1:]) - {"débutant"}
        if unknown:
            raise InvalidRules(f"cut_scores de {skill} : niveau(x) inconnu(s) {sorted(unknown)}")
        if any(b <= a for a, b in itertools.pairwise(values)):
            raise InvalidRules(
                f"cut_scores de {skill} : les seuils doivent croître avec le niveau : {values}"
            )


def check_correlation(matrix: Sequence[Sequence[float]], order: Sequence[str]) -> None:
    """Raise :class:`InvalidRules` unless ``matrix`` is a valid correlation matrix for ``order``."""
    n = len(order)
    if len(matrix) != n or any(len(row) != n for row in matrix):
        raise InvalidRules(f"skill_correlation doit être {n}x{n} (ordre {list(order)})")
    for i in range(n):
        if abs(float(matrix[i][i]) - 1.0) > 1e-9:
            raise InvalidRules("skill_correlation doit avoir des 1 sur sa diagonale")
        for j in range(n):
            value = float(matrix[i][j])
            if (not -1 < value <= 1 and i != j) or abs(value - float(matrix[j][i])) > 1e-9:
                raise InvalidRules("skill_correlation doit être symétrique, de termes dans ]-1, 1[")
    # positive definiteness by Cholesky, without numpy (rules are plain data)
    lower = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = float(matrix[i][j]) - sum(lower[i][k] * lower[j][k] for k in range(j))
            if i == j:
                if s <= 1e-12:
                    raise InvalidRules("skill_correlation n'est pas définie positive")
                lower[i][i] = math.sqrt(s)
            else:
                lower[i][j] = s / lower[j][j]


# ---------------------------------------------------------------------- parsing


def _take(data: Mapping[str, Any], where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidRules(f"{where} doit être une table de clés et de valeurs, reçu {_kind(data)}")
    unknown = set(data) - allowed
    if unknown:
        raise InvalidRules(f"{where} : clé(s) inconnue(s) {sorted(unknown)}")
    return dict(data)


def _kind(value: Any) -> str:
    """What a YAML value is, in words, for a message."""
    if isinstance(value, bool):
        return f"un booléen ({value!r})"
    if isinstance(value, int | float):
        return f"un nombre ({value!r})"
    if isinstance(value, str):
        return f"un texte ({value!r})"
    if value is None:
        return "rien"
    if isinstance(value, Sequence):
        return "une liste"
    return type(value).__name__


def _names(value: Any, where: str) -> tuple[str, ...]:
    """A list of names (skills, themes, levels); one name alone is a list of one."""
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Sequence) or isinstance(value, bytes):
        raise InvalidRules(f"{where} doit être une liste de noms, reçu {_kind(value)}")
    return tuple(str(x) for x in value)


def _number(value: Any, where: str, kind: type = float) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRules(f"{where} doit être un nombre, reçu {value!r}")
    if kind is int:
        if int(value) != value:
            raise InvalidRules(f"{where} doit être un nombre entier, reçu {value!r}")
        return int(value)
    return float(value)


def _opt_number(value: Any, where: str, kind: type = float) -> Any:
    return None if value is None else _number(value, where, kind)


def _non_reader_sections(
    raw: Any, main: Mapping[str, Section], on_path: Sequence[str]
) -> tuple[Section, ...]:
    """The non-readers' section overrides: what an entry leaves out is its main section's."""
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise InvalidRules("règles : 'non_reader_sections' doit être une liste de sections")
    out = []
    for i, entry in enumerate(raw):
        where = f"non_reader_sections[{i}]"
        s = _take(entry, where, {"skill", "min_items", "max_items", "se_target", "item_seconds"})
        skill = s.get("skill")
        if not isinstance(skill, str):
            raise InvalidRules(f"{where} : 'skill' est obligatoire")
        if skill not in main:
            raise InvalidRules(f"{where} : pas de section {skill!r} dans 'sections' à remplacer")
        if skill not in on_path:
            raise InvalidRules(
                f"{where} : {skill!r} n'est pas une section du parcours des non-lecteurs"
            )
        base = main[skill]
        out.append(
            Section(
                skill=skill,
                min_items=_number(s.get("min_items", base.min_items), f"{where}.min_items", int),
                max_items=_number(s.get("max_items", base.max_items), f"{where}.max_items", int),
                se_target=_opt_number(s.get("se_target", base.se_target), f"{where}.se_target"),
                item_seconds=_opt_number(
                    s.get("item_seconds", base.item_seconds), f"{where}.item_seconds"
                ),
            )
        )
    return tuple(out)


def _from_mapping(data: Mapping[str, Any]) -> Rules:
    top = _take(
        data,
        "règles",
        {
            "version", "sections", "non_reader_skills", "themes", "selection", "exposure",
            "stopping", "prior", "pretest", "estimator", "cut_scores", "skill_correlation",
            "skill_order", "description", "triage", "non_reader_sections",
        },
    )  # fmt: skip
    raw_sections = top.get("sections")
    if not isinstance(raw_sections, Sequence) or isinstance(raw_sections, str | bytes):
        raise InvalidRules("règles : 'sections' doit être une liste de sections")
    sections = []
    for i, raw in enumerate(raw_sections):
        s = _take(
            raw,
            f"sections[{i}]",
            {"skill", "min_items", "max_items", "se_target", "item_seconds"},
        )
        if not isinstance(s.get("skill"), str):
            raise InvalidRules(f"sections[{i}] : 'skill' est obligatoire")
        sections.append(
            Section(
                skill=s["skill"],
                min_items=_number(s.get("min_items", 0), f"sections[{i}].min_items", int),
                max_items=_number(s.get("max_items"), f"sections[{i}].max_items", int),
                se_target=_opt_number(s.get("se_target"), f"sections[{i}].se_target"),
                item_seconds=_opt_number(s.get("item_seconds"), f"sections[{i}].item_seconds"),
            )
        )
    kwargs: dict[str, Any] = {"sections": tuple(sections)}
    if "version" in top:
        kwargs["version"] = str(top["version"])
    if "non_reader_skills" in top:
        kwargs["non_reader_skills"] = _names(top["non_reader_skills"], "non_reader_skills")
    if top.get("non_reader_sections") is not None:
        kwargs["non_reader_sections"] = _non_reader_sections(
            top["non_reader_sections"],
            {s.skill: s for s in sections},
            kwargs.get("non_reader_skills", NON_READER_SKILLS),
        )
    if "estimator" in top:
        kwargs["estimator"] = str(top["estimator"])
    if "skill_order" in top:
        kwargs["skill_order"] = _names(top["skill_order"], "skill_order")
    if "themes" in top:
        t = _take(top["themes"], "themes", {"names", "min_items", "max_share"})
        kwargs["themes"] = Themes(
            names=_names(t.get("names", Themes().names), "themes.names"),
            min_items=_number(t.get("min_items", 1), "themes.min_items", int),
            max_share=_number(t.get("max_share", 1.0), "themes.max_share"),
        )
    if "selection" in top:
        t = _take(top["selection"], "selection", {"method", "strata"})
        kwargs["selection"] = Selection(
            method=str(t.get("method", "max_info")),
            strata=_number(t.get("strata", 4), "selection.strata", int),
        )
    if "exposure" in top:
        t = _take(
            top["exposure"],
            "exposure",
            {"randomesque_k", "sympson_hetter", "sympson_hetter_non_reader", "target"},
        )
        parameters = {}
        for name in ("sympson_hetter", "sympson_hetter_non_reader"):
            sh = t.get(name) or {}
            if not isinstance(sh, Mapping):
                raise InvalidRules(
                    f"exposure.{name} doit associer des identifiants d'items à des nombres"
                )
            parameters[name] = {str(k): _number(v, f"exposure.{name}[{k}]") for k, v in sh.items()}
        kwargs["exposure"] = Exposure(
            randomesque_k=_number(t.get("randomesque_k", 1), "exposure.randomesque_k", int),
            target=_number(t.get("target", 0.25), "exposure.target"),
            **parameters,
        )
    if "triage" in top:
        t = _take(top["triage"], "triage", {"refer_between", "hours_below"})
        band = t.get("refer_between", (0.15, 0.85))
        if not isinstance(band, Sequence) or isinstance(band, str) or len(band) != 2:
            raise InvalidRules("triage.refer_between doit être une liste de deux probabilités")
        kwargs["triage"] = Triage(
            refer_between=(
                _number(band[0], "triage.refer_between[0]"),
                _number(band[1], "triage.refer_between[1]"),
            ),
            hours_below=_opt_number(t.get("hours_below"), "triage.hours_below"),
        )
    if "stopping" in top:
        t = _take(
            top["stopping"],
            "stopping",
            {"se_target", "classification", "min_items", "max_items", "time_limit_s"},
        )
        classification = Classification()
        if "classification" in t:
            c = _take(
                t["classification"],
                "stopping.classification",
                {
                    "method",
                    "levels",
                    "z",
                    "delta",
                    "alpha",
                    "beta",
                    "hold_se",
                    "voi_min",
                    "carry_over",
                },
            )
            levels = c.get("levels", ("A1",))
            classification = Classification(
                method=str(c.get("method", "ci")),
                levels=_names(levels, "stopping.classification.levels"),
                z=_number(c.get("z", 1.96), "stopping.classification.z"),
                delta=_number(c.get("delta", 0.3), "stopping.classification.delta"),
                alpha=_number(c.get("alpha", 0.05), "stopping.classification.alpha"),
                beta=_number(c.get("beta", 0.05), "stopping.classification.beta"),
                hold_se=bool(c.get("hold_se", False)),
                voi_min=_number(c.get("voi_min", 0.01), "stopping.classification.voi_min"),
                carry_over=bool(c.get("carry_over", False)),
            )
        kwargs["stopping"] = Stopping(
            se_target=_opt_number(t.get("se_target", 0.3), "stopping.se_target"),
            classification=classification,
            min_items=_number(t.get("min_items", 0), "stopping.min_items", int),
            max_items=_opt_number(t.get("max_items"), "stopping.max_items", int),
            time_limit_s=_opt_number(t.get("time_limit_s"), "stopping.time_limit_s"),
        )
    if "prior" in top:
        t = _take(top["prior"], "prior", {"mean", "sd", "borrow"})
        kwargs["prior"] = Prior(
            mean=_number(t.get("mean", 0.0), "prior.mean"),
            sd=_number(t.get("sd", 1.0), "prior.sd"),
            borrow=bool(t.get("borrow", True)),
        )
    if "pretest" in top:
        t = _take(top["pretest"], "pretest", {"share", "items"})
        kwargs["pretest"] = Pretest(
            share=_number(t.get("share", 0.0), "pretest.share"),
            items=_number(t.get("items", 0), "pretest.items", int),
        )
    if "cut_scores" in top:
        cuts = top["cut_scores"] or {}
        if not isinstance(cuts, Mapping) or not all(isinstance(v, Mapping) for v in cuts.values()):
            raise InvalidRules("cut_scores doit associer à chaque compétence {niveau: theta}")
        kwargs["cut_scores"] = {
            str(skill): {str(lv): _number(x, f"cut_scores.{skill}.{lv}") for lv, x in v.items()}
            for skill, v in cuts.items()
        }
    if top.get("skill_correlation") is not None:
        matrix = top["skill_correlation"]
        try:
            kwargs["skill_correlation"] = tuple(tuple(float(x) for x in row) for row in matrix)
        except (TypeError, ValueError):
            raise InvalidRules(
                "skill_correlation doit être une liste carrée de listes de nombres"
            ) from None
    return Rules(**kwargs)
