"""Item pools from parameter CSVs and bank releases.

The parameter CSV is the exchange format of ``itembank``, ``placement`` and ``calibration``,
read by one reader for all three, :func:`itembank.parameters.read_parameters_csv`:

==============  ==========================================================================
column          meaning
==============  ==========================================================================
``id``          item id (unique)
``skill``       CO, CE, EO, EE (any label works for a bank of one's own)
``theme``       content theme (content balancing); empty is allowed
``model``       1PL, 2PL, 3PL, 4PL, GRM, GPCM
``a, b``        slope and location (``b`` may be empty for GRM/GPCM: mean threshold)
``c, d``        lower and upper asymptotes; empty or missing → 0 and 1
``b1..bk``      GRM/GPCM thresholds (empty cells beyond the item's own k)
optional        ``provisional`` (kept, not used), ``pretest`` (0/1), ``enemies`` (ids separated
                by ``;`` or spaces), ``non_reader`` (0/1)
==============  ==========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import itembank
from itembank.errors import ItemBankError, ParametersInvalid
from itembank.parameters import ParameterRow, ParameterTable, read_parameters_csv
from itembank.wording import french as french_bank
from placement.errors import InvalidBank, InvalidPool
from placement.exposure import release_exposure
from placement.irt import Pool


def bank_reason(exc: ItemBankError | OSError) -> str:
    """Why a release cannot be loaded or published, in French, for a person's command line.

    The item bank's own messages are English (:mod:`itembank.wording` gives them in French);
    a system error is its file and reason.
    """
    if isinstance(exc, ItemBankError):
        return french_bank(str(exc))
    where = f"{exc.filename} : " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def read_parameter_table(path: str | Path) -> ParameterTable:
    """A parameter CSV read by the format's one reader; raises :class:`InvalidBank`."""
    try:
        return read_parameters_csv(Path(path))
    except ParametersInvalid as exc:
        raise InvalidBank(str(exc)) from None


def pool_from_rows(
    rows: Sequence[ParameterRow],
    *,
    source: str = "parameters",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Pool:
    """Build a pool from parameter rows; ``overrides[id]`` may set enemies/non_reader/pretest.

    Raises
    ------
    InvalidPool
        No rows, or parameters that make no valid model (see :class:`placement.irt.Pool`).
    """
    if not rows:
        raise InvalidPool(f"{source} : aucun item (la table des paramètres est vide)")
    overrides = overrides or {}
    enemies, non_reader, pretest = [], [], []
    for row in rows:
        extra = overrides.get(row.id, {})
        enemies.append(tuple(extra.get("enemies", row.enemies)))
        non_reader.append(bool(extra.get("non_reader", row.non_reader)))
        pretest.append(bool(extra.get("pretest")) or row.pretest)
    try:
        return _pool(rows, enemies, non_reader, pretest)
    except InvalidPool as exc:
        # the item is named; the file it came from too, for the person who fixes it
        raise InvalidPool(f"{source} : {exc}") from None


def _pool(
    rows: Sequence[ParameterRow],
    enemies: list[tuple[str, ...]],
    non_reader: list[bool],
    pretest: list[bool],
) -> Pool:
    return Pool.create(
        [r.id for r in rows],
        a=[r.a for r in rows],
        b=[r.b for r in rows],
        models=[r.model for r in rows],
        skills=[r.skill for r in rows],
        themes=[r.theme for r in rows],
        c=[r.c for r in rows],
        d=[r.d for r in rows],
        thresholds=[list(r.thresholds) for r in rows],
        enemies=enemies,
        non_reader=non_reader,
        pretest=pretest,
    )


def pool_from_csv(path: str | Path) -> Pool:
    """Read a parameter CSV into a pool (see the module docstring for the columns)."""
    return pool_from_rows(read_parameter_table(path).rows, source=str(path))


def pool_from_release(release: Any, *, parameters_path: Path | None = None) -> Pool:
    """The pool of a bank release (duck-typed ``itembank.Release``).

    Reads ``parameters_path``, by default the release's own ``release.parameters_path`` (another
    table of the same items, e.g. a recalibration, can be given); for each row,
    ``release.items[id]`` gives the enemies, the non-reader flag and the status: ``retired`` and
    ``draft`` items are left out, ``pilot`` items are pretest items (as are rows flagged
    ``pretest``). A row without an item in the release is an error.
    """
    path = release.parameters_path if parameters_path is None else parameters_path
    table = read_parameter_table(path)
    items = release.items
    kept, overrides = [], {}
    for row in table:
        item = items.get(row.id) if hasattr(items, "get") else None
        if item is None:
            raise InvalidBank(
                f"{path} : l'item {row.id!r} a des paramètres mais n'est pas dans la "
                f"version {getattr(release, 'version', '?')}"
            )
        status = getattr(item, "status", "operational")
        if status in ("retired", "draft"):
            continue
        kept.append(row)
        overrides[row.id] = {
            "enemies": tuple(getattr(item, "enemies", ()) or ()),
            "non_reader": bool(getattr(item, "non_reader", False)),
            "pretest": status == "pilot",
        }
    return pool_from_rows(kept, source=str(path), overrides=overrides)


@dataclass(frozen=True)
class BankSource:
    """A pool and what its release says about it (None for a plain CSV)."""

    pool: Pool
    version: str
    cut_scores: dict[str, dict[str, float]] | None = None
    skill_correlation: tuple[tuple[float, ...], ...] | None = None
    policy: str | None = None
    #: the release's exposure control (``placement.exposure``), None without one
    exposure: dict[str, Any] | None = None


def load_release_spec(spec: str | Path, root: str | Path | None = None) -> itembank.Release:
    """The release ``spec`` names: a release directory, ``latest`` (the newest) or a version,
    in ``root`` (default: itembank's). Raises :class:`InvalidBank` in French."""
    path = Path(spec)
    if len(path.parts) > 1 and not path.is_dir():
        # a path, not a version number: say that the folder is missing, not that the
        # whole path is a malformed version
        raise InvalidBank(f"{spec} : dossier introuvable (un dossier de version, ou un CSV)")
    try:
        if path.is_dir():
            return itembank.load_release(path.name, root=path.parent)
        version = None if str(spec) == "latest" else str(spec)
        return itembank.load_release(version, Path(root) if root is not None else None)
    except (ItemBankError, OSError) as exc:
        raise InvalidBank(
            f"version de banque {str(spec)!r} illisible : {bank_reason(exc)}"
        ) from None


def load_bank(spec: str | Path, root: str | Path | None = None) -> BankSource:
    """A pool from a CSV parameter table, a release directory or a release version.

    ``spec`` ending in ``.csv`` is read with :func:`pool_from_csv`; a directory is a release
    directory; ``latest`` is the newest release; anything else is a version passed to
    ``itembank.load_release``. ``root`` is the releases' folder of ``latest`` and of a version
    (default: itembank's).
    """
    path = Path(spec)
    if path.suffix.lower() == ".csv":
        return BankSource(pool_from_csv(path), version=path.stem)
    release = load_release_spec(spec, root)
    return BankSource(
        pool_from_release(release),
        version=str(release.version),
        cut_scores={k: dict(v) for k, v in release.cut_scores.items()},
        skill_correlation=tuple(tuple(float(x) for x in row) for row in release.skill_correlation),
        policy=getattr(release, "policy", None),
        exposure=release_exposure(release),
    )
