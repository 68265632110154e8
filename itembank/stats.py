"""Coverage of a bank or release: items per skill × level × theme, types, non-reader items, and
what is missing for the blueprint.

The blueprint (domain notes; the numbers are in :data:`BLUEPRINT`) gives each test CO 8–12,
CE 8–12, EO 3–6 and EE 2–4 items with at least one item of each theme. The bank needs more than
one test's worth so that no item is shown to more than a fraction ``max_exposure`` (0.25, the
literature's usual ceiling) of candidates. Requirements, per skill:

- items (pilot or operational) ≥ ⌈max items per test / max_exposure⌉ (CO 48, CE 48, EO 24, EE 16);
- items of each theme ≥ ⌈1 / max_exposure⌉ (4): every test needs one, exposure caps each at 1/4;
- items of each target level ≥ the minimum items per test, so that a candidate who stays in one
  level band still gets a full test of items aimed at them;
- for CO and EO (the non-reader path), non-reader items ≥ ⌈min items per test / max_exposure⌉.

The non-reader pool (items that need no reading, of the skills a non-reader takes: CO, EO) is
also counted by level × theme, with its own gaps: per skill ≥ ⌈max items per test /
max_exposure⌉ items, ≥ 4 of each theme, and ≥ the minimum items per test at each of the levels
a non-reader is placed in (A1.1, A1, A2: non-lecteurs are placed below B1 by the policy).

Item-writing checks on the keys of choice items (:func:`key_checks`): where the key sits among
the choices (a bank whose keys are mostly ``a`` teaches guessing), how often the key is strictly
the longest text choice (the classic length cue; by chance about 1/n of the items), and key
pictures shared by items that are not enemies (one item can give the other away).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from itembank.model import SKILLS, TARGET_LEVELS, THEMES, Item

#: Items per test and skill: (minimum, maximum).
BLUEPRINT: dict[str, tuple[int, int]] = {"CO": (8, 12), "CE": (8, 12), "EO": (3, 6), "EE": (2, 4)}
MAX_EXPOSURE = 0.25
NON_READER_SKILLS = ("CO", "EO")
#: The levels the non-reader pool must cover (pré-A1 candidates answer the A1.1 items).
NON_READER_LEVELS = ("A1.1", "A1", "A2")
COUNTED_STATUSES = frozenset({"pilot", "operational"})


@dataclass(frozen=True, slots=True)
class Shortfall:
    """One blueprint requirement the bank does not meet."""

    skill: str
    what: str
    have: int
    need: int

    def __str__(self) -> str:
        missing = self.need - self.have
        return f"{self.skill}: {self.what}: {self.have} < {self.need} (missing {missing})"


@dataclass(frozen=True, slots=True)
class KeyChecks:
    """Where keys sit, the length cue, and key pictures shared by items that are not enemies."""

    positions: dict[str, dict[int, int]]  # skill -> key position (0 = first choice) -> items
    true_false: dict[str, dict[str, int]]  # skill -> key of true/false/not said -> items
    longest: dict[str, tuple[int, int, float]]  # skill -> (key longest, text items, chance)
    shared_key_pictures: list[tuple[str, tuple[str, ...]]]  # picture, items not enemies

    def to_data(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "key_positions": self.positions,
            "true_false_keys": self.true_false,
            "key_longest": {
                s: {"items": n, "key_longest": k, "expected_by_chance": round(e, 3)}
                for s, (k, n, e) in self.longest.items()
            },
            "shared_key_pictures": [
                {"picture": p, "items": list(i)} for p, i in self.shared_key_pictures
            ],
        }


def key_checks(items: Iterable[Item]) -> KeyChecks:
    """The item-writing checks of this module's docstring, over choice items with a key."""
    choice = [it for it in items if it.choices and it.key in {c.id for c in it.choices}]
    positions: dict[str, dict[int, int]] = {}
    true_false: dict[str, dict[str, int]] = {}
    longest: dict[str, tuple[int, int, float]] = {}
    for skill in SKILLS:
        mine = [it for it in choice if it.skill == skill]
        ordered = [it for it in mine if it.type != "true_false_not_said"]
        if ordered:
            pos = Counter([c.id for c in it.choices].index(str(it.key)) for it in ordered)
            positions[skill] = dict(sorted(pos.items()))
        tf = Counter(str(it.key) for it in mine if it.type == "true_false_not_said")
        if tf:
            true_false[skill] = dict(sorted(tf.items()))
        texts = [it for it in ordered if all(c.text for c in it.choices)]
        if texts:
            hits = sum(
                len(str(key.text)) > max(len(str(c.text)) for c in it.choices if c is not key)
                for it in texts
                for key in [next(c for c in it.choices if c.id == it.key)]
            )
            chance = sum(1 / len(it.choices) for it in texts) / len(texts)
            longest[skill] = (hits, len(texts), chance)
    by_picture: dict[str, list[Item]] = {}
    for it in choice:
        key = next(c for c in it.choices if c.id == it.key)
        if key.image:
            by_picture.setdefault(key.image, []).append(it)
    shared = []
    for picture, its in sorted(by_picture.items()):
        loose = sorted(
            {
                x.id
                for x in its
                for y in its
                if x is not y and y.id not in x.enemies and x.id not in y.enemies
            }
        )
        if loose:
            shared.append((picture, tuple(loose)))
    return KeyChecks(positions, true_false, longest, shared)


@dataclass(frozen=True, slots=True)
class Coverage:
    """Counts over the pilot and operational items (``by_status`` counts every item)."""

    total: int
    by_status: dict[str, int]
    by_skill: dict[str, int]
    by_cell: dict[tuple[str, str, str], int]  # (skill, level, theme) -> count
    by_type: dict[tuple[str, str], int]  # (skill, type) -> count
    non_reader: dict[str, int]
    shortfalls: list[Shortfall] = field(default_factory=list)
    keys: KeyChecks | None = None
    #: (skill, level, theme) -> non-reader items, for the non-reader skills
    non_reader_cell: dict[tuple[str, str, str], int] = field(default_factory=dict)
    non_reader_shortfalls: list[Shortfall] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        """Plain data (for ``itembank stats --json``)."""
        return {
            "total": self.total,
            "by_status": self.by_status,
            "by_skill": self.by_skill,
            "by_skill_level_theme": {
                skill: {
                    level: {theme: self.by_cell.get((skill, level, theme), 0) for theme in THEMES}
                    for level in TARGET_LEVELS
                }
                for skill in SKILLS
            },
            "by_type": {f"{s}/{t}": n for (s, t), n in sorted(self.by_type.items())},
            "non_reader": self.non_reader,
            "non_reader_by_skill_level_theme": {
                skill: {
                    level: {
                        theme: self.non_reader_cell.get((skill, level, theme), 0)
                        for theme in THEMES
                    }
                    for level in TARGET_LEVELS
                }
                for skill in NON_READER_SKILLS
            },
            "missing_for_non_readers": [str(s) for s in self.non_reader_shortfalls],
            "missing_for_blueprint": [str(s) for s in self.shortfalls],
            "key_checks": self.keys.to_data() if self.keys is not None else None,
        }


def coverage(items: Iterable[Item], max_exposure: float = MAX_EXPOSURE) -> Coverage:
    """Count items and check the blueprint requirements in this module's docstring."""
    all_items = list(items)
    counted = [it for it in all_items if it.status in COUNTED_STATUSES]
    by_skill: dict[str, int] = {s: sum(it.skill == s for it in counted) for s in SKILLS}
    by_cell: Counter[tuple[str, str, str]] = Counter(
        (it.skill, it.target_level, it.theme) for it in counted
    )
    by_type: Counter[tuple[str, str]] = Counter((it.skill, it.type) for it in counted)
    non_reader: dict[str, int] = {
        s: sum(it.skill == s and it.non_reader for it in counted) for s in SKILLS
    }
    shortfalls: list[Shortfall] = []

    def need(skill: str, what: str, have: int, target: int) -> None:
        if have < target:
            shortfalls.append(Shortfall(skill, what, have, target))

    for skill, (lo, hi) in BLUEPRINT.items():
        need(skill, "items", by_skill[skill], math.ceil(hi / max_exposure))
        for theme in THEMES:
            have = sum(n for (s, _, t), n in by_cell.items() if s == skill and t == theme)
            need(skill, f"theme {theme}", have, math.ceil(1 / max_exposure))
        for level in TARGET_LEVELS:
            have = sum(n for (s, lv, _), n in by_cell.items() if s == skill and lv == level)
            need(skill, f"level {level}", have, lo)
        if skill in NON_READER_SKILLS:
            need(skill, "non-reader items", non_reader[skill], math.ceil(lo / max_exposure))
    non_reader_cell: Counter[tuple[str, str, str]] = Counter(
        (it.skill, it.target_level, it.theme)
        for it in counted
        if it.non_reader and it.skill in NON_READER_SKILLS
    )
    gaps: list[Shortfall] = []
    for skill in NON_READER_SKILLS:
        lo, hi = BLUEPRINT[skill]
        mine = {(lv, t): n for (s, lv, t), n in non_reader_cell.items() if s == skill}
        if non_reader[skill] < math.ceil(hi / max_exposure):
            gaps.append(
                Shortfall(
                    skill, "non-reader items", non_reader[skill], math.ceil(hi / max_exposure)
                )
            )
        for theme in THEMES:
            have = sum(n for (_, t), n in mine.items() if t == theme)
            if have < math.ceil(1 / max_exposure):
                gaps.append(
                    Shortfall(
                        skill, f"non-reader, theme {theme}", have, math.ceil(1 / max_exposure)
                    )
                )
        for band in NON_READER_LEVELS:
            have = sum(n for (lv, _), n in mine.items() if lv == band)
            if have < lo:
                gaps.append(Shortfall(skill, f"non-reader, level {band}", have, lo))
    return Coverage(
        total=len(counted),
        by_status=dict(Counter(it.status for it in all_items)),
        by_skill=by_skill,
        by_cell=dict(by_cell),
        by_type=dict(by_type),
        non_reader=non_reader,
        shortfalls=shortfalls,
        keys=key_checks(counted),
        non_reader_cell=dict(non_reader_cell),
        non_reader_shortfalls=gaps,
    )


def format_coverage(cov: Coverage) -> str:
    """A plain-text report of :func:`coverage`."""
    lines = [
        f"{cov.total} items (pilot and operational); by status: "
        + ", ".join(f"{k} {v}" for k, v in sorted(cov.by_status.items())),
        "",
    ]
    short = {"vie pratique": "pratique", "vie publique": "publique", "vie professionnelle": "pro"}
    header = (
        f"{'skill':<6}{'level':<7}" + "".join(f"{short[t]:>10}" for t in THEMES) + f"{'total':>8}"
    )
    lines.append(header)
    for skill in map(str, SKILLS):
        for level in TARGET_LEVELS:
            row = [cov.by_cell.get((skill, level, t), 0) for t in THEMES]
            lines.append(
                f"{skill:<6}{level:<7}" + "".join(f"{n:>10}" for n in row) + f"{sum(row):>8}"
            )
        totals = [
            sum(n for (s, _, t), n in cov.by_cell.items() if s == skill and t == theme)
            for theme in THEMES
        ]
        lines.append(
            f"{skill:<6}{'all':<7}" + "".join(f"{n:>10}" for n in totals) + f"{sum(totals):>8}"
        )
        lines.append("")
    lines.append("types:")
    for (skill, kind), n in sorted(
        cov.by_type.items(), key=lambda kv: (SKILLS.index(kv[0][0]), kv[0][1])
    ):
        lines.append(f"  {skill} {kind:<24}{n:>5}")
    lines.append("")
    lines.append(
        "non-reader items (no reading needed): "
        + ", ".join(f"{s} {cov.non_reader[s]}" for s in SKILLS)
    )
    lines.append("")
    lines.append("non-reader pool (the path of a non-lecteur: items that need no reading):")
    lines.append(header)
    for skill in NON_READER_SKILLS:
        for level in TARGET_LEVELS:
            row = [cov.non_reader_cell.get((skill, level, t), 0) for t in THEMES]
            lines.append(
                f"{skill:<6}{level:<7}" + "".join(f"{n:>10}" for n in row) + f"{sum(row):>8}"
            )
    if cov.non_reader_shortfalls:
        lines.append(f"gaps of the non-reader pool ({len(cov.non_reader_shortfalls)}):")
        lines += [f"  {s}" for s in cov.non_reader_shortfalls]
    else:
        lines.append("the non-reader pool meets every requirement")
    lines.append("")
    if cov.shortfalls:
        lines.append(f"missing for the blueprint ({len(cov.shortfalls)}):")
        lines += [f"  {s}" for s in cov.shortfalls]
    else:
        lines.append("the bank meets every blueprint requirement")
    if cov.keys is not None:
        lines += ["", *format_key_checks(cov.keys)]
    return "\n".join(lines)


def format_key_checks(keys: KeyChecks) -> list[str]:
    """The key checks as text lines."""
    letters = "abcdefgh"
    lines = ["keys of choice items:"]
    for skill, pos in keys.positions.items():
        spread = ", ".join(f"{letters[i]} {n}" for i, n in pos.items())
        lines.append(f"  {skill} key position (1st choice = a): {spread}")
    for skill, tf in keys.true_false.items():
        lines.append(
            f"  {skill} true/false/not said keys: " + ", ".join(f"{k} {n}" for k, n in tf.items())
        )
    for skill, (hits, n, chance) in keys.longest.items():
        lines.append(
            f"  {skill} key is the longest choice in {hits} of {n} text items "
            f"({hits / n:.0%}; about {chance:.0%} by chance)"
        )
    if keys.shared_key_pictures:
        lines.append("  key pictures shared by items that are not enemies:")
        lines += [f"    {p}: {', '.join(ids)}" for p, ids in keys.shared_key_pictures]
    return lines
