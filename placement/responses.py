"""The responses file: one row per response, written and read by this module only.

Every command that writes or reads responses goes through here: ``placement simulate``
(``responses.csv``), ``calibration export``, the psychometrician page's download
(``/psy/responses.csv``) and every ``calibration`` step that reads them. The columns, once:

=================  ========  ==================================================================
column             needed    meaning
=================  ========  ==================================================================
``person_id``      yes       pseudonymous id of one test: a test session, a simulated candidate
``item_id``        yes       the item's id in the bank (the parameter CSV's ``id``)
``score``          yes       whole score ``0..max`` of the item; empty: not scored yet (such
                             rows are skipped on read and counted)
``release``        no        bank release the response was given under
``group``          no        group of the person for DIF (one group per person)
``candidate``      no        pseudonym of the candidate (who may have taken several tests)
``policy``         no        prescription policy of the test
``day``            no        day of the test (ISO date)
``seq``            no        position of the response in the test (1, 2, …)
``skill``          no        CO, CE, EO, EE (or the bank's own label)
``pretest``        no        1 when the item was a pretest item (not scored in θ̂)
``machine_score``  no        the score the machine gave, before any review
``max_score``      no        the item's maximum score
``scorer``         no        who or what scored it (``auto``, ``auditeur``, …)
``needs_review``   no        1 while a person must still look at it
``duration_s``     no        seconds the candidate spent on the item
``non_reader``     no        1 when the test was taken on the non-reader path
``session_state``  no        state of the test session at export
=================  ========  ==================================================================

Columns are written in this order (the optional ones a writer has); a reader accepts them in
any order and ignores columns it does not know. Files written before this format used other
names for the person: ``examinee`` (``placement simulate``) and ``session`` (the
psychometrician page); :func:`read_responses` reads them as ``person_id`` and says so in
:attr:`ResponseFile.renamed`. Text is UTF-8, comma-separated, with a header line.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import numpy.typing as npt

from placement import csvsafe
from placement.errors import InvalidResponses
from placement.staging import staged

IntArray = npt.NDArray[np.int64]

REQUIRED = ("person_id", "item_id", "score")
OPTIONAL = (
    "release",
    "group",
    "candidate",
    "policy",
    "day",
    "seq",
    "skill",
    "pretest",
    "machine_score",
    "max_score",
    "scorer",
    "needs_review",
    "duration_s",
    "non_reader",
    "session_state",
)
#: Every column of the format, in the order they are written.
COLUMNS = REQUIRED + OPTIONAL
#: Older names of a column, read as the new one (old name -> column).
RENAMED = {"examinee": "person_id", "session": "person_id"}


def columns_for(extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The header of a file with the required columns and the optional ones in ``extra``.

    Raises ``ValueError`` for a column that is not part of the format (a programming error).
    """
    wanted = set(extra)
    unknown = wanted - set(OPTIONAL)
    if unknown:
        raise ValueError(f"not columns of the responses format: {sorted(unknown)}")
    return REQUIRED + tuple(c for c in OPTIONAL if c in wanted)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


def write_rows(handle: TextIO, rows: Iterable[Mapping[str, Any]], extra: Iterable[str] = ()) -> int:
    """Write the header and ``rows`` (mappings column -> value) to an open text stream.

    ``None`` is written as an empty cell, booleans as 0/1; keys outside the header are an
    error. Returns the number of rows written.
    """
    header = columns_for(extra)
    # cells escaped like every CSV the app writes: a group typed "=..." stays text
    writer = csvsafe.DictWriter(handle, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
        n += 1
    return n


class TooFewRows(ValueError):
    """A responses file would have had fewer rows than asked for; nothing was replaced."""


def write_responses(
    path: str | Path,
    rows: Iterable[Mapping[str, Any]],
    extra: Iterable[str] = (),
    *,
    min_rows: int = 0,
) -> int:
    """Write a responses file at ``path`` (folders made); returns the number of rows.

    The file is written beside the target and moved into place once complete, so a failure
    never leaves half a file where a good one was; with fewer than ``min_rows`` rows it is not
    moved in at all (:class:`TooFewRows`).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with staged(target) as partial:
        with partial.open("w", newline="", encoding="utf-8") as handle:
            n = write_rows(handle, rows, extra)
        if n < min_rows:
            raise TooFewRows(f"{n} row(s), {min_rows} needed")
    return n


def responses_text(rows: Iterable[Mapping[str, Any]], extra: Iterable[str] = ()) -> str:
    """The file's text (for a download)."""
    buffer = io.StringIO()
    write_rows(buffer, rows, extra)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class ResponseFile:
    """The scored rows of a responses file, in file order.

    Attributes
    ----------
    path : str
        The file, as the user named it (for messages).
    columns : tuple of str
        The header, after renaming old names.
    renamed : dict
        Old column names read as new ones (``{"examinee": "person_id"}``).
    person_ids, item_ids : list of str, (R,)
    scores : list of int, (R,)
    lines : list of int, (R,)
        The line of each row in the file (the header is line 1).
    releases, groups : list of str, (R,), or None when the file has no such column
    pending : int
        Rows skipped because their score is empty (not scored yet).
    persons, items : tuple of str
        The distinct person and item ids, in order of first appearance.
    person_codes, item_codes : ndarray of int, (R,)
        Each row's position in ``persons`` and ``items``.
    """

    path: str
    columns: tuple[str, ...]
    renamed: dict[str, str]
    person_ids: list[str] = field(repr=False)
    item_ids: list[str] = field(repr=False)
    scores: list[int] = field(repr=False)
    lines: list[int] = field(repr=False)
    releases: list[str] | None = field(default=None, repr=False)
    groups: list[str] | None = field(default=None, repr=False)
    pending: int = 0
    persons: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    person_codes: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)
    item_codes: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def __len__(self) -> int:
        return len(self.scores)

    def notes(self) -> list[str]:
        """What the reader did that the user should know (French, one line each)."""
        out = [
            f"{self.path} : colonne « {old} » lue comme « {new} » (ancien nom ; renommez-la)"
            for old, new in self.renamed.items()
        ]
        if self.pending:
            out.append(
                f"{self.path} : {self.pending} réponse(s) sans score (non corrigées) ignorées"
            )
        return out


def _header(path: str, raw: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    names = [h.strip().lstrip("\ufeff") for h in raw]
    renamed: dict[str, str] = {}
    for old, new in RENAMED.items():
        if old in names and new not in names and new not in renamed.values():
            names[names.index(old)] = new
            renamed[old] = new
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        hints = [
            f"« {old} » en « {new} »"
            for old, new in RENAMED.items()
            if new in missing and old in names
        ]
        hint = f" ; renommez {', '.join(hints)}" if hints else ""
        raise InvalidResponses(
            path,
            f"colonne(s) manquante(s) : {', '.join(missing)} ; un fichier de réponses a les "
            f"colonnes {', '.join(REQUIRED)} (facultatives : release, group…), celui-ci a "
            f"{', '.join(names) or 'aucune colonne'}{hint}",
        )
    duplicated = sorted({n for n in names if n and names.count(n) > 1})
    if duplicated:
        raise InvalidResponses(path, f"colonne(s) en double : {', '.join(duplicated)}")
    return names, renamed


def _whole(name: str, raw: str, line: int) -> int:
    """A score written otherwise than as plain digits (``1.0``, ``2,0``): whole and ≥ 0."""
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        raise InvalidResponses(name, f"le score {raw!r} n'est pas un nombre", line) from None
    if not value.is_integer() or value < 0:
        raise InvalidResponses(name, f"le score {raw!r} n'est pas un entier ≥ 0", line)
    return int(value)


def _first_repeat(person: IntArray, item: IntArray) -> tuple[int, int] | None:
    """Rows ``(a, b)``, ``a < b``, of the first person–item pair seen twice (by ``b``), or None.

    Integer codes and one stable sort: memory in the number of rows, not of string pairs.
    """
    key = person * (int(item.max()) + 1) + item
    order = np.argsort(key, kind="stable")  # equal keys keep the file's order
    same = np.flatnonzero(key[order][1:] == key[order][:-1])
    if same.size == 0:
        return None
    k = int(np.argmin(order[same + 1]))
    return int(order[same[k]]), int(order[same[k] + 1])


def read_responses(path: str | Path) -> ResponseFile:
    """Read a responses file; every problem is one :class:`InvalidResponses` naming the line.

    A file saved by Excel in French (``;`` between cells, a byte-order mark) reads the same.
    Refused: a missing or unreadable file, text that is not UTF-8, missing columns (with the
    old name to rename when there is one), an empty person or item id, a score that is not a
    whole number ≥ 0, a person in two groups, a person answering the same item twice (both
    lines named), a file without any scored response. Item ids and maximum scores are checked
    by the caller, who knows the bank.
    """
    name = str(path)
    person_ids: list[str] = []
    item_ids: list[str] = []
    scores: list[int] = []
    lines: list[int] = []
    releases: list[str] = []
    groups: list[str] = []
    group_of: dict[str, tuple[str, int]] = {}
    person_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    person_codes: list[int] = []
    item_codes: list[int] = []
    pending = 0
    try:
        with Path(path).open(newline="", encoding="utf-8") as handle:
            first = handle.readline()
            # Excel in a French locale separates cells with ';' (scores like 2,0 read anyway)
            delimiter = ";" if ";" in first and "," not in first else ","
            reader = csv.reader(
                itertools.chain([first] if first else [], handle), delimiter=delimiter
            )
            raw = next(reader, None)
            if raw is None:
                raise InvalidResponses(name, "fichier vide (pas même la ligne d'en-tête)")
            names, renamed = _header(name, raw)
            col = {n: i for i, n in enumerate(names)}
            ip, ii, isc = col["person_id"], col["item_id"], col["score"]
            ir, ig = col.get("release"), col.get("group")
            width = len(names)
            for row in reader:
                cells = row if len(row) >= width else row + [""] * (width - len(row))
                pid, iid, raw_score = cells[ip].strip(), cells[ii].strip(), cells[isc].strip()
                if not pid or not iid:
                    if not any(c.strip() for c in cells):
                        continue  # a blank line, or one of commas only
                    raise InvalidResponses(name, "person_id ou item_id vide", reader.line_num)
                if raw_score.isascii() and raw_score.isdigit():
                    value = int(raw_score)
                elif not raw_score:
                    pending += 1
                    continue
                else:
                    value = _whole(name, raw_score, reader.line_num)
                line = reader.line_num
                if ig is not None:
                    group = cells[ig].strip()
                    known = group_of.setdefault(pid, (group, line))
                    if known[0] != group:
                        raise InvalidResponses(
                            name,
                            f"{pid} est dans deux groupes ({known[0]!r} ligne {known[1]}, "
                            f"{group!r} ici)",
                            line,
                        )
                    groups.append(group)
                if ir is not None:
                    releases.append(cells[ir].strip())
                person_ids.append(pid)
                item_ids.append(iid)
                person_codes.append(person_index.setdefault(pid, len(person_index)))
                item_codes.append(item_index.setdefault(iid, len(item_index)))
                scores.append(value)
                lines.append(line)
    except FileNotFoundError:
        raise InvalidResponses(name, "fichier introuvable") from None
    except IsADirectoryError:
        raise InvalidResponses(name, "c'est un dossier, pas un fichier CSV") from None
    except PermissionError:
        raise InvalidResponses(name, "lecture refusée (droits du fichier)") from None
    except UnicodeDecodeError as exc:
        raise InvalidResponses(
            name, f"le texte n'est pas en UTF-8 (octet {exc.start}) ; enregistrez-le en UTF-8"
        ) from None
    except csv.Error as exc:
        raise InvalidResponses(name, f"CSV illisible : {exc}") from None
    except OSError as exc:
        raise InvalidResponses(name, f"illisible : {exc.strerror or exc}") from None
    if not scores:
        what = f" ({pending} sans score)" if pending else ""
        raise InvalidResponses(name, f"aucune réponse corrigée{what}")
    person = np.array(person_codes, dtype=np.int64)
    item = np.array(item_codes, dtype=np.int64)
    twice = _first_repeat(person, item)
    if twice is not None:
        a, b = twice
        raise InvalidResponses(
            name,
            f"{person_ids[b]} a répondu deux fois à l'item {item_ids[b]} (lignes {lines[a]} et "
            f"{lines[b]}) ; gardez une réponse par personne et par item",
            lines[b],
        )
    return ResponseFile(
        path=name,
        columns=tuple(names),
        renamed=renamed,
        person_ids=person_ids,
        item_ids=item_ids,
        scores=scores,
        lines=lines,
        releases=releases if ir is not None else None,
        groups=groups if ig is not None else None,
        pending=pending,
        persons=tuple(person_index),
        items=tuple(item_index),
        person_codes=person,
        item_codes=item,
    )


__all__ = [
    "COLUMNS",
    "OPTIONAL",
    "RENAMED",
    "REQUIRED",
    "ResponseFile",
    "TooFewRows",
    "columns_for",
    "read_responses",
    "responses_text",
    "write_responses",
    "write_rows",
]
