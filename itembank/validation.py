"""Validating a bank's sources: every problem, with its file and field, in one run.

Checks, in order, for each item file: YAML syntax; the JSON Schema (``schema/item.schema.json``:
required fields, unknown theme, level, type or status, malformed ids and paths); then the rules
a schema cannot express: the id matches the file name and the skill its folder, the type suits
the skill, a choice item's key is one of its choices, a true/false item has its three choices,
rubric levels are exactly ``0..max_score``, a level's required element exists, a form element
names a form field, patterns compile, enemies exist, ids are unique across the bank; finally the
media: every referenced file exists inside the bank, every audio file decodes as Ogg/Opus (ffmpeg)
and every SVG is well-formed XML. ``bank.yaml`` is checked too (schema, increasing cut scores, a
symmetric positive-definite correlation matrix with a unit diagonal).
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

from itembank.media import IMAGE_SUFFIXES, check_audio_files, check_svg, default_cache_file
from itembank.model import (
    CHOICE_TYPES,
    FORM_TYPES,
    SKILLS,
    SPEAKING_TYPES,
    TARGET_LEVELS,
    TEXT_TYPES,
    WRITING_TYPES,
    Item,
)
from itembank.parameters import ParameterRow, row_problems
from itembank.sources import (
    BANK_SETTINGS_FILE,
    BankSettings,
    item_files,
    item_from_data,
    item_media,
    load_schema,
    load_yaml,
)

#: Which skills each item type may belong to (FORMAT.md, table of types).
TYPE_SKILLS: dict[str, frozenset[str]] = {
    "listen_choose_picture": frozenset({"CO"}),
    "listen_choose_sentence": frozenset({"CO"}),
    "read_choose": frozenset({"CE"}),
    "true_false_not_said": frozenset({"CO", "CE"}),
    "gap_fill": frozenset({"CE", "EE"}),
    "form_fill": frozenset({"EE"}),
    "write_message": frozenset({"EE"}),
    **{t: frozenset({"EO"}) for t in SPEAKING_TYPES},
}
TRUE_FALSE_CHOICES = ("vrai", "faux", "on_ne_sait_pas")


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One problem found in the sources: which file, which field (dotted path), what is wrong."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.message}"


@dataclass
class ScanResult:
    """Everything :func:`scan_bank` found: settings, valid items, and every problem."""

    settings: BankSettings | None = None
    bank_problems: list[Problem] = field(default_factory=list)
    item_problems: list[Problem] = field(default_factory=list)
    valid_items: dict[str, Item] = field(default_factory=dict)
    invalid_files: set[Path] = field(default_factory=set)
    #: every item that could be built, valid or not (for statistics over a bank in progress)
    parsed_items: list[Item] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        """Every problem, bank settings first, then items by file."""
        return sorted(self.bank_problems) + sorted(self.item_problems)


def _path(parts: Iterable[Any]) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


_PATTERN_MEANING = {
    "ogg|opus": "an Ogg/Opus file path inside the bank (….ogg or ….opus)",
    "svg": "an SVG file path inside the bank (….svg)",
    "(CO|CE|EO|EE)-": "an item id (skill, dash, 3 or 4 digits: CO-001)",
    "^[a-z][a-z0-9_]": "an id of lower-case letters, digits and _ (starting with a letter)",
    "^[0-9]{4}-": "a date (YYYY-MM-DD)",
}


def _schema_message(error: jsonschema.ValidationError) -> str:
    """A clearer message than jsonschema's default for the common faults."""
    name = error.absolute_path[-1] if error.absolute_path else None
    if error.validator == "enum" and isinstance(name, str):
        enum = error.validator_value
        allowed = ", ".join(repr(v) for v in enum) if isinstance(enum, list) else ""
        return f"unknown {name.replace('_', ' ')} {error.instance!r} (expected one of: {allowed})"
    if error.validator == "required":
        return error.message.replace("is a required property", "is required")
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        extra = ", ".join(repr(k) for k in sorted(set(error.instance) - set(known)))
        return f"unknown field(s) {extra} (see itembank/FORMAT.md)"
    if error.validator in {"minItems", "maxItems"} and isinstance(name, str):
        bound = "at least" if error.validator == "minItems" else "at most"
        count = len(error.instance) if isinstance(error.instance, list) else "?"
        noun = "entry" if error.validator_value == 1 else "entries"
        return f"{name} needs {bound} {error.validator_value} {noun}, has {count}"
    if error.validator == "pattern":
        pattern = str(error.validator_value)
        meaning = next((m for key, m in _PATTERN_MEANING.items() if key in pattern), None)
        if meaning is not None:
            return f"{error.instance!r} is not {meaning}"
    branches = error.validator_value
    if error.validator == "anyOf" and isinstance(name, int) and isinstance(branches, list):
        needs = [" or ".join(b.get("required", ())) for b in branches if isinstance(b, dict)]
        return f"needs {' or '.join(needs)}"
    return error.message


def _schema_problems(data: Any, schema: Mapping[str, Any], file: str) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.path))):
        # oneOf over "path or null" reports the path's own error as its best match
        best = jsonschema.exceptions.best_match([error]) if error.context else error
        problems.append(Problem(file, _path(best.absolute_path), _schema_message(best)))
    return problems


def item_data_problems(data: Mapping[str, Any], file: str) -> list[Problem]:
    """The schema and the item rules for one item's data (not bank-wide rules nor media):
    what :func:`scan_bank` would say of the file ``file`` holding ``data``."""
    problems = _schema_problems(data, load_schema("item"), file)
    if problems:
        return problems
    return check_item(item_from_data(data), file, None, None)


def _parse_file(path: Path, file: str) -> tuple[Any, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(file, "", f"cannot read the file: {exc}")]
    try:
        return load_yaml(text), []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem(file, "", f"YAML syntax error{where}: {reason}")]


def check_settings(data: Any, file: str) -> tuple[BankSettings | None, list[Problem]]:
    """Validate ``bank.yaml`` data; the settings, or None when they are unusable."""
    problems = _schema_problems(data, load_schema("bank"), file)
    if problems:
        return None, problems
    settings = BankSettings.from_data(data)
    for skill, cuts in settings.cut_scores.items():
        values = [cuts[level] for level in TARGET_LEVELS]
        if any(b <= a for a, b in itertools.pairwise(values)):
            problems.append(
                Problem(
                    file,
                    f"cut_scores.values.{skill}",
                    f"cut scores must increase A1.1 < A1 < A2 < B1, got {values}",
                )
            )
    m = np.array(settings.skill_correlation)
    where = "skill_correlation.matrix"
    if not np.allclose(m, m.T):
        problems.append(Problem(file, where, "the correlation matrix is not symmetric"))
    elif not np.allclose(np.diag(m), 1.0):
        problems.append(Problem(file, where, "the correlation matrix's diagonal must be 1"))
    elif np.linalg.eigvalsh(m).min() <= 0:
        problems.append(Problem(file, where, "the correlation matrix is not positive definite"))
    return (settings if not problems else None), problems


def _dups(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def _check_rubric(item: Item, file: str) -> list[Problem]:
    rubric = item.rubric
    assert rubric is not None
    out: list[Problem] = []
    ids = [e.id for e in rubric.elements]
    out += [Problem(file, "rubric.elements", f"duplicate element id {d!r}") for d in _dups(ids)]
    scores = [lv.score for lv in rubric.levels]
    expected = list(range(rubric.max_score + 1))
    if scores != expected:
        out.append(
            Problem(
                file,
                "rubric.levels",
                f"levels must be the scores 0..{rubric.max_score} in order, got {scores}",
            )
        )
    field_ids = {f.id for f in item.form}
    for i, e in enumerate(rubric.elements):
        where = f"rubric.elements[{i}]"
        if e.field is not None:
            if e.field not in field_ids:
                out.append(Problem(file, f"{where}.field", f"no form field {e.field!r}"))
        elif not e.variants and not e.patterns and not e.tenses:
            out.append(
                Problem(file, where, f"element {e.id!r} has no variants, patterns or tenses")
            )
        for j, pattern in enumerate(e.patterns):
            try:
                re.compile(pattern)
            except re.error as exc:
                out.append(Problem(file, f"{where}.patterns[{j}]", f"invalid pattern: {exc}"))
    for i, lv in enumerate(rubric.levels):
        out += [
            Problem(
                file,
                f"rubric.levels[{i}].requires",
                f"requires element {name!r}, which the rubric does not define",
            )
            for name in lv.requires
            if name not in ids
        ]
        out += [
            Problem(
                file,
                f"rubric.levels[{i}].requires_any",
                f"requires element {name!r}, which the rubric does not define",
            )
            for name in lv.requires_any
            if name not in ids
        ]
        if lv.min_elements > len(ids):
            out.append(
                Problem(
                    file,
                    f"rubric.levels[{i}].min_elements",
                    f"needs {lv.min_elements} elements but the rubric has {len(ids)}",
                )
            )
    for i, m in enumerate(rubric.model_answers):
        if m.score > rubric.max_score:
            out.append(
                Problem(
                    file,
                    f"rubric.model_answers[{i}].score",
                    f"score {m.score} is above max_score {rubric.max_score}",
                )
            )
    return out


def _check_parameters(item: Item, file: str) -> list[Problem]:
    p = item.parameters or {}
    model = p.get("model")
    need = {"2PL": ("a", "b"), "3PL": ("a", "b", "c"), "GRM": ("a", "thresholds")}
    need["GPCM"] = need["GRM"]
    out = [
        Problem(file, "parameters", f"model {model} needs {name!r}")
        for name in need.get(str(model), ())
        if name not in p
    ]
    if model not in need:
        return out  # the schema reports an unknown model
    try:  # placeholders for what is missing (reported above): the rules below do not read a, b
        row = ParameterRow(
            id=item.id,
            skill=item.skill,
            theme=item.theme,
            model=str(model),
            a=1.0,
            b=0.0,
            c=float(p.get("c", 0.0)),
            d=float(p.get("d", 1.0)),
            thresholds=tuple(float(t) for t in p.get("thresholds") or ()),
        )
    except (TypeError, ValueError):
        return out  # values of the wrong type: the schema reports them
    out += [
        Problem(file, f"parameters.{column}", message)
        for column, message in row_problems(row, item)
    ]
    return out


def check_item(item: Item, file: str, expected_id: str | None, folder: str | None) -> list[Problem]:
    """The rules a schema cannot express, for one item (bank-wide rules are elsewhere)."""
    out: list[Problem] = []
    if expected_id is not None and item.id != expected_id:
        out.append(Problem(file, "id", f"id {item.id!r} does not match the file name"))
    if not item.id.startswith(f"{item.skill}-"):
        out.append(Problem(file, "id", f"id {item.id!r} does not start with its skill"))
    if folder is not None and folder != item.skill:
        out.append(Problem(file, "skill", f"skill {item.skill} item in folder {folder}/"))
    allowed = TYPE_SKILLS.get(item.type)
    if allowed is not None and item.skill not in allowed:
        out.append(
            Problem(
                file,
                "type",
                f"type {item.type!r} is not a {item.skill} type "
                f"(it belongs to {', '.join(sorted(allowed))})",
            )
        )
    for i, h in enumerate(item.history):
        try:
            dt.date.fromisoformat(h.date)
        except ValueError:
            out.append(Problem(file, f"history[{i}].date", f"not a date: {h.date!r}"))
    if item.id in item.enemies:
        out.append(Problem(file, "enemies", "an item cannot be its own enemy"))

    stem = item.stem
    if item.skill == "CO" and (stem is None or not stem.audio):
        out.append(Problem(file, "stem.audio", "a listening item needs its recording"))
    if stem is not None and stem.audio and not stem.transcript:
        out.append(Problem(file, "stem.transcript", "a recording needs its transcript"))
    if item.type == "read_choose" and (stem is None or not (stem.text or stem.image)):
        out.append(Problem(file, "stem", "a reading item needs a text or a picture to read"))
    if item.type == "speak_describe_picture" and (stem is None or not stem.image):
        out.append(Problem(file, "stem.image", "describe-a-picture needs its picture"))
    if item.type == "gap_fill" and (stem is None or not stem.text):
        out.append(Problem(file, "stem.text", "a gap-fill item needs its text with the gap"))

    if item.type in CHOICE_TYPES:
        ids = [c.id for c in item.choices]
        if len(ids) < 2:
            out.append(Problem(file, "choices", "a choice item needs 2 to 4 choices"))
        out += [Problem(file, "choices", f"duplicate choice id {d!r}") for d in _dups(ids)]
        if item.key is None:
            out.append(Problem(file, "key", "a choice item needs its key"))
        elif item.key not in ids:
            out.append(
                Problem(
                    file,
                    "key",
                    f"key {item.key!r} is not one of the choices ({', '.join(ids) or 'none'})",
                )
            )
        if item.type == "true_false_not_said" and sorted(ids) != sorted(TRUE_FALSE_CHOICES):
            out.append(
                Problem(
                    file,
                    "choices",
                    f"true/false/not said uses the choices {', '.join(TRUE_FALSE_CHOICES)}",
                )
            )
        if item.type == "listen_choose_picture":
            for i, c in enumerate(item.choices):
                if not c.image:
                    out.append(Problem(file, f"choices[{i}].image", "a picture choice needs one"))
        if item.non_reader:
            for i, c in enumerate(item.choices):
                if not c.image and not c.audio:
                    out.append(
                        Problem(
                            file,
                            f"choices[{i}]",
                            "a non-reader item's choice needs a picture or a spoken version",
                        )
                    )
    else:
        if item.choices:
            out.append(Problem(file, "choices", f"type {item.type!r} takes no choices"))
        if item.key is not None:
            out.append(Problem(file, "key", f"type {item.type!r} takes no key"))

    if item.type in TEXT_TYPES and not item.accepted:
        out.append(Problem(file, "accepted", "a gap-fill item needs its accepted answers"))
    if item.type not in TEXT_TYPES and item.accepted:
        out.append(Problem(file, "accepted", f"type {item.type!r} takes no accepted answers"))
    if item.type in FORM_TYPES:
        if not item.form:
            out.append(Problem(file, "form.fields", "a form item needs its fields"))
        fids = [f.id for f in item.form]
        out += [Problem(file, "form.fields", f"duplicate field id {d!r}") for d in _dups(fids)]
    elif item.form:
        out.append(Problem(file, "form", f"type {item.type!r} takes no form"))

    needs_rubric = item.type in FORM_TYPES | WRITING_TYPES | SPEAKING_TYPES
    if needs_rubric and item.rubric is None:
        out.append(Problem(file, "rubric", "a production item needs a rubric with its levels"))
    elif not needs_rubric and item.rubric is not None:
        out.append(Problem(file, "rubric", f"type {item.type!r} is scored by key, not rubric"))
    if item.rubric is not None:
        out += _check_rubric(item, file)
    if item.non_reader and item.skill in {"CE", "EE"}:
        out.append(Problem(file, "non_reader", f"a {item.skill} item always needs reading"))
    if item.parameters:
        out += _check_parameters(item, file)
    return out


def _media_problems(
    items: list[tuple[Item, str]], root: Path, *, decode_media: bool, progress: bool
) -> list[Problem]:
    out: list[Problem] = []
    resolved_root = root.resolve()
    audio: dict[Path, list[tuple[str, str]]] = defaultdict(list)
    for item, file in items:
        for where, rel in item_media(item):
            if not isinstance(rel, str):
                continue  # the schema reports it
            target = (root / rel).resolve()
            if ".." in Path(rel).parts or not target.is_relative_to(resolved_root):
                out.append(Problem(file, where, f"media path {rel!r} leaves the bank"))
            elif not target.is_file():
                out.append(Problem(file, where, f"missing media file {rel}"))
            elif target.suffix in IMAGE_SUFFIXES:
                reason = check_svg(target)
                if reason:
                    out.append(Problem(file, where, f"{rel}: {reason}"))
            else:
                audio[target].append((file, where))
    if decode_media:
        verdicts = check_audio_files(list(audio), cache=default_cache_file(), progress=progress)
        for target, reason in verdicts.items():
            if reason:
                rel = target.relative_to(resolved_root).as_posix()
                out += [Problem(f, where, f"audio {rel} {reason}") for f, where in audio[target]]
    return out


def scan_bank(
    root: Path, *, decode_media: bool = True, only: Path | None = None, progress: bool = False
) -> ScanResult:
    """Read and check every source of the bank at ``root`` (or only the item file ``only``)."""
    result = ScanResult()
    settings_path = root / BANK_SETTINGS_FILE
    settings_file = str(settings_path)
    if not settings_path.is_file():
        result.bank_problems.append(Problem(settings_file, "", "missing bank settings file"))
    else:
        data, problems = _parse_file(settings_path, settings_file)
        result.bank_problems += problems
        if not problems:
            result.settings, problems = check_settings(data, settings_file)
            result.bank_problems += problems

    files = item_files(root)
    if not files and only is None:
        result.bank_problems.append(
            Problem(str(root), "", f"no item files under {', '.join(f'{s}/' for s in SKILLS)}")
        )
    parsed: list[tuple[Item, str, Path]] = []
    problems_by_file: dict[Path, list[Problem]] = defaultdict(list)
    for path in files:
        file = str(path)
        data, problems = _parse_file(path, file)
        if not problems and not isinstance(data, dict):
            problems = [Problem(file, "", "an item file must hold a mapping of fields")]
        if not problems:
            problems = _schema_problems(data, load_schema("item"), file)
            try:
                item = item_from_data(data, source=path)
                problems += check_item(item, file, path.stem, path.parent.name)
            except (KeyError, TypeError, ValueError, AttributeError):
                if not problems:
                    raise  # schema-valid data must always build and check
                # too broken to build or check: the schema problems above say why
            else:
                parsed.append((item, file, path))
        problems_by_file[path] += problems

    by_id: dict[str, list[tuple[Item, str, Path]]] = defaultdict(list)
    for entry in parsed:
        by_id[entry[0].id].append(entry)
    for item_id, entries in by_id.items():
        if len(entries) > 1:
            for _, file, path in entries:
                others = ", ".join(f for _, f, p in entries if p != path)
                problems_by_file[path].append(
                    Problem(file, "id", f"duplicate id {item_id!r} (also in {others})")
                )
    for item, file, path in parsed:
        for i, enemy in enumerate(item.enemies):
            if enemy not in by_id:
                problems_by_file[path].append(
                    Problem(file, f"enemies[{i}]", f"enemy {enemy!r} is not an item of the bank")
                )

    checked = [(i, f) for i, f, p in parsed if only is None or p.resolve() == only.resolve()]
    media = _media_problems(checked, root, decode_media=decode_media, progress=progress)
    for p in media:
        problems_by_file[Path(p.file)].append(p)

    for path in files:
        if only is not None and path.resolve() != only.resolve():
            continue
        if problems_by_file[path]:
            result.invalid_files.add(path)
            result.item_problems += problems_by_file[path]
    result.parsed_items = [item for item, _, _ in parsed]
    for item, _, path in parsed:
        if path not in result.invalid_files and (only is None or path.resolve() == only.resolve()):
            result.valid_items[item.id] = item
    return result


def validate(
    path: Path | str, *, decode_media: bool = True, progress: bool = False
) -> list[Problem]:
    """Every problem of the bank at ``path`` (a bank folder, or one item file in a bank), sorted.

    An empty list means the sources are valid.
    """
    path = Path(path)
    if path.is_file() and path.suffix in {".yaml", ".yml"} and path.name != BANK_SETTINGS_FILE:
        root = path.parent.parent
        return scan_bank(root, decode_media=decode_media, only=path, progress=progress).problems
    if not path.is_dir():
        return [Problem(str(path), "", "no such bank folder or item file")]
    return scan_bank(path, decode_media=decode_media, progress=progress).problems
