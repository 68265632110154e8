"""Every CSV the app writes opens in a spreadsheet without running a formula (one writer:
``placement.csvsafe``), and numbers stay numbers."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st

from calibration.export import export_responses
from placement.csvsafe import escape_formula
from placement.sessions.models import User
from tests.webui.flows import new_session, play_test

HOSTILE = ('=HYPERLINK("http://evil.example","clic")', "@SUM(A1:A9)", "+33 6 12", "-2+3")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell.startswith(_FORMULA):
                float(cell)  # only a plain number may start so


@given(st.text())
def test_a_text_cell_never_starts_a_formula_and_reads_back(value: str) -> None:
    escaped = escape_formula(value)
    assert escaped in (value, "'" + value)
    if escaped != value:
        assert value.startswith(_FORMULA)
    elif value.startswith(_FORMULA):
        float(value)


def test_numbers_are_left_alone() -> None:
    assert escape_formula(-0.52) == -0.52
    assert escape_formula("-0.52") == "-0.52"
    assert escape_formula("+1e-3") == "+1e-3"
    assert escape_formula("-1-1") == "'-1-1"
    assert escape_formula("\t=1") == "'\t=1"


def test_the_day_export_escapes_what_was_typed(
    app: Flask,
    make_user: Callable[..., tuple[User, str]],
    client_as: Callable[[str], FlaskClient],
    speech_wav: bytes,
) -> None:
    user, _ = make_user("auditeur")
    played = new_session(app, user, "75-2026-00800", last_name=HOSTILE[0], first_name=HOSTILE[1])
    play_test(app, played, speech_wav, "wrong")
    client = client_as("auditeur")
    text = client.get("/desk/export.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    _no_formula(rows)
    cells = {cell for row in rows for cell in row}
    assert "'" + HOSTILE[0] in cells
    assert "'" + HOSTILE[1] in cells
    psy = client_as("psychometricien").get("/psy/responses.csv").get_data(as_text=True)
    _no_formula(list(csv.reader(io.StringIO(psy))))


def test_the_calibration_export_escapes_groups(
    app: Flask, make_user: Callable[..., tuple[User, str]], speech_wav: bytes, tmp_path: Path
) -> None:
    user, _ = make_user("auditeur")
    session_id = new_session(
        app, user, "75-2026-00801", first_name="Awa", birth_date=None, help_language=HOSTILE[2]
    )
    play_test(app, session_id, speech_wav, "right")
    out = tmp_path / "responses.csv"
    assert export_responses(app.config["DATABASE_URL"], out, group="help_language") > 0
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    _no_formula(rows)
    assert {row[-1] for row in rows[1:]} == {"'" + HOSTILE[2]}
