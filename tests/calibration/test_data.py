"""Reading and writing the exchange files; bad input refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calibration.cli import main
from calibration.data import (
    make_parameters,
    read_parameters,
    read_responses,
    write_parameters,
    write_responses,
)
from calibration.errors import MalformedCSV, UnknownItem
from calibration.synthetic import random_bank, simulate_complete


@pytest.fixture
def table(tmp_path: Path) -> Path:
    params = make_parameters(
        ["CO-001", "CO-002", "EO-001"],
        ["3PL", "2PL", "GRM"],
        [1.2, 0.8, 1.1],
        [-0.5, 0.3, 0.0],
        c=[0.2, 0.0, 0.0],
        thresholds=[[np.nan] * 3, [np.nan] * 3, [-1.0, 0.0, 1.2]],
        skills=["CO", "CO", "EO"],
    )
    return write_parameters(params, tmp_path / "parameters.csv")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_parameter_table_round_trip(tmp_path, rng):
    bank = random_bank(12, rng, n_grm=3, max_score=3)
    back = read_parameters(write_parameters(bank, tmp_path / "p.csv"))
    assert back.ids == bank.ids
    assert back.models == bank.models
    # the format keeps 4 decimals
    np.testing.assert_allclose(back.a, bank.a, rtol=0, atol=5e-5)
    np.testing.assert_allclose(back.b, bank.b, rtol=0, atol=5e-5)
    np.testing.assert_allclose(back.thresholds, bank.thresholds, rtol=0, atol=5e-5)
    np.testing.assert_array_equal(back.max_scores, [1] * 12 + [3] * 3)


def test_response_round_trip_keeps_groups(tmp_path, rng):
    bank = random_bank(5, rng)
    data = simulate_complete(bank, rng.normal(size=30), rng)
    from calibration.data import Responses

    data = Responses(data.person_ids, data.person, data.item, data.score, groups=("x", "y") * 15)
    path = write_responses(data, bank, tmp_path / "r.csv")
    back = read_responses(path, bank)
    np.testing.assert_array_equal(back.score, data.score)
    assert back.groups == data.groups


def test_reads_the_engine_csv_with_rubric_items(table):
    params = read_parameters(table)
    assert params.models == ("3PL", "2PL", "GRM")
    assert params.max_scores.tolist() == [1, 1, 3]
    assert params.b[2] == pytest.approx(np.mean([-1.0, 0.0, 1.2]))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("person,item,score\np1,CO-001,1\n", "colonne(s) manquante(s) : person_id, item_id"),
        ("person_id,item_id,score\np1,CO-001,yes\n", "ligne 2 : le score 'yes' n'est pas un"),
        ("person_id,item_id,score\np1,CO-001,0.5\n", "ligne 2 : le score '0.5' n'est pas un"),
        (
            "person_id,item_id,score\np1,CO-002,1\np1,CO-001,2\n",
            "ligne 3 : score 2 au-dessus du maximum 1 de l'item CO-001",
        ),
        ("person_id,item_id,score\np1,EO-001,4\n", "au-dessus du maximum 3 de l'item EO-001"),
        (
            "person_id,item_id,score\np1,CO-001,1\nanna-7,CO-002,1\nanna-7,CO-002,0\n",
            "ligne 4 : anna-7 a répondu deux fois à l'item CO-002 (lignes 3 et 4)",
        ),
        ("person_id,item_id,score\n", "aucune réponse corrigée"),
        ("", "fichier vide"),
        (
            "person_id,item_id,score,group\np1,CO-001,1,a\np1,CO-002,1,b\n",
            "ligne 3 : p1 est dans deux groupes ('a' ligne 2, 'b' ici)",
        ),
        ("examinee,item,score\n1,CO-001,1\n", "colonne(s) manquante(s) : item_id"),
        ("candidate,item_id,score\nc1,CO-001,1\n", "celui-ci a candidate, item_id, score"),
    ],
)
def test_malformed_response_csv_is_refused(tmp_path, table, text, message):
    params = read_parameters(table)
    path = write(tmp_path / "r.csv", text)
    with pytest.raises(MalformedCSV) as err:
        read_responses(path, params)
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path} : ")  # the user's own file


def test_old_person_column_names_are_read_with_a_note(tmp_path, table):
    params = read_parameters(table)
    simulate_file = write(tmp_path / "sim.csv", "examinee,item_id,score\n0,CO-001,1\n1,CO-002,0\n")
    back = read_responses(simulate_file, params)
    assert back.person_ids == ("0", "1")
    (note,) = back.notes
    assert note.startswith(f"{simulate_file} : colonne « examinee » lue comme « person_id »")
    # the psychometrician page's older download: session pseudonym, empty score when pending
    page = write(
        tmp_path / "page.csv",
        "candidate,session,item_id,score\nc1,s1,CO-001,1\nc1,s2,CO-001,\nc1,s2,CO-002,0\n",
    )
    back = read_responses(page, params)
    assert back.person_ids == ("s1", "s2")
    assert back.score.tolist() == [1, 0]
    assert any("1 réponse(s) sans score" in n for n in back.notes)


def test_unreadable_files_are_one_clear_error(tmp_path, table):
    params = read_parameters(table)
    with pytest.raises(MalformedCSV, match="fichier introuvable"):
        read_responses(tmp_path / "nope.csv", params)
    with pytest.raises(MalformedCSV, match="c'est un dossier"):
        read_responses(tmp_path, params)
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("person_id,item_id,score\nRené,CO-001,1\n".encode("latin-1"))
    with pytest.raises(MalformedCSV, match="pas en UTF-8"):
        read_responses(latin1, params)
    with pytest.raises(MalformedCSV, match="fichier introuvable"):
        read_parameters(tmp_path / "nope-parameters.csv")


def test_unknown_item_ids_are_all_named(tmp_path, table):
    params = read_parameters(table)
    path = write(
        tmp_path / "r.csv",
        "person_id,item_id,score\np1,CO-001,1\np1,CO-999,0\np2,XX-1,1\np2,CO-999,1\n",
    )
    with pytest.raises(UnknownItem) as err:
        read_responses(path, params)
    assert err.value.item_ids == ("CO-999", "XX-1")
    message = str(err.value)
    assert "absent(s) de la table des paramètres : CO-999 (ligne 3), XX-1 (ligne 4)" in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,model,a\nX,2PL,1\n", "colonne(s) manquante(s) : b"),
        ("id,model,a,b\nX,5PL,1,0\n", "modèle inconnu '5PL'"),
        ("id,model,a,b\nX,2PL,-1,0\n", "a=-1.0 doit être positif"),
        ("id,model,a,b,b1,b2\nX,GRM,1,,1,0\n", "seuils GRM de X ne croissent pas"),
        ("id,model,a,b\nX,2PL,1,0\nX,2PL,1,0\n", "l'item X a déjà ses paramètres ligne 2"),
        ("id,model,a,b\n", "aucun item"),
        ("id,model,a,b,c\nX,3PL,1,0,1.5\n", "ligne 2 : asymptotes c=1.5, d=1.0 hors de"),
    ],
)
def test_malformed_parameter_csv_is_refused(tmp_path, text, message):
    with pytest.raises(MalformedCSV, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_parameters(write(tmp_path / "p.csv", text))


def test_command_line_refuses_unknown_item_with_one_line(tmp_path, table, capsys):
    responses = write(tmp_path / "r.csv", "person_id,item_id,score\np1,CO-001,1\np1,ZZ-404,0\n")
    status = main(
        ["fit", "--work", str(tmp_path / "w"), "--responses", str(responses),
         "--parameters", str(table), "--quiet"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith(f"calibration : erreur : {responses} : 1 identifiant(s) d'item")
    assert "ZZ-404" in err
    assert "Traceback" not in err


def test_command_line_names_the_missing_step(tmp_path, capsys):
    assert main(["link", "--work", str(tmp_path / "w")]) == 2
    assert "lancez d'abord `calibration fit`" in capsys.readouterr().err


@pytest.mark.parametrize("missing", ["--responses", "--parameters", "--anchors"])
def test_a_missing_input_file_is_one_line_and_status_2(tmp_path, table, capsys, missing):
    responses = write(tmp_path / "r.csv", "person_id,item_id,score\np1,CO-001,1\n")
    files = {"--responses": str(responses), "--parameters": str(table)}
    absent = str(tmp_path / "absent.csv")
    argv = ["run", "--work", str(tmp_path / "w"), "--quiet"]
    if missing == "--anchors":
        argv += ["--anchors", f"@{absent}"]
    else:
        files[missing] = absent
    for flag, value in files.items():
        argv += [flag, value]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("calibration : erreur : ")
    assert absent in err
    assert "introuvable" in err


def test_a_refused_input_replaces_nothing_in_the_work_folder(tmp_path, table, capsys):
    work = tmp_path / "w"
    good = write(tmp_path / "good.csv", "person_id,item_id,score\np1,CO-001,1\np2,CO-002,0\n")
    assert main(["fit", "--work", str(work), "--responses", str(good), "--parameters",
                 str(table), "--quiet"]) == 0  # fmt: skip
    before = {p.name: p.read_bytes() for p in work.iterdir()}
    assert before["responses.csv"] == good.read_bytes()
    bad = write(tmp_path / "bad.csv", "person_id,item_id,score\np1,CO-001,1\np1,CO-001,0\n")
    other = write(tmp_path / "other.csv", "id,model,a,b\nX,2PL,-1,0\n")
    for argv in (["--responses", str(bad), "--parameters", str(table)],
                 ["--responses", str(good), "--parameters", str(other)]):  # fmt: skip
        capsys.readouterr()
        assert main(["fit", "--work", str(work), "--quiet", *argv]) == 2
        err = capsys.readouterr().err
        assert str(bad if "bad" in argv[1] else other) in err  # the user's file, not the copy
        assert {p.name: p.read_bytes() for p in work.iterdir()} == before


def test_the_command_line_says_which_old_column_it_read(tmp_path, table, capsys):
    responses = write(tmp_path / "sim.csv", "examinee,item_id,score\n0,CO-001,1\n1,CO-002,\n")
    status = main(["fit", "--work", str(tmp_path / "w"), "--responses", str(responses),
                   "--parameters", str(table), "--quiet"])  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    assert f"note : {responses} : colonne « examinee » lue comme « person_id »" in out
    assert "1 réponse(s) sans score (non corrigées) ignorées" in out


def test_the_non_reader_and_enemies_columns_are_carried_through(tmp_path, rng):
    bank = random_bank(6, rng)
    flagged = bank.with_values(
        non_reader=np.array([True, False, True, False, False, True]),
        enemies=(("CE-002",), (), (), (), (), ()),
    )
    path = write_parameters(flagged, tmp_path / "p.csv")
    assert path.read_text().splitlines()[0].endswith(",enemies,non_reader")
    back = read_parameters(path)
    np.testing.assert_array_equal(back.non_reader_mask, flagged.non_reader_mask)
    assert back.enemy_lists == flagged.enemy_lists
    # a new fit (new values) and a subset keep the flags of their items
    refit = back.with_values(a=back.a * 1.1)
    np.testing.assert_array_equal(refit.non_reader_mask, flagged.non_reader_mask)
    assert refit.subset([5, 0]).non_reader_mask.tolist() == [True, True]
    # a table without the columns has no non-reader item and no enemies
    plain = read_parameters(write_parameters(bank, tmp_path / "plain.csv"))
    assert not plain.non_reader_mask.any()
    assert plain.enemy_lists == ((),) * 6
