"""The recalibration tutorial of calibration/README.md, run command by command as written.

The commands are read from the README (between ``<!-- tutorial:begin -->`` and
``<!-- tutorial:end -->``) and run in a temporary folder where ``itembank/bank`` is a small
bank of 19 items (the tablet tests' bank, tests/candidate/testbank.py). Then the release they
published must load in the engine, and a test session started on it in the web app must
record its version.
"""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import yaml

import itembank
from calibration.cli import main as calibration_main
from itembank.cli import main as itembank_main
from placement.bank import pool_from_release
from placement.cat import TestState, next_step, step_rng
from placement.cli import main as placement_main
from placement.responses import read_responses
from placement.rules import rules_for_pool
from placement.sessions import users
from placement.sessions.models import TestSession
from tests.candidate import testbank
from tests.webui.conftest import login
from tests.webui.flows import start_test
from webui import create_app
from webui.extensions import db

README = Path(__file__).resolve().parents[2] / "calibration" / "README.md"
MAINS: dict[str, Callable[[Sequence[str]], int]] = {
    "itembank": itembank_main,
    "placement": placement_main,  # type: ignore[dict-item]
    "calibration": calibration_main,
}


def tutorial_commands() -> list[list[str]]:
    """The tutorial's commands, as the README shows them (comments left out)."""
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- tutorial:begin -->", 1)[1].split("<!-- tutorial:end -->", 1)[0]
    lines = [
        line
        for line in block.splitlines()
        if line.strip() and not line.startswith("```") and not line.lstrip().startswith("#")
    ]
    return [shlex.split(line) for line in lines]


def test_the_tutorial_is_the_whole_loop() -> None:
    steps = [argv[:2] for argv in tutorial_commands()]
    assert steps == [
        ["itembank", "build"],
        ["placement", "simulate"],
        ["calibration", "run"],
        ["calibration", "publish"],
        ["placement", "simulate"],
    ]


@pytest.mark.slow
def test_the_tutorial_runs_as_written_on_a_small_bank(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sqlite_template: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    testbank.write_sources(tmp_path / "itembank" / "bank")
    monkeypatch.chdir(tmp_path)
    for argv in tutorial_commands():
        status = MAINS[argv[0]](argv[1:])
        out, err = capsys.readouterr()
        # `calibration run` exits 1 when a check fails (the tutorial's simulated candidates
        # overexpose items); the next step publishes with a reason
        allowed = (0, 1) if argv[:2] == ["calibration", "run"] else (0,)
        assert status in allowed, f"{shlex.join(argv)} -> {status}\n{out}\n{err}"
        assert "Traceback" not in err
        if argv[0] == "calibration":  # in French, like the report and the psychometrician page
            for english in ("kept", "exposed", "checks ", "refusing", "error"):
                assert english not in out + err
        if argv[:2] == ["calibration", "run"]:
            for french in ("estimation :", "liaison CO :", "contrôles", "simulation (moteur"):
                assert french in out

    root = tmp_path / "tutorial" / "releases"
    # the simulated responses are the one format, read as written (no renamed column)
    before = read_responses(tmp_path / "tutorial" / "before" / "responses.csv")
    assert before.renamed == {}
    assert len(set(before.person_ids)) == 400
    for name in ("before", "after"):
        summary = json.loads((tmp_path / "tutorial" / name / "summary.json").read_text())
        assert 0 < summary["rmse"]["overall"] < 1.5
    report = (tmp_path / "tutorial" / "work" / "report.html").read_text(encoding="utf-8")
    assert "Contrôles en échec" in report or "Contrôles réussis" in report
    assert "exposed" not in report

    # the new release: recalibrated parameters, the reason kept, and it runs in the engine
    old = itembank.load_release("2026.12.0", root=root)
    new = itembank.load_release("2026.12.1", root=root)
    assert set(new.items) == set(old.items)
    assert new.parameters_path.read_bytes() != old.parameters_path.read_bytes()
    calibration = new.metadata["calibration"]
    assert calibration["based_on"] == "2026.12.0"
    assert calibration["override_reason"].startswith("tutoriel")
    pool = pool_from_release(new)
    rules, _ = rules_for_pool(pool)
    step = next_step(TestState(seed=5), pool, rules, step_rng(5, 0))
    assert step.item_id in new.items

    # the web app on the tutorial's releases: a test session records the new version
    database = tmp_path / "app.db"
    shutil.copy(sqlite_template, database)
    rules_file = tmp_path / "rules.yaml"  # the app's CAT rules for a bank this small
    rules_file.write_text(yaml.safe_dump(testbank.RULES, allow_unicode=True), encoding="utf-8")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "clé-de-test",
            "AUTO_UPGRADE": False,
            "QUEUE": "sync",
            "BANK_ROOT": str(root),
            "RULES": str(rules_file),
            "INSTANCE_PATH": str(tmp_path / "instance"),
        }
    )
    try:
        with app.app_context():
            auditeur, _ = users.create_user(db.session, "auditeur-tuto", "Auditeur", "auditeur")
            users.create_user(db.session, "psy-tuto", "Psy", "psychometricien", "mot-de-passe-psy")
            session = start_test(app, auditeur, "75-2026-09999")
            db.session.commit()
            stored = db.session.get(TestSession, session.id)
            assert stored is not None
            assert stored.release_version == "2026.12.1"
        # the psychometrician page lists both releases, the new one with its changelog
        client = app.test_client()
        assert login(client, "psy-tuto", "mot-de-passe-psy").status_code == 302
        page = client.get("/psy/")
        assert page.status_code == 200
        assert "2026.12.1" in page.text
        assert "2026.12.0" in page.text
    finally:
        from placement.sessions.bankcache import set_default_root

        with app.app_context():
            db.engine.dispose()
        set_default_root(None)
