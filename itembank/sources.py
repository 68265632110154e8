"""Reading the bank's sources: item YAML files and ``bank.yaml``, into :mod:`itembank.model` types.

Parsing here is lenient about nothing: :func:`item_from_data` expects data that already passed
the JSON Schema (see :mod:`itembank.validation`), and :func:`load_bank` only returns a bank whose
every item validated (or, with ``skip_invalid=True``, the items that did).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

import yaml

from itembank.errors import BankInvalid
from itembank.model import (
    SKILLS,
    Choice,
    FormField,
    HistoryEntry,
    Instruction,
    Item,
    ModelAnswer,
    Rubric,
    RubricElement,
    RubricLevel,
    Stem,
)

SCHEMA_DIR = Path(__file__).parent / "schema"
BANK_SETTINGS_FILE = "bank.yaml"
#: Folders of a bank that hold item files, one per skill.
ITEM_FOLDERS = SKILLS


_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is faster


class _Loader(_Base):  # type: ignore[valid-type,misc]  # a base chosen at run time
    """Safe YAML loader that keeps dates as the strings the authors wrote (``2026-11-23``)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML text safely; dates stay strings. Raises :class:`yaml.YAMLError`."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader derives from SafeLoader


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema ``itembank/schema/<name>.schema.json``."""
    return cast(dict[str, Any], json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text()))


def _t(value: Any) -> tuple[Any, ...]:
    return tuple(value or ())


def item_from_data(data: Mapping[str, Any], source: Path | None = None) -> Item:
    """Build an :class:`Item` from schema-valid data (a parsed item YAML file)."""
    stem_data = data.get("stem")
    stem = None
    if stem_data:
        stem = Stem(
            text=stem_data.get("text"),
            image=stem_data.get("image"),
            audio=stem_data.get("audio"),
            transcript=stem_data.get("transcript"),
        )
    rubric = None
    if data.get("rubric"):
        r = data["rubric"]
        rubric = Rubric(
            max_score=int(r["max_score"]),
            elements=tuple(
                RubricElement(
                    id=e["id"],
                    label=e["label"],
                    variants=_t(e.get("variants")),
                    patterns=_t(e.get("patterns")),
                    field=e.get("field"),
                    tenses=_t(e.get("tenses")),
                )
                for e in r["elements"]
            ),
            levels=tuple(
                RubricLevel(
                    score=int(lv["score"]),
                    descriptor=lv["descriptor"],
                    min_elements=int(lv.get("min_elements", 0)),
                    requires=_t(lv.get("requires")),
                    min_clauses=int(lv.get("min_clauses", 0)),
                    requires_any=_t(lv.get("requires_any")),
                )
                for lv in r["levels"]
            ),
            min_words=r.get("min_words"),
            off_topic=_t(r.get("off_topic")),
            model_answers=tuple(
                ModelAnswer(text=m["text"], score=int(m["score"]))
                for m in r.get("model_answers") or ()
            ),
        )
    form = data.get("form") or {}
    return Item(
        id=data["id"],
        skill=data["skill"],
        type=data["type"],
        theme=data["theme"],
        target_level=data["target_level"],
        status=data["status"],
        instruction=Instruction(
            text=data["instruction"]["text"], audio=data["instruction"]["audio"]
        ),
        topic=data.get("topic"),
        non_reader=bool(data.get("non_reader", False)),
        author=data.get("author") or "",
        history=tuple(
            HistoryEntry(date=str(h["date"]), author=h["author"], change=h["change"])
            for h in data.get("history") or ()
        ),
        enemies=_t(data.get("enemies")),
        stem=stem,
        choices=tuple(
            Choice(
                id=c["id"],
                text=c.get("text"),
                image=c.get("image"),
                audio=c.get("audio"),
                label=c.get("label"),
            )
            for c in data.get("choices") or ()
        ),
        key=data.get("key"),
        accepted=_t(data.get("accepted")),
        typo_tolerance=data.get("typo_tolerance"),
        form=tuple(
            FormField(id=f["id"], label=f["label"], check=f.get("check", "nonempty"))
            for f in form.get("fields") or ()
        ),
        rubric=rubric,
        time_limit_s=data.get("time_limit_s"),
        parameters=dict(data["parameters"]) if data.get("parameters") else None,
        source=source,
    )


def item_media(item: Item) -> Iterator[tuple[str, str]]:
    """Every media file an item refers to, as ``(field, bank-relative path)``."""
    yield "instruction.audio", item.instruction.audio
    if item.stem is not None:
        if item.stem.image:
            yield "stem.image", item.stem.image
        if item.stem.audio:
            yield "stem.audio", item.stem.audio
    for i, choice in enumerate(item.choices):
        if choice.image:
            yield f"choices[{i}].image", choice.image
        if choice.audio:
            yield f"choices[{i}].audio", choice.audio


def data_media(data: Mapping[str, Any]) -> Iterator[str]:
    """The media paths an item's YAML data refers to, without building the item: the paths
    :func:`item_media` gives for the item built from it, in the same order (for data not known
    to build, such as a QTI import, or when only the data is at hand)."""
    yield data["instruction"]["audio"]
    stem = data.get("stem") or {}
    for k in ("image", "audio"):
        if stem.get(k):
            yield stem[k]
    for c in data.get("choices") or ():
        for k in ("image", "audio"):
            if c.get(k):
                yield c[k]


def item_files(root: Path) -> list[Path]:
    """The item YAML files of a bank, sorted: ``<root>/<skill>/*.yaml``."""
    files: list[Path] = []
    for folder in ITEM_FOLDERS:
        d = root / folder
        if d.is_dir():
            files.extend(sorted(p for p in d.iterdir() if p.suffix in {".yaml", ".yml"}))
    return files


@dataclass(frozen=True, slots=True)
class BankSettings:
    """Bank-level settings from ``bank.yaml``: cut scores, skill correlation, default policy."""

    policy: str
    cut_scores: dict[str, dict[str, float]]
    cut_scores_source: str
    skill_correlation: tuple[tuple[float, ...], ...]
    skill_correlation_source: str
    provisional_parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BankSettings:
        """From schema-valid ``bank.yaml`` data."""
        cuts = data["cut_scores"]
        corr = data["skill_correlation"]
        return cls(
            policy=data["policy"],
            cut_scores={
                skill: {level: float(v) for level, v in levels.items()}
                for skill, levels in cuts["values"].items()
            },
            cut_scores_source=cuts["source"].strip(),
            skill_correlation=tuple(tuple(float(x) for x in row) for row in corr["matrix"]),
            skill_correlation_source=corr["source"].strip(),
            provisional_parameters=dict(data.get("provisional_parameters") or {}),
        )

    def to_data(self) -> dict[str, Any]:
        """The ``bank.yaml`` form of these settings (inverse of :meth:`from_data`)."""
        data: dict[str, Any] = {
            "policy": self.policy,
            "cut_scores": {"source": self.cut_scores_source, "values": self.cut_scores},
            "skill_correlation": {
                "source": self.skill_correlation_source,
                "order": list(SKILLS),
                "matrix": [list(row) for row in self.skill_correlation],
            },
        }
        if self.provisional_parameters:
            data["provisional_parameters"] = self.provisional_parameters
        return data


@dataclass(frozen=True, slots=True)
class Bank:
    """The bank's sources: valid items by id, bank settings, and what was left out.

    ``problems`` is empty unless the bank was loaded with ``skip_invalid=True``; then it lists
    the problems of the items that were skipped (their files are in ``skipped``).
    """

    root: Path
    items: dict[str, Item]
    settings: BankSettings
    problems: tuple[Any, ...] = ()
    skipped: tuple[Path, ...] = ()

    def media_path(self, rel: str) -> Path:
        """The file of a bank-relative media path."""
        return self.root / rel


def load_bank(path: Path | str, *, skip_invalid: bool = False, decode_media: bool = True) -> Bank:
    """Load and validate a bank's sources.

    Raises :class:`~itembank.errors.BankInvalid` with every problem when anything is invalid;
    with ``skip_invalid=True`` the invalid items are left out instead (their problems are kept in
    ``Bank.problems``), but a bank whose ``bank.yaml`` is invalid still raises.
    """
    from itembank.validation import scan_bank

    scan = scan_bank(Path(path), decode_media=decode_media)
    if scan.settings is None or scan.bank_problems:
        raise BankInvalid(scan.problems)
    if scan.problems and not skip_invalid:
        raise BankInvalid(scan.problems)
    return Bank(
        root=Path(path),
        items=dict(sorted(scan.valid_items.items())),
        settings=scan.settings,
        problems=tuple(scan.problems),
        skipped=tuple(sorted(scan.invalid_files)),
    )
