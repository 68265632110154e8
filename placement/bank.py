"""Item pools from parameter CSVs and bank releases.

The parameter CSV is the exchange format of ``itembank``, ``placement`` and ``calibration``:

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

import csv
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from placement.errors import InvalidBank, InvalidPool
from placement.irt import POLYTOMOUS, Pool

REQUIRED_COLUMNS = ("id", "skill", "theme", "model", "a", "b")
_THRESHOLD = re.compile(r"^b(\d+)$")
_TRUE = {"1", "true", "yes", "oui", "vrai"}
_FALSE = {"", "0", "false", "no", "non", "faux"}


def _flag(value: str | None, where: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidBank(f"{where}: {value!r} is not a yes/no value (use 1 or 0)")


def _float(value: str | None, where: str, default: float | None = None) -> float:
    text = (value or "").strip()
    if not text:
        if default is None:
            raise InvalidBank(f"{where} is empty")
        return default
    try:
        out = float(text)
    except ValueError:
        raise InvalidBank(f"{where}: {text!r} is not a number") from None
    if math.isnan(out):
        raise InvalidBank(f"{where} is NaN")
    return out


def read_parameter_rows(path: str | Path) -> list[dict[str, str]]:
    """The rows of a parameter CSV as dicts; raises :class:`InvalidBank` when unreadable."""
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            columns = [c.strip() for c in reader.fieldnames or []]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise InvalidBank(f"{path}: missing column(s) {', '.join(missing)}")
            return [
                {(k or "").strip(): (v or "") for k, v in row.items() if k is not None}
                for row in reader
            ]
    except OSError as exc:
        raise InvalidBank(f"cannot read parameter file {str(path)!r}: {exc.strerror}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidBank(f"{path}: not a UTF-8 CSV file ({exc})") from None


def pool_from_rows(
    rows: list[dict[str, str]],
    *,
    source: str = "parameters",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Pool:
    """Build a pool from parameter rows; ``overrides[id]`` may set enemies/non_reader/pretest.

    Raises
    ------
    InvalidBank
        A malformed cell (the row and column are named).
    InvalidPool
        Parameters that make no valid model (see :class:`placement.irt.Pool`).
    """
    if not rows:
        raise InvalidPool(f"{source}: the item pool is empty")
    threshold_columns = sorted((int(m.group(1)), c) for c in rows[0] if (m := _THRESHOLD.match(c)))
    ids, skills, themes, models = [], [], [], []
    a, b, c, d, steps, enemies, non_reader, pretest = [], [], [], [], [], [], [], []
    for line, row in enumerate(rows, start=2):
        where = f"{source}, line {line}"
        item_id = row.get("id", "").strip()
        if not item_id:
            raise InvalidBank(f"{where}: empty id")
        model = row.get("model", "").strip().upper()
        ids.append(item_id)
        skills.append(row.get("skill", "").strip())
        themes.append(row.get("theme", "").strip())
        models.append(model)
        a.append(_float(row.get("a"), f"{where}, column a"))
        item_steps = []
        for _, column in threshold_columns:
            cell = row.get(column, "").strip()
            if cell:
                item_steps.append(_float(cell, f"{where}, column {column}"))
        steps.append(item_steps)
        b_default = sum(item_steps) / len(item_steps) if item_steps else None
        if model in POLYTOMOUS and not item_steps:
            raise InvalidBank(f"{where}: a {model} item needs thresholds b1..bk")
        b.append(_float(row.get("b"), f"{where}, column b", b_default))
        c.append(_float(row.get("c"), f"{where}, column c", 0.0))
        d.append(_float(row.get("d"), f"{where}, column d", 1.0))
        extra = (overrides or {}).get(item_id, {})
        raw_enemies = row.get("enemies", "")
        enemies.append(
            tuple(extra["enemies"])
            if "enemies" in extra
            else tuple(e for e in re.split(r"[;,\s|]+", raw_enemies.strip()) if e)
        )
        non_reader.append(
            bool(extra["non_reader"])
            if "non_reader" in extra
            else _flag(row.get("non_reader"), f"{where}, column non_reader")
        )
        pretest.append(
            bool(extra.get("pretest")) or _flag(row.get("pretest"), f"{where}, column pretest")
        )
    return Pool.create(
        ids,
        a=a,
        b=b,
        models=models,
        skills=skills,
        themes=themes,
        c=c,
        d=d,
        thresholds=steps,
        enemies=enemies,
        non_reader=non_reader,
        pretest=pretest,
    )


def pool_from_csv(path: str | Path) -> Pool:
    """Read a parameter CSV into a pool (see the module docstring for the columns)."""
    return pool_from_rows(read_parameter_rows(path), source=str(path))


def pool_from_release(release: Any) -> Pool:
    """The pool of a bank release (duck-typed ``itembank.Release``).

    Reads ``release.parameters_path``; for each row, ``release.items[id]`` gives the enemies,
    the non-reader flag and the status: ``retired`` and ``draft`` items are left out,
    ``pilot`` items are pretest items (as are rows flagged ``pretest``). A row without an item
    in the release is an error.
    """
    rows = read_parameter_rows(release.parameters_path)
    items = release.items
    kept, overrides = [], {}
    for row in rows:
        item_id = row.get("id", "").strip()
        item = items.get(item_id) if hasattr(items, "get") else None
        if item is None:
            raise InvalidBank(
                f"{release.parameters_path}: item {item_id!r} has parameters but is not in "
                f"release {getattr(release, 'version', '?')}"
            )
        status = getattr(item, "status", "operational")
        if status in ("retired", "draft"):
            continue
        kept.append(row)
        overrides[item_id] = {
            "enemies": tuple(getattr(item, "enemies", ()) or ()),
            "non_reader": bool(getattr(item, "non_reader", False)),
            "pretest": status == "pilot",
        }
    return pool_from_rows(kept, source=str(release.parameters_path), overrides=overrides)


@dataclass(frozen=True)
class BankSource:
    """A pool and what its release says about it (None for a plain CSV)."""

    pool: Pool
    version: str
    cut_scores: dict[str, dict[str, float]] | None = None
    skill_correlation: tuple[tuple[float, ...], ...] | None = None
    policy: str | None = None


def load_bank(spec: str | Path) -> BankSource:
    """A pool from a CSV parameter table, a release directory or a release version.

    ``spec`` ending in ``.csv`` is read with :func:`pool_from_csv`; a directory is a release
    directory; ``latest`` is the newest release; anything else is a version passed to
    ``itembank.load_release``.
    """
    path = Path(spec)
    if path.suffix.lower() == ".csv":
        return BankSource(pool_from_csv(path), version=path.stem)
    import itembank  # the bank tooling is only needed for releases
    from itembank.errors import ItemBankError

    try:
        if path.is_dir():
            release = itembank.load_release(path.name, root=path.parent)
        else:
            release = itembank.load_release(None if str(spec) == "latest" else str(spec))
    except (ItemBankError, OSError) as exc:
        raise InvalidBank(f"cannot load bank release {str(spec)!r}: {exc}") from None
    return BankSource(
        pool_from_release(release),
        version=str(release.version),
        cut_scores={k: dict(v) for k, v in release.cut_scores.items()},
        skill_correlation=tuple(tuple(float(x) for x in row) for row in release.skill_correlation),
        policy=getattr(release, "policy", None),
    )
