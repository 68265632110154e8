"""The parameter CSV and the provisional-parameter rule."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from itembank import ParametersInvalid, read_parameters_csv, write_parameters_csv
from itembank.model import Item
from itembank.parameters import ParameterRow, ParameterTable, check_against_items, provisional_row
from itembank.sources import item_from_data
from tests.itembank.conftest import base_items

CUTS = {s: {"A1.1": -1.0, "A1": -0.4, "A2": 0.3, "B1": 0.9} for s in ("CO", "CE", "EO", "EE")}
RULE = {
    "discrimination_by_type": {"listen_choose_picture": 1.0, "gap_fill": 1.3, "write_message": 1.2},
    "guessing_factor": 0.8,
    "threshold_step": 0.7,
}


def _item(item_id: str, **changes: object) -> Item:
    return item_from_data({**base_items()[item_id], **changes})


def test_choice_item_is_3pl_with_guessing_from_its_choices() -> None:
    row = provisional_row(_item("CO-001"), CUTS, RULE)  # 3 picture choices, target A1.1
    assert (row.model, row.a, row.b, row.c, row.d) == (
        "3PL",
        1.0,
        -1.0,
        pytest.approx(0.8 / 3, abs=1e-4),
        1.0,
    )
    assert row.provisional
    assert not row.pretest
    two = provisional_row(_item("CE-001"), CUTS, RULE)  # 2 choices, type not in the rule: a = 1
    assert (two.c, two.a, two.b) == (pytest.approx(0.4), 1.0, -0.4)


def test_gap_fill_is_2pl_and_pilot_items_are_pretest() -> None:
    row = provisional_row(_item("CE-002", status="pilot"), CUTS, RULE)
    assert (row.model, row.a, row.b, row.c) == ("2PL", 1.3, 0.9, 0.0)
    assert row.pretest


def test_rubric_item_thresholds_spread_around_b() -> None:
    row = provisional_row(_item("EE-001"), CUTS, RULE)  # max score 3, target A2
    assert row.model == "GRM"
    assert row.thresholds == pytest.approx((0.3 - 0.7, 0.3, 0.3 + 0.7))
    assert row.b == pytest.approx(0.3)


@given(
    cut=st.floats(-3, 3),
    step=st.floats(0.1, 2),
    max_score=st.integers(1, 6),
)
def test_thresholds_increase_and_centre_on_the_level_cut(
    cut: float, step: float, max_score: int
) -> None:
    data = base_items()["EE-001"]
    levels = [{"score": s, "descriptor": f"niveau {s}"} for s in range(max_score + 1)]
    data["rubric"] = {**data["rubric"], "max_score": max_score, "levels": levels}
    cuts = {"EE": {"A1.1": cut - 2, "A1": cut - 1, "A2": cut, "B1": cut + 1}}
    row = provisional_row(item_from_data(data), cuts, {**RULE, "threshold_step": step})
    assert len(row.thresholds) == max_score
    assert all(b > a for a, b in zip(row.thresholds, row.thresholds[1:], strict=False))
    assert sum(row.thresholds) / max_score == pytest.approx(cut, abs=1e-3)


def test_csv_round_trip(tmp_path: Path) -> None:
    rows = [
        ParameterRow("CO-001", "CO", "vie pratique", "3PL", 1.1, -0.5, 0.25, 1.0, (), True, False),
        ParameterRow("EO-001", "EO", "vie publique", "GRM", 1.2, 0.1, thresholds=(-0.6, 0.1, 0.8)),
        ParameterRow("EE-001", "EE", "vie pro", "GPCM", 0.9, 0.0, thresholds=(-0.5, 0.5),
                     pretest=True),
    ]  # fmt: skip
    path = tmp_path / "p.csv"
    write_parameters_csv(rows, path)
    lines = path.read_text().splitlines()
    assert lines[0] == "id,skill,theme,model,a,b,c,d,b1,b2,b3,provisional,pretest"
    assert lines[1] == "CO-001,CO,vie pratique,3PL,1.1,-0.5,0.25,1,,,,1,0"
    table = read_parameters_csv(path)
    assert table.rows == tuple(rows)
    write_parameters_csv(table, tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,model,a\nCO-001,2PL,1\n", "colonne(s) manquante(s) : b"),
        ("id,model,a,b\nCO-001,5PL,1,0\n",
         "ligne 2 : modèle inconnu '5PL' (modèles : 1PL, 2PL, 3PL, 4PL, GPCM, GRM)"),
        ("id,model,a,b\n,2PL,1,0\n", "ligne 2 : id vide"),
        ("id,model,a,b\nCO-001,2PL,nan,0\n", "ligne 2 : a='nan' n'est pas un nombre fini"),
        ("id,model,a,b,b1,b2\nEO-001,GRM,1,,1,0\n", "les seuils GRM de EO-001 ne croissent pas"),
        ("id,model,a,b,b1,b2\nEO-001,GRM,1,,0.5,0.5\n",
         "les seuils GRM de EO-001 ne croissent pas"),
        ("id,model,a,b,b1,b2\nEO-001,GRM,1,,0.5,0.50004\n",
         "les seuils GRM de EO-001 ne croissent pas"),
        ("id,model,a,b,non_reader\nCO-001,2PL,1,0,peut-être\n",
         "non_reader='peut-être' ne vaut ni 0 ni 1"),
        ("id,model,a,b\nCO-001,2PL,un,0\n", "ligne 2 : a='un' n'est pas un nombre"),
        ("id,model,a,b\nCO-001,2PL,-1,0\n", "ligne 2 : a=-1.0 doit être positif"),
        ("id,model,a,b,b1\nEO-001,GRM,1,0,\n", "ligne 2 : un item GRM demande des seuils b1..bk"),
        ("id,model,a,b\nCO-001,2PL,1,0\nCO-001,2PL,1,0\n",
         "ligne 3 : l'item CO-001 a déjà ses paramètres ligne 2"),
        ("id,model,a,b,provisional\nCO-001,2PL,1,0,oui?\n", "provisional='oui?' ne vaut ni 0 ni 1"),
        ("id,model,a,b,c\nCO-001,3PL,1,0,1.5\n",
         "ligne 2 : asymptotes c=1.5, d=1.0 hors de 0 ≤ c < d ≤ 1"),
        ("id,model,a,b,c\nCO-001,3PL,1,0,-0.2\n",
         "ligne 2 : asymptotes c=-0.2, d=1.0 hors de 0 ≤ c < d ≤ 1"),
        ("id,model,a,b,c,d\nCO-001,4PL,1,0,0.3,0.2\n",
         "ligne 2 : asymptotes c=0.3, d=0.2 hors de 0 ≤ c < d ≤ 1"),
        ("id,model,a,b,c\nCO-001,2PL,1,0,0.2\n",
         "ligne 2 : un item 2PL a c = 0 et d = 1 (lu : c=0.2, d=1.0) ; 3PL ou 4PL pour des"),
        ("id,model,a,b,c,d\nCO-001,3PL,1,0,0.2,0.9\n",
         "ligne 2 : un item 3PL a d = 1 (lu : d=0.9) ; 4PL pour une asymptote haute"),
        ("id,model,a,b,c,b1,b2\nEO-001,GRM,1,,0.1,-1,1\n",
         "ligne 2 : un item GRM a c = 0 et d = 1 (lu : c=0.1, d=1.0)"),
    ],
)  # fmt: skip
def test_bad_csv_is_refused_with_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ParametersInvalid) as excinfo:
        read_parameters_csv(path)
    assert message in str(excinfo.value)


def test_parameters_must_fit_the_items() -> None:
    items = {i: item_from_data(d) for i, d in base_items().items()}
    rows = [provisional_row(it, CUTS, RULE) for it in items.values()]
    check_against_items(ParameterTable(tuple(rows)), items)  # fits: no exception
    wrong = [
        ParameterRow(r.id, r.skill, r.theme, "2PL", 1.0, 0.0) if r.id == "EO-001" else r
        for r in rows
    ]
    with pytest.raises(ParametersInvalid, match="EO-001: a rubric item needs GRM or GPCM, not 2PL"):
        check_against_items(ParameterTable(tuple(wrong)), items)
    equal = [replace(r, thresholds=(0.5, 0.50004)) if r.id == "EO-001" else r for r in rows]
    with pytest.raises(ParametersInvalid, match="EO-001: GRM thresholds must strictly increase"):
        check_against_items(ParameterTable(tuple(equal)), items)
    with pytest.raises(ParametersInvalid, match="parameters for unknown items CO-404"):
        check_against_items(
            ParameterTable((*rows, ParameterRow("CO-404", "CO", "", "2PL", 1, 0))), items
        )


def test_one_reader_for_every_bank_of_ones_own(tmp_path: Path) -> None:
    """The optional columns of a user's table, lenient flags, b from the mean threshold."""
    path = tmp_path / "mine.csv"
    path.write_text(
        "id,skill,theme,model,a,b,c,d,b1,b2,b3,pretest,enemies,non_reader\n"
        "CO-001,CO,vie pratique,4pl,1.2,-0.5,0.2,0.95,,,,non,CO-002; CE-001,oui\n"
        "CE-001,CE,,1PL,1.0,0.0,,,,,,1,,0\n"
        "EO-001,EO,vie publique,GRM,1.1,,,,-1.0,0.0,1.2,false,,vrai\n"
    )
    table = read_parameters_csv(path)
    co, ce, eo = table.rows
    assert (co.model, co.c, co.d, co.enemies, co.non_reader) == (
        "4PL", 0.2, 0.95, ("CO-002", "CE-001"), True,
    )  # fmt: skip
    assert (ce.model, ce.c, ce.d, ce.pretest, ce.enemies) == ("1PL", 0.0, 1.0, True, ())
    assert eo.thresholds == (-1.0, 0.0, 1.2)
    assert eo.b == pytest.approx(sum(eo.thresholds) / 3)
    assert table["EO-001"] is eo
    assert "XX-1" not in table
    write_parameters_csv(table, tmp_path / "back.csv")
    back = read_parameters_csv(tmp_path / "back.csv")  # written to 4 decimals
    assert [(r.id, r.enemies, r.non_reader, r.pretest) for r in back] == [
        (r.id, r.enemies, r.non_reader, r.pretest) for r in table
    ]
    assert all(r.same_values(table[r.id]) for r in back)


def test_a_csv_saved_by_excel_reads_like_the_plain_one(tmp_path: Path) -> None:
    """Excel writes a byte-order mark, and in French ``;`` between cells and ``,`` in numbers."""
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "id,skill,theme,model,a,b,c,d,b1,b2\n"
        "CO-001,CO,vie pratique,3PL,1.25,-0.5,0.2,,,\n"
        "EO-001,EO,vie publique,GRM,0.9,,,,-0.75,0.5\n"
    )
    bom = tmp_path / "bom.csv"
    bom.write_text(plain.read_text(), encoding="utf-8-sig")
    excel = tmp_path / "excel.csv"
    excel.write_text(
        "id;skill;theme;model;a;b;c;d;b1;b2\r\n"
        "CO-001;CO;vie pratique;3PL;1,25;-0,5;0,2;;;\r\n"
        "EO-001;EO;vie publique;GRM;0,9;;;;-0,75;0,5\r\n",
        encoding="utf-8-sig",
    )
    expected = read_parameters_csv(plain)
    assert expected["CO-001"].a == 1.25
    assert read_parameters_csv(bom) == expected
    assert read_parameters_csv(excel) == expected


def test_a_csv_saved_by_excel_in_windows_1252_reads_like_the_plain_one(tmp_path: Path) -> None:
    """Excel's « CSV (séparateur : point-virgule) » in France writes Windows-1252, not UTF-8:
    a theme with an accent must read as the same text."""
    plain = tmp_path / "plain.csv"
    plain.write_text(
        "id,skill,theme,model,a,b\nCE-001,CE,vie privée,2PL,1.1,0.25\n", encoding="utf-8"
    )
    excel = tmp_path / "excel.csv"
    excel.write_bytes(
        "id;skill;theme;model;a;b\r\nCE-001;CE;vie privée;2PL;1,1;0,25\r\n".encode("cp1252")
    )
    expected = read_parameters_csv(plain)
    assert expected["CE-001"].theme == "vie privée"
    assert read_parameters_csv(excel) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "fichier vide"),
        ("\ufeff", "fichier vide"),
        ("id;model;a;b\nCO-001;2PL;1,2.5;0\n", "ligne 2 : a='1,2.5' n'est pas un nombre"),
    ],
)
def test_an_empty_file_or_a_bad_number_of_an_excel_file_is_named(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParametersInvalid) as excinfo:
        read_parameters_csv(path)
    assert message in str(excinfo.value)
