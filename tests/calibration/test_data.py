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
        ("person,item,score\np1,CO-001,1\n", "missing column(s) person_id, item_id"),
        ("person_id,item_id,score\np1,CO-001,yes\n", "line 2: score 'yes' is not a number"),
        ("person_id,item_id,score\np1,CO-001,0.5\n", "not a whole score"),
        ("person_id,item_id,score\np1,CO-001,2\n", "score 2 above the maximum 1 of item CO-001"),
        ("person_id,item_id,score\np1,EO-001,4\n", "above the maximum 3 of item EO-001"),
        (
            "person_id,item_id,score\np1,CO-001,1\np1,CO-001,0\n",
            "answered item CO-001 more than once",
        ),
        ("person_id,item_id,score\n", "no responses"),
        ("person_id,item_id,score,group\np1,CO-001,1,a\np1,CO-002,1,b\n", "in two groups"),
    ],
)
def test_malformed_response_csv_is_refused(tmp_path, table, text, message):
    params = read_parameters(table)
    with pytest.raises(MalformedCSV, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_responses(write(tmp_path / "r.csv", text), params)


def test_unknown_item_ids_are_all_named(tmp_path, table):
    params = read_parameters(table)
    path = write(
        tmp_path / "r.csv",
        "person_id,item_id,score\np1,CO-001,1\np1,CO-999,0\np2,XX-1,1\np2,CO-999,1\n",
    )
    with pytest.raises(UnknownItem) as err:
        read_responses(path, params)
    assert err.value.item_ids == ("CO-999", "XX-1")
    assert "not in the parameter table: CO-999, XX-1" in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,model,a\nX,2PL,1\n", "missing column(s) b"),
        ("id,model,a,b\nX,5PL,1,0\n", "unknown model '5PL'"),
        ("id,model,a,b\nX,2PL,-1,0\n", "a=-1.0 must be positive"),
        ("id,model,a,b,b1,b2\nX,GRM,1,,1,0\n", "thresholds of X not ordered"),
        ("id,model,a,b\nX,2PL,1,0\nX,2PL,1,0\n", "duplicate item ids in the parameters: X"),
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
    assert err.startswith("calibration: error: 1 item id(s) in the responses are not in the")
    assert "ZZ-404" in err
    assert "Traceback" not in err


def test_command_line_names_the_missing_step(tmp_path, capsys):
    assert main(["link", "--work", str(tmp_path / "w")]) == 2
    assert "run `calibration fit` first" in capsys.readouterr().err


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
