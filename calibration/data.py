"""The two tables every step exchanges: item parameters and long responses.

* The **parameter CSV** is the engine's table (``id, skill, theme, model, a, b, c, d, b1..bk,
  provisional, pretest``). ``model`` is ``1PL``, ``2PL``, ``3PL`` (right/wrong items, with
  :math:`P(\\theta) = c + (d - c)\\,\\sigma(a(\\theta - b))`) or ``GRM`` (rubric scores
  ``0..k`` with boundaries :math:`P(X \\ge j) = \\sigma(a(\\theta - b_j))`); ``4PL`` and ``GPCM``
  items are read, used in likelihoods and kept, not estimated. For a rubric item ``b`` holds
  the mean of its thresholds, so that drift and plots can treat every item alike.
* The **responses file** is the project's one format, :mod:`placement.responses` (its columns
  are documented there): ``person_id, item_id, score`` and optionally ``release`` (the bank
  version the response was given under) and ``group`` (for DIF); other columns are ignored.
  Person ids are pseudonyms; nothing else about the person is read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from calibration.errors import MalformedCSV, UnknownItem
from itembank.errors import ParametersInvalid
from itembank.parameters import ParameterRow, read_parameters_csv, write_parameters_csv
from placement.errors import InvalidResponses
from placement.responses import read_responses as read_response_file
from placement.responses import write_responses as write_response_file
from placement.staging import staged

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MODELS = ("1PL", "2PL", "3PL", "4PL", "GRM", "GPCM")
DICHOTOMOUS = ("1PL", "2PL", "3PL", "4PL")
POLYTOMOUS = ("GRM", "GPCM")
#: Models the fit estimates; items of the others (4PL, GPCM) are kept at their values.
ESTIMATED = ("1PL", "2PL", "3PL", "GRM")


def group_rows(keys: IntArray, n: int) -> list[IntArray]:
    """Rows of each value ``0..n-1`` of ``keys``, ascending within each value.

    One stable sort instead of one scan per value: ``group_rows(keys, n)[k]`` equals
    ``np.flatnonzero(keys == k)``.
    """
    order = np.argsort(keys, kind="stable")
    starts = np.searchsorted(keys[order], np.arange(n + 1))
    return [order[starts[k] : starts[k + 1]] for k in range(n)]


@dataclass(frozen=True, slots=True)
class ItemParameters:
    """An item-parameter table; index ``i`` is the same item in every array.

    Attributes
    ----------
    ids, skills, themes, models : tuple of str, each (n,)
    a, b, c, d : ndarray of float, each (n,)
        Discrimination, location (mean threshold for GRM), lower and upper asymptotes.
    thresholds : ndarray of float, (n, kmax)
        GRM thresholds :math:`b_1 < \\dots < b_k`, NaN-padded; all NaN for right/wrong items.
    provisional, pretest : ndarray of bool, each (n,)
    non_reader : ndarray of bool, (n,)
        Items that need no reading (the non-reader path); the CSV's optional ``non_reader``
        column, carried through a calibration unchanged. Default: all False.
    enemies : tuple of tuple of str, (n,)
        Items never given in the same test (the CSV's optional ``enemies``). Default: none.
    """

    ids: tuple[str, ...]
    skills: tuple[str, ...]
    themes: tuple[str, ...]
    models: tuple[str, ...]
    a: FloatArray
    b: FloatArray
    c: FloatArray
    d: FloatArray
    thresholds: FloatArray
    provisional: BoolArray
    pretest: BoolArray
    non_reader: BoolArray | None = None
    enemies: tuple[tuple[str, ...], ...] | None = None
    _index: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        # frozen: the optional columns get their defaults through object.__setattr__
        if self.non_reader is None:
            object.__setattr__(self, "non_reader", np.zeros(n, dtype=bool))
        if self.enemies is None:
            object.__setattr__(self, "enemies", ((),) * n)
        names = ("skills", "themes", "models", "a", "b", "c", "d", "provisional", "pretest")
        for name in (*names, "non_reader", "enemies"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} entries, ids has {n}")
        if self.thresholds.ndim != 2 or self.thresholds.shape[0] != n:
            raise ValueError("thresholds must have shape (n, kmax)")
        if len(set(self.ids)) != n:
            raise ValueError("item ids are not unique")
        self._index.clear()
        self._index.update({item_id: i for i, item_id in enumerate(self.ids)})

    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self.ids)

    def __contains__(self, item_id: object) -> bool:
        """Whether the table has an item ``item_id`` (constant time)."""
        return item_id in self._index

    def position(self, item_id: str) -> int | None:
        """Position of ``item_id``, None when the table has no such item."""
        return self._index.get(item_id)

    def index(self, item_id: str) -> int:
        """Position of ``item_id``; raises :class:`UnknownItem`."""
        try:
            return self._index[item_id]
        except KeyError:
            raise UnknownItem([item_id]) from None

    def indices(self, item_ids: Iterable[str]) -> IntArray:
        """Positions of several ids; raises :class:`UnknownItem` naming every unknown id."""
        ids = list(item_ids)
        unknown = sorted({i for i in ids if i not in self._index})
        if unknown:
            raise UnknownItem(unknown)
        return np.fromiter((self._index[i] for i in ids), dtype=np.int64, count=len(ids))

    def skill_mask(self, skill: str) -> BoolArray:
        """Which rows belong to ``skill``, (n,)."""
        return np.array([s == skill for s in self.skills])

    def skill_rows(self, skill: str) -> IntArray:
        """Rows of the items of ``skill``, ascending."""
        return np.flatnonzero(self.skill_mask(skill))

    @property
    def max_scores(self) -> IntArray:
        """Highest score of each item, (n,): 1 for right/wrong items, k for a GRM item."""
        k = np.sum(~np.isnan(self.thresholds), axis=1)
        grm = np.array([m in POLYTOMOUS for m in self.models])
        return np.where(grm, np.maximum(k, 1), 1).astype(np.int64)

    def with_values(self, **changes: Any) -> ItemParameters:
        """A copy with some arrays replaced (the others are copied, never shared)."""
        fields: dict[str, Any] = {
            "ids": self.ids,
            "skills": self.skills,
            "themes": self.themes,
            "models": self.models,
            "a": self.a.copy(),
            "b": self.b.copy(),
            "c": self.c.copy(),
            "d": self.d.copy(),
            "thresholds": self.thresholds.copy(),
            "provisional": self.provisional.copy(),
            "pretest": self.pretest.copy(),
            "non_reader": self.non_reader_mask.copy(),
            "enemies": self.enemy_lists,
        }
        fields.update(changes)
        return ItemParameters(**fields)

    def subset(self, indices: Sequence[int] | IntArray) -> ItemParameters:
        """The table restricted to ``indices`` (in that order)."""
        idx = np.asarray(indices, dtype=np.int64)
        return ItemParameters(
            ids=tuple(self.ids[i] for i in idx),
            skills=tuple(self.skills[i] for i in idx),
            themes=tuple(self.themes[i] for i in idx),
            models=tuple(self.models[i] for i in idx),
            a=self.a[idx].copy(),
            b=self.b[idx].copy(),
            c=self.c[idx].copy(),
            d=self.d[idx].copy(),
            thresholds=self.thresholds[idx].copy(),
            provisional=self.provisional[idx].copy(),
            pretest=self.pretest[idx].copy(),
            non_reader=self.non_reader_mask[idx].copy(),
            enemies=tuple(self.enemy_lists[i] for i in idx),
        )

    @property
    def non_reader_mask(self) -> BoolArray:
        """``non_reader`` (never None after construction), (n,)."""
        assert self.non_reader is not None  # set by __post_init__
        return self.non_reader

    @property
    def enemy_lists(self) -> tuple[tuple[str, ...], ...]:
        """``enemies`` (never None after construction), (n,)."""
        assert self.enemies is not None  # set by __post_init__
        return self.enemies


def make_parameters(
    ids: Sequence[str],
    models: Sequence[str],
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    c: npt.ArrayLike | None = None,
    thresholds: npt.ArrayLike | None = None,
    skills: Sequence[str] | None = None,
    themes: Sequence[str] | None = None,
) -> ItemParameters:
    """Build a table from arrays (simulations, tests); GRM items need ``thresholds`` rows."""
    n = len(ids)
    thr = (
        np.full((n, 1), np.nan)
        if thresholds is None
        else np.atleast_2d(np.asarray(thresholds, dtype=float))
    )
    b_arr = np.asarray(b, dtype=float).copy()
    grm = np.array([m in POLYTOMOUS for m in models], dtype=bool)
    if grm.any():
        b_arr[grm] = np.nanmean(thr[grm], axis=1)
    return ItemParameters(
        ids=tuple(ids),
        skills=tuple(skills) if skills is not None else ("CE",) * n,
        themes=tuple(themes) if themes is not None else ("vie pratique",) * n,
        models=tuple(models),
        a=np.asarray(a, dtype=float).copy(),
        b=b_arr,
        c=np.zeros(n) if c is None else np.asarray(c, dtype=float).copy(),
        d=np.ones(n),
        thresholds=thr,
        provisional=np.zeros(n, dtype=bool),
        pretest=np.zeros(n, dtype=bool),
    )


def _check_file(path: str | Path) -> None:
    target = Path(path)
    if target.is_dir():
        raise MalformedCSV(str(path), "c'est un dossier, pas un fichier CSV")
    if not target.is_file():
        raise MalformedCSV(str(path), "fichier introuvable")


def read_parameters(path: str | Path) -> ItemParameters:
    """Read a parameter CSV with the format's one reader (:mod:`itembank.parameters`).

    Raises
    ------
    MalformedCSV
        Missing columns, an unknown model, a non-numeric value, a GRM item without ordered
        thresholds, a duplicate id, no item at all.
    """
    name = str(path)
    _check_file(path)
    try:
        table = read_parameters_csv(Path(path))
    except ParametersInvalid as exc:
        message = str(exc).removeprefix(f"{name}, ").removeprefix(f"{name} : ")
        raise MalformedCSV(name, message) from None
    rows = table.rows
    if not rows:
        raise MalformedCSV(name, "aucun item (la ligne d'en-tête seule)")
    kmax = max(1, *(len(r.thresholds) for r in rows))
    thresholds = np.full((len(rows), kmax), np.nan)
    for i, r in enumerate(rows):
        thresholds[i, : len(r.thresholds)] = r.thresholds
    return ItemParameters(
        ids=tuple(r.id for r in rows),
        skills=tuple(r.skill for r in rows),
        themes=tuple(r.theme for r in rows),
        models=tuple(r.model for r in rows),
        a=np.array([r.a for r in rows]),
        # the location of a rubric item is its mean threshold, whatever its b column says
        b=np.array([float(np.mean(r.thresholds)) if r.thresholds else r.b for r in rows]),
        c=np.array([r.c for r in rows]),
        d=np.array([r.d for r in rows]),
        thresholds=thresholds,
        provisional=np.array([r.provisional for r in rows], dtype=bool),
        pretest=np.array([r.pretest for r in rows], dtype=bool),
        non_reader=np.array([r.non_reader for r in rows], dtype=bool),
        enemies=tuple(r.enemies for r in rows),
    )


def write_parameters(params: ItemParameters, path: str | Path) -> Path:
    """Write ``params`` as a parameter CSV, with the format's one writer.

    :mod:`itembank.parameters` writes it, so a work file and a release's ``parameters.csv`` are
    the same format to the byte: 4 decimals (far below any parameter's standard error), flags
    as 0/1.
    """
    rows = [
        ParameterRow(
            id=item_id,
            skill=params.skills[i],
            theme=params.themes[i],
            model=params.models[i],
            a=float(params.a[i]),
            b=float(params.b[i]),
            c=float(params.c[i]),
            d=float(params.d[i]),
            thresholds=tuple(float(t) for t in params.thresholds[i] if not math.isnan(t))
            if params.models[i] in POLYTOMOUS
            else (),
            provisional=bool(params.provisional[i]),
            pretest=bool(params.pretest[i]),
            enemies=params.enemy_lists[i],
            non_reader=bool(params.non_reader_mask[i]),
        )
        for i, item_id in enumerate(params.ids)
    ]
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with staged(out) as partial:  # written beside, moved in once complete
        write_parameters_csv(rows, partial)
    return out


@dataclass(frozen=True, slots=True)
class Responses:
    """Long responses mapped onto an item table.

    Attributes
    ----------
    person_ids : tuple of str, (N,)
        Pseudonymous person ids, in order of first appearance.
    person : ndarray of int, (R,)
        Person index of each response.
    item : ndarray of int, (R,)
        Item index (into the parameter table) of each response.
    score : ndarray of int, (R,)
        Score, ``0..max_score`` of the item.
    groups : tuple of str, (N,) or None
        Group of each person (for DIF) when the CSV has a ``group`` column.
    releases : tuple of str, (R,) or None
        Release each response was given under, when the CSV has a ``release`` column.
    """

    person_ids: tuple[str, ...]
    person: IntArray
    item: IntArray
    score: IntArray
    groups: tuple[str, ...] | None = None
    releases: tuple[str, ...] | None = None
    notes: tuple[str, ...] = ()

    @property
    def n_persons(self) -> int:
        """Number of persons."""
        return len(self.person_ids)

    @property
    def n_responses(self) -> int:
        """Number of responses."""
        return int(self.person.size)

    def counts(self, n_items: int) -> IntArray:
        """Number of responses per item, (n_items,)."""
        return np.bincount(self.item, minlength=n_items).astype(np.int64)

    def restrict(self, items: IntArray, n_items: int) -> Responses:
        """Responses to ``items`` only, with item indices renumbered to ``0..len(items)-1``
        (persons keep their indices, even those left without responses)."""
        lookup = -np.ones(n_items, dtype=np.int64)
        lookup[items] = np.arange(len(items))
        keep = lookup[self.item] >= 0
        return Responses(
            person_ids=self.person_ids,
            person=self.person[keep],
            item=lookup[self.item[keep]],
            score=self.score[keep],
            groups=self.groups,
            releases=None
            if self.releases is None
            else tuple(r for r, k in zip(self.releases, keep, strict=True) if k),
        )

    def rows_by_item(self, n_items: int) -> list[IntArray]:
        """The response rows of each item, (n_items,) arrays, ascending within each item."""
        return group_rows(self.item, n_items)

    def take_persons(self, persons: IntArray) -> Responses:
        """Responses of the given persons (repeats allowed: bootstrap), renumbered 0..len-1."""
        by_person = group_rows(self.person, self.n_persons)
        chunks = [by_person[p] for p in persons]
        lengths = np.array([c.size for c in chunks], dtype=np.int64)
        rows = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)
        return Responses(
            person_ids=tuple(f"{self.person_ids[p]}#{k}" for k, p in enumerate(persons)),
            person=np.repeat(np.arange(len(persons), dtype=np.int64), lengths),
            item=self.item[rows],
            score=self.score[rows],
            groups=None if self.groups is None else tuple(self.groups[p] for p in persons),
            releases=None if self.releases is None else tuple(self.releases[r] for r in rows),
        )


def responses_from_arrays(
    person: npt.ArrayLike,
    item: npt.ArrayLike,
    score: npt.ArrayLike,
    *,
    groups: Sequence[str] | None = None,
) -> Responses:
    """Build :class:`Responses` from index arrays (simulations, tests)."""
    p = np.asarray(person, dtype=np.int64)
    n_persons = int(p.max()) + 1 if p.size else 0
    return Responses(
        person_ids=tuple(str(i) for i in range(n_persons)),
        person=p,
        item=np.asarray(item, dtype=np.int64),
        score=np.asarray(score, dtype=np.int64),
        groups=None if groups is None else tuple(groups),
    )


def read_responses(path: str | Path, params: ItemParameters) -> Responses:
    """Read a responses file (:mod:`placement.responses`, the one format) onto ``params``.

    The file's own checks are the format reader's; here the ids are mapped onto the table and
    each score checked against its item's maximum. Every message names the user's file, the
    line and the user's ids.

    Raises
    ------
    MalformedCSV
        Missing or unreadable file, missing columns, a non-integer or out-of-range score, a
        person answering the same item twice, a person in two groups, no scored response.
    UnknownItem
        Item ids absent from ``params`` (all of them are named, with the first line of each).
    """
    name = str(path)
    try:
        table = read_response_file(path)
    except InvalidResponses as exc:
        where = "" if exc.line is None else f"ligne {exc.line} : "
        raise MalformedCSV(name, f"{where}{exc.reason}") from None
    # ids to integer codes once (dicts of the distinct ids), then numpy for every row
    item_code, item_names = table.item_codes, table.items
    person, person_ids = table.person_codes, table.persons
    positions = [params.position(iid) for iid in item_names]
    if None in positions:
        first_row = np.unique(item_code, return_index=True)[1]
        unknown = {
            iid: table.lines[int(first_row[k])]
            for k, iid in enumerate(item_names)
            if positions[k] is None
        }
        raise UnknownItem(list(unknown), lines=unknown, path=name)
    item = np.array(positions, dtype=np.int64)[item_code]
    score = np.array(table.scores, dtype=np.int64)
    too_high = score > params.max_scores[item]
    if too_high.any():
        r = int(np.argmax(too_high))
        raise MalformedCSV(
            name,
            f"ligne {table.lines[r]} : score {score[r]} au-dessus du maximum "
            f"{params.max_scores[item[r]]} de l'item {params.ids[item[r]]}",
        )
    groups = None
    if table.groups is not None:
        by_person = dict(zip(table.person_ids, table.groups, strict=True))
        groups = tuple(by_person[pid] for pid in person_ids)
    return Responses(
        person_ids=person_ids,
        person=person,
        item=item,
        score=score,
        groups=groups,
        releases=tuple(table.releases) if table.releases is not None else None,
        notes=tuple(table.notes()),
    )


def write_responses(responses: Responses, params: ItemParameters, path: str | Path) -> Path:
    """Write ``responses`` in the one responses format (:mod:`placement.responses`)."""
    extra = [c for c, v in (("release", responses.releases), ("group", responses.groups)) if v]
    rows = (
        {
            "person_id": responses.person_ids[int(p)],
            "item_id": params.ids[int(i)],
            "score": int(s),
            **({"release": responses.releases[r]} if responses.releases is not None else {}),
            **({"group": responses.groups[int(p)]} if responses.groups is not None else {}),
        }
        for r, (p, i, s) in enumerate(
            zip(responses.person, responses.item, responses.score, strict=True)
        )
    )
    write_response_file(path, rows, extra)
    return Path(path)


__all__ = [
    "DICHOTOMOUS",
    "ESTIMATED",
    "MODELS",
    "POLYTOMOUS",
    "ItemParameters",
    "Responses",
    "group_rows",
    "make_parameters",
    "read_parameters",
    "read_responses",
    "responses_from_arrays",
    "write_parameters",
    "write_responses",
]
