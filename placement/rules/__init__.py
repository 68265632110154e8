"""CAT rules files: ``placement/rules/*.yaml`` parsed into :class:`placement.cat.Rules`.

The pure core (:mod:`placement.cat`) holds the ``Rules`` dataclass but may not import a YAML
library; this module reads the files. ``cir.yaml`` is the default blueprint of the CIR test.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

from placement.cat.rules import Rules, Section, Stopping, Themes
from placement.errors import BlueprintUnsatisfiable, InvalidRules
from placement.irt import Pool

RULES_DIR = Path(__file__).resolve().parent
DEFAULT_RULES = RULES_DIR / "cir.yaml"


def load_rules(path: str | Path) -> Rules:
    """Read a rules YAML file (a path, or the name of a bundled file such as ``"cir"``).

    Raises
    ------
    InvalidRules
        The file is missing, not YAML, or its content is not valid rules (the message names
        the file and the key).
    """
    candidate = Path(path)
    if not candidate.exists() and (RULES_DIR / f"{path}.yaml").exists():
        candidate = RULES_DIR / f"{path}.yaml"
    try:
        text = candidate.read_text(encoding="utf-8")
    except FileNotFoundError:
        bundled = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.yaml")))
        raise InvalidRules(
            f"{path} : fichier de règles introuvable (règles livrées : {bundled})"
        ) from None
    except OSError as exc:
        raise InvalidRules(
            f"{path} : fichier de règles illisible ({exc.strerror or exc})"
        ) from None
    except UnicodeDecodeError:
        raise InvalidRules(f"{candidate} : le texte n'est pas en UTF-8") from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidRules(f"{candidate} : YAML invalide{_yaml_where(exc)}") from None
    if not isinstance(data, dict):
        raise InvalidRules(
            f"{candidate} : un fichier de règles est une table de clés et de valeurs "
            "(sections:, stopping:, …)"
        )
    try:
        return Rules.from_mapping(data)
    except InvalidRules as exc:
        raise type(exc)(f"{candidate} : {exc}") from None


def _yaml_where(exc: yaml.YAMLError) -> str:
    """``, ligne L, colonne C`` of a YAML error, counted from 1 as an editor shows them.

    PyYAML's own description of the fault is English and left out: the line is what a
    person needs to find it.
    """
    mark = getattr(exc, "problem_mark", None)
    return f", ligne {mark.line + 1}, colonne {mark.column + 1}" if mark is not None else ""


def default_rules() -> Rules:
    """The bundled CIR rules (``placement/rules/cir.yaml``)."""
    return load_rules(DEFAULT_RULES)


#: Section length (min, max) of a skill the base rules have no section for.
DEFAULT_SECTION_LENGTH = (8, 12)


def _label(skill: str) -> str:
    return skill or "(sans compétence)"


def _case_hint(labels: list[str], base: Rules, present: list[str]) -> str:
    """A hint for skill labels that are a known skill in other case or with spaces (``co``)."""
    pairs = [
        (s, s.strip().upper())
        for s in labels
        if s.strip().upper() in base.cut_scores and s.strip().upper() not in present
    ]
    if not pairs:
        return ""
    written = ", ".join(f"« {s} »" for s, _ in pairs)
    meant = ", ".join(f"« {k} »" for _, k in pairs)
    verb = "est-il" if len(pairs) == 1 else "sont-ils"
    return f" ; {written} {verb} {meant} ? (la colonne skill distingue les majuscules)"


def _operational_counts(pool: Pool) -> dict[str, int]:
    """Operational (non-pretest) items per skill, in order of first appearance."""
    counts: dict[str, int] = {}
    for skill, pretest in zip(pool.skills, pool.pretest, strict=True):
        counts.setdefault(skill, 0)
        if not pretest:
            counts[skill] += 1
    return counts


def rules_for_pool(
    pool: Pool,
    base: Rules | None = None,
    *,
    items: int | None = None,
    non_readers: bool = True,
) -> tuple[Rules, list[str]]:
    """Rules for any bank: one section per skill the pool has, the rest from ``base``.

    The sections follow ``base``'s order for the skills it knows (then the others, in the
    pool's order), with ``base``'s lengths (:data:`DEFAULT_SECTION_LENGTH` for a skill it has
    no section for), or exactly ``items`` items each (a fixed-length test: no overall maximum
    nor time limit then); a section never asks for more items than the pool has of its skill.
    Content balance runs over the themes the pool has. Selection, exposure, stopping, prior
    and cut scores are ``base``'s (the bundled CIR rules by default).

    Returns
    -------
    (Rules, list of str)
        The rules, and notes in French for the user: sections shortened to what the pool has,
        and what a rules file must add for a skill the base rules know nothing of (the
        non-readers' sections shortened too, unless ``non_readers`` is False: none is tested).

    Raises
    ------
    BlueprintUnsatisfiable
        The pool has no operational item.
    InvalidRules
        ``items`` below 1.
    """
    base = base or default_rules()
    if items is not None and items < 1:
        raise InvalidRules(f"--items doit valoir au moins 1 (reçu {items})")
    all_counts = _operational_counts(pool)
    counts = {s: n for s, n in all_counts.items() if n > 0}
    if not counts:
        raise BlueprintUnsatisfiable(
            "la banque n'a aucun item opérationnel (tous sont en prétest) : rien à simuler"
        )
    known = {s.skill: s for s in base.sections}
    order = [s.skill for s in base.sections if s.skill in counts]
    order += [s for s in counts if s not in known]
    notes: list[str] = []
    for skill, n in all_counts.items():
        if n == 0:  # pretest items only: no section, said rather than left out quietly
            pretest = sum(1 for s in pool.skills if s == skill)
            notes.append(
                f"compétence {_label(skill)} : aucun item opérationnel ({pretest} en prétest) : "
                "pas de section, elle n'est pas simulée"
            )
    sections = []
    for skill in order:
        have = counts[skill]
        if items is not None:
            low = high = items
        elif skill in known:
            low, high = known[skill].min_items, known[skill].max_items
        else:
            low, high = DEFAULT_SECTION_LENGTH
        if high > have:
            notes.append(
                f"section {_label(skill)} : {have} item(s) opérationnel(s) seulement, la section "
                f"en donne au plus {have} (au lieu de {low}–{high})"
                if low != high
                else f"section {_label(skill)} : {have} item(s) opérationnel(s) seulement, la "
                f"section en donne {have} (au lieu de {high})"
            )
        high = min(high, have)
        low = min(low, high)
        se_target = known[skill].se_target if skill in known and items is None else None
        seconds = known[skill].item_seconds if skill in known else None  # the time budget
        sections.append(Section(skill, low, high, se_target, seconds))
    themes_present = list(dict.fromkeys(t for t in pool.themes if t))
    names = [t for t in base.themes.names if t in themes_present]
    names += [t for t in themes_present if t not in names]
    themes = Themes(
        names=tuple(names),
        min_items=base.themes.min_items,
        max_share=base.themes.max_share if len(names) > 1 else 1.0,
    )
    own = _non_reader_sections(pool, base, sections, items, notes if non_readers else [])
    draft = base.with_changes(sections=tuple(sections), non_reader_sections=own)
    # the longer path's maxima (a non-reader's own sections may be longer than a reader's)
    total_max = max(
        sum(s.max_items for s in draft.path_sections(non_reader)) for non_reader in (False, True)
    )
    stopping = base.stopping
    if items is not None:
        # a fixed length per section: the sections end at their length, nothing earlier
        stopping = Stopping(
            se_target=None,
            classification=replace(stopping.classification, method="none"),
            min_items=0,
            max_items=None,
            time_limit_s=None,
        )
    elif stopping.max_items is not None and stopping.max_items < total_max:
        stopping = replace(stopping, max_items=total_max)
    missing_cuts = [s for s in order if s not in base.cut_scores]
    if missing_cuts:
        skills = ", ".join(_label(s) for s in missing_cuts)
        cuts = ", ".join(
            f"{s or 'COMPÉTENCE'}: {{A1.1: …, A1: …, A2: …, B1: …}}" for s in missing_cuts
        )
        notes.append(
            f"pas de seuils CECR pour {skills} : θ̂, précision et exposition sont mesurés, pas "
            f"les niveaux ni la décision ; pour les avoir, un fichier de règles (--rules) doit "
            f"ajouter à ses sections cut_scores: {{{cuts}}}, et, pour que les compétences "
            "s'informent entre elles, skill_order et skill_correlation qui les contiennent"
            + (
                " (les items sans compétence en reçoivent une par la colonne skill de la banque)"
                if "" in missing_cuts
                else ""
            )
            + _case_hint(missing_cuts, base, order)
        )
    adapted = (tuple(sections), own, themes, stopping) != (
        base.sections,
        base.non_reader_sections,
        base.themes,
        base.stopping,
    )
    rules = base.with_changes(
        sections=tuple(sections),
        non_reader_sections=own,
        themes=themes,
        stopping=stopping,
        # the base's version where nothing was adapted (a release's exposure control fitted
        # for those rules still holds), else the sections it became
        version=(
            f"{base.version} (sections : {', '.join(_label(s) for s in order)})"
            if adapted
            else base.version
        ),
    )
    return rules, notes


def _non_reader_sections(
    pool: Pool, base: Rules, sections: list[Section], items: int | None, notes: list[str]
) -> tuple[Section, ...]:
    """``base``'s non-reader overrides for the skills kept, within the pool's non-reader items.

    An override longer than the items marked ``non_reader`` is shortened to them, never below
    the minimum of the readers' section (a pool that cannot fill that stays refused, as
    without overrides). A fixed-length test (``items``) has none: every section gives exactly
    ``items`` items on both paths.
    """
    if items is not None:
        return ()
    marked: dict[str, int] = {}
    for skill, pretest, ok in zip(pool.skills, pool.pretest, pool.non_reader, strict=True):
        marked[skill] = marked.get(skill, 0) + int(bool(ok) and not pretest)
    kept = {s.skill: s for s in sections}
    out = []
    for own in base.non_reader_sections:
        if own.skill not in kept or own.skill not in base.non_reader_skills:
            continue
        have, floor = marked.get(own.skill, 0), kept[own.skill].min_items
        if have <= floor:  # the readers' section stands (and the blueprint says what is short)
            continue
        if own.max_items <= have:
            out.append(own)
            continue
        notes.append(
            f"section {_label(own.skill)} des non-lecteurs : {have} item(s) marqué(s) "
            f"non_reader seulement, la section en donne au plus {have} (au lieu de "
            f"{own.min_items}–{own.max_items})"
        )
        out.append(replace(own, max_items=have, min_items=max(min(own.min_items, have), floor)))
    return tuple(out)


def blueprint_gaps(pool: Pool, rules: Rules, *, non_reader: bool = False) -> list[str]:
    """What ``rules`` ask that the pool cannot give, one French line per section (empty: none).

    With ``non_reader``, the non-readers' path: the sections of ``rules.non_reader_skills``,
    filled with items marked ``non_reader`` only.
    """
    if not non_reader:
        counts = _operational_counts(pool)
        sections = rules.sections
    else:
        counts = {}
        for skill, pretest, ok in zip(pool.skills, pool.pretest, pool.non_reader, strict=True):
            counts[skill] = counts.get(skill, 0) + int(bool(ok) and not pretest)
        sections = rules.path_sections(non_reader=True)
        if not sections:
            skills = ", ".join(rules.non_reader_skills) or "aucune"
            gap = (
                f"aucune section pour les non-lecteurs : les règles les testent en {skills}, "
                "la banque n'a pas ces compétences"
            )
            return [gap]
    gaps = []
    for s in sections:
        have = counts.get(s.skill, 0)
        if have < s.min_items:
            what = "items marqués non_reader" if non_reader else "items"
            gaps.append(
                f"section {_label(s.skill)} : au moins {s.min_items} {what}, la banque en a {have}"
            )
    return gaps


__all__ = [
    "DEFAULT_RULES",
    "DEFAULT_SECTION_LENGTH",
    "RULES_DIR",
    "blueprint_gaps",
    "default_rules",
    "load_rules",
    "rules_for_pool",
]
