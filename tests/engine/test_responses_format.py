"""The one responses format: what one command writes, every other reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from placement.errors import InvalidResponses
from placement.responses import (
    COLUMNS,
    REQUIRED,
    columns_for,
    read_responses,
    responses_text,
    write_responses,
)


def test_written_rows_read_back_with_their_lines(tmp_path: Path) -> None:
    rows = [
        {"person_id": "S1", "item_id": "CE-001", "score": 1, "release": "2026.11.0", "seq": 1},
        {"person_id": "S1", "item_id": "EO-004", "score": 2, "release": "2026.11.0", "seq": 2},
        {"person_id": "S2", "item_id": "CE-001", "score": None, "release": "2026.11.0", "seq": 1},
        {"person_id": "S2", "item_id": "CE-002", "score": 0, "release": "2026.11.0", "seq": 2},
    ]
    path = tmp_path / "r.csv"
    assert write_responses(path, rows, ["seq", "release"]) == 4
    text = path.read_text(encoding="utf-8")
    # the columns in the format's order, whatever order the writer named them in
    assert text.splitlines()[0] == "person_id,item_id,score,release,seq"
    back = read_responses(path)
    assert back.person_ids == ["S1", "S1", "S2"]
    assert back.item_ids == ["CE-001", "EO-004", "CE-002"]
    assert back.scores == [1, 2, 0]
    assert back.lines == [2, 3, 5]  # the unscored row (line 4) is skipped and counted
    assert back.pending == 1
    assert back.releases == ["2026.11.0"] * 3
    assert back.groups is None
    assert text == responses_text(rows, ["release", "seq"])


def test_the_format_names_every_column_once() -> None:
    assert COLUMNS[:3] == REQUIRED == ("person_id", "item_id", "score")
    assert len(set(COLUMNS)) == len(COLUMNS)
    with pytest.raises(ValueError, match="examinee"):
        columns_for(["examinee"])


def test_a_failed_write_leaves_the_earlier_file(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write_responses(path, [{"person_id": "a", "item_id": "X", "score": 1}])
    before = path.read_bytes()

    def rows():
        yield {"person_id": "b", "item_id": "Y", "score": 0}
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        write_responses(path, rows())
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.csv"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("person_id,item_id\np,X\n", "r.csv : colonne(s) manquante(s) : score"),
        ("examinee,item_id,score\n0,X,1\n0,X,0\n", "r.csv, ligne 3 : 0 a répondu deux fois"),
        ("person_id,item_id,score\np,X,1\n,Y,0\n", "r.csv, ligne 3 : person_id ou item_id vide"),
        ("person_id,item_id,score\np,X,-1\n", "r.csv, ligne 2 : le score '-1' n'est pas un entier"),
        ("person_id,item_id,score,score\np,X,1,1\n", "colonne(s) en double : score"),
        (
            "person_id,item_id,score\np,X,1\nq,Y,1\nq,Y,0\np,X,0\nq,Y,1\n",
            "r.csv, ligne 4 : q a répondu deux fois à l'item Y (lignes 3 et 4)",
        ),
    ],
)
def test_bad_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidResponses) as err:
        read_responses(path)
    assert message in str(err.value)


def test_old_names_are_mapped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "old.csv"
    path.write_text("examinee,item_id,score\n0,X,1\n", encoding="utf-8")
    back = read_responses(path)
    assert back.renamed == {"examinee": "person_id"}
    assert back.person_ids == ["0"]
    assert "« examinee » lue comme « person_id »" in back.notes()[0]


def test_blank_lines_are_skipped_and_lines_still_counted(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("person_id,item_id,score\np,X,1\n,,\n\nq,X,2.0\nq,Y,0\n", encoding="utf-8")
    back = read_responses(path)
    assert back.scores == [1, 2, 0]
    assert back.lines == [2, 5, 6]
    assert back.persons == ("p", "q")
    assert back.person_codes.tolist() == [0, 1, 1]
    assert back.item_codes.tolist() == [0, 0, 1]


def test_a_file_saved_by_excel_in_french_reads_like_the_plain_one(tmp_path: Path) -> None:
    """Excel in a French locale writes a byte-order mark, ``;`` between cells, CRLF."""
    plain = tmp_path / "plain.csv"
    plain.write_text("person_id,item_id,score\nS1,CO-001,1\nS1,EO-002,2\n", encoding="utf-8")
    excel = tmp_path / "excel.csv"
    excel.write_text(
        "person_id;item_id;score\r\nS1;CO-001;1\r\nS1;EO-002;2,0\r\n", encoding="utf-8-sig"
    )
    a, b = read_responses(plain), read_responses(excel)
    assert (b.person_ids, b.item_ids, b.scores, b.lines) == (
        a.person_ids,
        a.item_ids,
        a.scores,
        a.lines,
    )
