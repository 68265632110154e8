"""Item parameters: the parameter CSV of a release, and the provisional rule for new items.

The CSV (``parameters.csv``) is the exchange format of ``itembank``, ``placement`` and
``calibration``: one row per item with the columns ``id, skill, theme, model, a, b, c, d,
b1..bk, provisional, pretest`` and the optional ``enemies, non_reader``. ``model`` is ``2PL``,
``3PL`` (right/wrong items), ``GRM`` or ``GPCM`` (rubric items, thresholds in ``b1..bk``, ``b``
their mean); ``c`` is the lower asymptote (0 unless 3PL), ``d`` the upper one (1);
``provisional`` is 1 when the parameters come from the rule below rather than from data;
``pretest`` is 1 for pilot items (given, not scored); ``non_reader`` is 1 for items that need no
reading (the non-reader path uses only those; absent means 0); ``enemies`` lists the items never
given in the same test. A release's file carries both from its items.

The provisional rule (constants in ``bank.yaml``, ``provisional_parameters``):

- ``b`` is the cut score of the item's target level on its skill's scale: a candidate who has
  just reached the level answers it right half the time, beyond guessing (the usual RP50
  reading of an item's level);
- ``a`` comes from the item type (``discrimination_by_type``);
- choice items are 3PL with ``c = guessing_factor / n_choices``; gap-fill items are 2PL;
- rubric items (EO, EE) are GRM with ``k = max_score`` thresholds spread evenly around ``b``:
  ``b_j = b + (j - (k + 1) / 2) · threshold_step`` for ``j = 1..k``.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from itembank.errors import ParametersInvalid
from itembank.model import CHOICE_TYPES, SKILLS, Item

MODELS = frozenset({"1PL", "2PL", "3PL", "4PL", "GRM", "GPCM"})
POLYTOMOUS = frozenset({"GRM", "GPCM"})
BASE_COLUMNS = ("id", "skill", "theme", "model", "a", "b", "c", "d")

DEFAULT_RULE: dict[str, Any] = {
    "discrimination_by_type": {},
    "default_discrimination": 1.0,
    "guessing_factor": 0.8,
    "threshold_step": 0.7,
    "polytomous_model": "GRM",
}


@dataclass(frozen=True, slots=True)
class ParameterRow:
    """The parameters of one item (one row of ``parameters.csv``)."""

    id: str
    skill: str
    theme: str
    model: str
    a: float
    b: float
    c: float = 0.0
    d: float = 1.0
    thresholds: tuple[float, ...] = ()
    provisional: bool = False
    pretest: bool = False
    #: optional columns of a bank of one's own; a release takes both from its items instead
    enemies: tuple[str, ...] = ()
    non_reader: bool = False

    def same_values(self, other: ParameterRow, tol: float = 5e-5) -> bool:
        """Whether the numbers and model agree (ignoring skill, theme, flags)."""
        return (
            self.model == other.model
            and len(self.thresholds) == len(other.thresholds)
            and all(
                math.isclose(x, y, abs_tol=tol)
                for x, y in zip(
                    (self.a, self.b, self.c, self.d, *self.thresholds),
                    (other.a, other.b, other.c, other.d, *other.thresholds),
                    strict=True,
                )
            )
        )


@dataclass(frozen=True, slots=True)
class ParameterTable:
    """The rows of a parameter CSV, in file order, with lookup by item id."""

    rows: tuple[ParameterRow, ...]
    _index: dict[str, ParameterRow] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        ids = [r.id for r in self.rows]
        if len(set(ids)) != len(ids):
            dups = sorted({i for i in ids if ids.count(i) > 1})
            raise ParametersInvalid(f"identifiant(s) d'item en double : {', '.join(dups)}")
        self._index.update({r.id: r for r in self.rows})

    def __iter__(self) -> Iterator[ParameterRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._index

    def __getitem__(self, item_id: str) -> ParameterRow:
        return self._index[item_id]

    def get(self, item_id: str) -> ParameterRow | None:
        """The row of an item, or None."""
        return self._index.get(item_id)

    @property
    def max_thresholds(self) -> int:
        """The number of ``b1..bk`` columns the CSV needs."""
        return max((len(r.thresholds) for r in self.rows), default=0)


def _fmt(x: float) -> str:
    text = f"{x:.4f}".rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def kept(x: float) -> float:
    """The value as ``parameters.csv`` keeps it: to the 4 decimals :func:`_fmt` writes."""
    return float(_fmt(x))


def thresholds_in_order(model: str, thresholds: Iterable[float]) -> bool:
    """Whether the thresholds suit the model: a GRM's strictly increase as the CSV keeps them.

    Thresholds distinct only beyond the 4 decimals written become equal on disk, and a file with
    equal GRM thresholds cannot be read back, so they count as out of order here already.
    """
    if model != "GRM":
        return True
    values = [kept(t) for t in thresholds]
    return all(t1 < t2 for t1, t2 in itertools.pairwise(values))


def row_problems(row: ParameterRow, item: Item) -> list[tuple[str, str]]:
    """What does not fit between an item and its parameters, as ``(column, message)`` pairs.

    The one statement of these rules, for ``itembank validate`` (an item's own ``parameters:``
    block) and for a release's parameter table: the model suits the item (GRM or GPCM for a
    rubric item, not those otherwise), a rubric item has one threshold per score point, GRM
    thresholds strictly increase to 4 decimals (:func:`thresholds_in_order`, the reader's test
    too), and ``0 <= c < d <= 1``.
    """
    problems = []
    if item.rubric is not None:
        k = item.rubric.max_score
        if row.model not in POLYTOMOUS:
            problems.append(("model", f"a rubric item needs GRM or GPCM, not {row.model}"))
        elif len(row.thresholds) != k:
            message = f"{len(row.thresholds)} thresholds for a maximum score of {k}"
            problems.append(("thresholds", message))
    elif row.model in POLYTOMOUS:
        problems.append(("model", f"a right/wrong item needs 2PL or 3PL, not {row.model}"))
    if not thresholds_in_order(row.model, row.thresholds):
        values = ", ".join(_fmt(t) for t in row.thresholds)
        message = f"GRM thresholds must strictly increase to 4 decimals, got {values}"
        problems.append(("thresholds", message))
    if not 0 <= row.c < row.d <= 1:
        problems.append(("c", "asymptotes must satisfy 0 <= c < d <= 1"))
    return problems


def write_parameters_csv(table: ParameterTable | Iterable[ParameterRow], path: Path) -> None:
    """Write the rows as ``parameters.csv`` (deterministic: same rows, same bytes)."""
    table = table if isinstance(table, ParameterTable) else ParameterTable(tuple(table))
    k = table.max_thresholds
    header = [*BASE_COLUMNS, *(f"b{j}" for j in range(1, k + 1)), "provisional", "pretest"]
    # the optional columns only when some row uses them (a bank of one's own may have neither)
    extra = any(r.enemies or r.non_reader for r in table.rows)
    if extra:
        header += ["enemies", "non_reader"]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for r in table.rows:
            thresholds = [_fmt(t) for t in r.thresholds] + [""] * (k - len(r.thresholds))
            writer.writerow(
                [
                    r.id,
                    r.skill,
                    r.theme,
                    r.model,
                    _fmt(r.a),
                    _fmt(r.b),
                    _fmt(r.c),
                    _fmt(r.d),
                    *thresholds,
                    int(r.provisional),
                    int(r.pretest),
                    *([" ".join(r.enemies), int(r.non_reader)] if extra else []),
                ]
            )


def _float(
    row: Mapping[str, str], name: str, default: float | None, where: str, comma: bool = False
) -> float:
    text = (row.get(name) or "").strip()
    if not text:
        if default is None:
            raise ParametersInvalid(f"{where} : la colonne {name!r} est vide")
        return default
    try:
        value = float(text.replace(",", ".") if comma else text)
    except ValueError:
        raise ParametersInvalid(f"{where} : {name}={text!r} n'est pas un nombre") from None
    if not math.isfinite(value):
        raise ParametersInvalid(f"{where} : {name}={text!r} n'est pas un nombre fini")
    return value


_ENEMY_SEPARATORS = re.compile(r"[;,|\s]+")
_TRUE = frozenset({"1", "true", "yes", "oui", "vrai"})
_FALSE = frozenset({"", "0", "false", "no", "non", "faux"})


def _flag(row: Mapping[str, str], name: str, where: str) -> bool:
    text = (row.get(name) or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ParametersInvalid(f"{where} : {name}={text!r} ne vaut ni 0 ni 1")


def _decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (with or without a byte-order mark), else Windows-1252,
    which Excel's « CSV (séparateur : point-virgule) » writes in France. Bytes that are valid
    UTF-8 are almost never meant as Windows-1252, so the order is safe."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def read_parameters_csv(path: Path) -> ParameterTable:
    """Read a parameter CSV: the one reader of the format, for releases, the engine and calibration.

    Columns: ``id, model, a, b`` required; ``skill, theme`` (text, may be empty); ``c, d``
    (empty or missing: 0 and 1; ``0 <= c < d <= 1``, ``c`` for 3PL and 4PL only, ``d`` for
    4PL); ``b1..bk`` (GRM/GPCM thresholds, GRM's strictly increasing to 4 decimals; ``b`` may
    then be empty and is their mean); optional
    ``provisional, pretest, non_reader`` (0/1, also true/false, yes/no, oui/non, vrai/faux)
    and ``enemies`` (ids separated by ``;``, ``,``, ``|`` or spaces). A file saved by a
    spreadsheet reads the same: a byte-order mark is skipped, Windows-1252 is read when the
    bytes are not UTF-8, and a header with ``;`` between
    its cells and no ``,`` (Excel in a French locale) means ``;``-separated cells with decimal
    commas. Raises :class:`ParametersInvalid` naming the line and column at fault, or the empty
    file.
    """
    path = Path(path)
    try:
        with io.StringIO(_decode(path.read_bytes()), newline="") as f:
            first = f.readline()
            if not first:
                raise ParametersInvalid(f"{path} : fichier vide (pas même la ligne d'en-tête)")
            comma = ";" in first and "," not in first
            reader = csv.DictReader(itertools.chain([first], f), delimiter=";" if comma else ",")
            fields = [c.strip() for c in reader.fieldnames or []]
            reader.fieldnames = fields
            missing = [c for c in ("id", "model", "a", "b") if c not in fields]
            if missing:
                raise ParametersInvalid(
                    f"{path} : colonne(s) manquante(s) : {', '.join(missing)} ; un CSV de "
                    f"paramètres a au moins les colonnes id, model, a, b, celui-ci a "
                    f"{', '.join(fields) or 'aucune colonne'}"
                )
            threshold_cols = sorted(
                (c for c in fields if c[:1] == "b" and c[1:].isdigit()), key=lambda c: int(c[1:])
            )
            rows = []
            line_of: dict[str, int] = {}
            for n, raw in enumerate(reader, start=2):
                where = f"{path}, ligne {n}"
                item_id = (raw.get("id") or "").strip()
                if not item_id:
                    raise ParametersInvalid(f"{where} : id vide")
                if item_id in line_of:
                    raise ParametersInvalid(
                        f"{where} : l'item {item_id} a déjà ses paramètres ligne {line_of[item_id]}"
                    )
                line_of[item_id] = n
                model = (raw.get("model") or "").strip().upper()
                if model not in MODELS:
                    known = ", ".join(sorted(MODELS))
                    raise ParametersInvalid(
                        f"{where} : modèle inconnu {model!r} (modèles : {known})"
                    )
                filled = [c for c in threshold_cols if (raw.get(c) or "").strip()]
                thresholds = tuple(_float(raw, c, None, where, comma) for c in filled)
                if model in POLYTOMOUS and not thresholds:
                    raise ParametersInvalid(f"{where} : un item {model} demande des seuils b1..bk")
                if not thresholds_in_order(model, thresholds):
                    raise ParametersInvalid(
                        f"{where} : les seuils GRM de {item_id} ne croissent pas"
                    )
                a = _float(raw, "a", None, where, comma)
                if a <= 0:
                    raise ParametersInvalid(f"{where} : a={a} doit être positif")
                mean_threshold = sum(thresholds) / len(thresholds) if thresholds else None
                c = _float(raw, "c", 0.0, where, comma)
                d = _float(raw, "d", 1.0, where, comma)
                if not 0 <= c < d <= 1:
                    raise ParametersInvalid(
                        f"{where} : asymptotes c={c}, d={d} hors de 0 ≤ c < d ≤ 1"
                    )
                # the engine's models (placement.irt): only 3PL has c, only 4PL d as well
                if model not in ("3PL", "4PL") and (c != 0 or d != 1):
                    raise ParametersInvalid(
                        f"{where} : un item {model} a c = 0 et d = 1 (lu : c={c}, d={d})"
                        + (" ; 3PL ou 4PL pour des asymptotes" if model in ("1PL", "2PL") else "")
                    )
                if model == "3PL" and d != 1:
                    raise ParametersInvalid(
                        f"{where} : un item 3PL a d = 1 (lu : d={d}) ; 4PL pour une asymptote haute"
                    )
                rows.append(
                    ParameterRow(
                        id=item_id,
                        skill=(raw.get("skill") or "").strip(),
                        theme=(raw.get("theme") or "").strip(),
                        model=model,
                        a=a,
                        b=_float(raw, "b", mean_threshold, where, comma),
                        c=c,
                        d=d,
                        thresholds=thresholds if model in POLYTOMOUS else (),
                        provisional=_flag(raw, "provisional", where),
                        pretest=_flag(raw, "pretest", where),
                        enemies=tuple(
                            e
                            for e in _ENEMY_SEPARATORS.split((raw.get("enemies") or "").strip())
                            if e
                        ),
                        non_reader=_flag(raw, "non_reader", where),
                    )
                )
    except OSError as exc:
        raise ParametersInvalid(f"{path} : lecture impossible ({exc.strerror or exc})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise ParametersInvalid(
            f"{path} : pas un fichier CSV lisible (ni UTF-8 ni Windows-1252 : {exc})"
        ) from exc
    return ParameterTable(tuple(rows))


def provisional_row(
    item: Item, cut_scores: Mapping[str, Mapping[str, float]], rule: Mapping[str, Any]
) -> ParameterRow:
    """The provisional parameters of a new item, by the rule in this module's docstring."""
    r = {**DEFAULT_RULE, **rule}
    b = float(cut_scores[item.skill][item.target_level])
    a = float(r["discrimination_by_type"].get(item.type, r["default_discrimination"]))
    pretest = item.status == "pilot"
    if item.rubric is not None:
        k = item.rubric.max_score
        step = float(r["threshold_step"])
        thresholds = tuple(round(b + (j - (k + 1) / 2) * step, 4) for j in range(1, k + 1))
        model, c = str(r["polytomous_model"]), 0.0
    elif item.type in CHOICE_TYPES and item.choices:
        thresholds, model = (), "3PL"
        c = round(float(r["guessing_factor"]) / len(item.choices), 4)
    else:
        thresholds, model, c = (), "2PL", 0.0
    return ParameterRow(
        id=item.id,
        skill=item.skill,
        theme=item.theme,
        model=model,
        a=a,
        b=b,
        c=c,
        thresholds=thresholds,
        provisional=True,
        pretest=pretest,
    )


def explicit_row(item: Item) -> ParameterRow:
    """The parameters written in the item's own ``parameters:`` block (validated beforehand)."""
    p = item.parameters or {}
    model = str(p["model"])
    thresholds = tuple(float(t) for t in p.get("thresholds") or ())
    b = float(p["b"]) if "b" in p else sum(thresholds) / len(thresholds)
    return ParameterRow(
        id=item.id,
        skill=item.skill,
        theme=item.theme,
        model=model,
        a=float(p["a"]),
        b=b,
        c=float(p.get("c", 0.0)),
        d=float(p.get("d", 1.0)),
        thresholds=thresholds,
        provisional=False,
        pretest=item.status == "pilot",
    )


def build_parameters(
    items: Mapping[str, Item],
    cut_scores: Mapping[str, Mapping[str, float]],
    rule: Mapping[str, Any],
    previous: ParameterTable | None = None,
    unchanged: frozenset[str] = frozenset(),
) -> ParameterTable:
    """Parameters for a release: the item's own block, else the previous release's row for an
    unchanged item, else the provisional rule. Rows are sorted by skill (CO, CE, EO, EE), then id.
    """
    rows = []
    order = {s: i for i, s in enumerate(SKILLS)}
    for item in sorted(items.values(), key=lambda it: (order[it.skill], it.id)):
        old = previous.get(item.id) if previous is not None else None
        if item.parameters:
            row = explicit_row(item)
        elif old is not None and item.id in unchanged:
            row = replace(old, skill=item.skill, theme=item.theme, pretest=item.status == "pilot")
        else:
            row = provisional_row(item, cut_scores, rule)
        rows.append(row)
    return ParameterTable(tuple(rows))


def with_item_flags(table: ParameterTable, items: Mapping[str, Item]) -> ParameterTable:
    """The table with each row's ``non_reader`` and ``enemies`` taken from its item.

    A release's ``parameters.csv`` is then a complete bank of one's own: the engine, the
    simulation and the calibration run the non-reader path and keep enemies apart from the CSV
    alone. The items are the source: flags a CSV brings are replaced by theirs.
    """
    return ParameterTable(
        tuple(
            replace(row, non_reader=item.non_reader, enemies=tuple(item.enemies))
            if (item := items.get(row.id)) is not None
            else row
            for row in table
        )
    )


def check_against_items(table: ParameterTable, items: Mapping[str, Item]) -> None:
    """Raise :class:`ParametersInvalid` unless the table has exactly one fitting row per item."""
    ids = {r.id for r in table}
    missing, extra = sorted(set(items) - ids), sorted(ids - set(items))
    problems = []
    if missing:
        problems.append(f"no parameters for {', '.join(missing)}")
    if extra:
        problems.append(f"parameters for unknown items {', '.join(extra)}")
    for row in table:
        item = items.get(row.id)
        if item is not None:
            problems += [f"{row.id}: {message}" for _, message in row_problems(row, item)]
    if problems:
        raise ParametersInvalid("; ".join(problems))
