"""What simulations report of the decisions, and the exposure control a release carries."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import pytest
import yaml

from placement.bank import load_bank
from placement.exposure import (
    EXPOSURE_ATTACHMENT,
    exposure_mismatch,
    fit_exposure,
    with_exposure,
)
from placement.exposure import cli as exposure_cli
from placement.rules import default_rules
from placement.simulation import cli as simulate_cli
from placement.simulation import simulate
from tests.candidate import testbank

from .conftest import make_pool
from .test_simulate_cli import small_bank  # noqa: F401 - the fixture, shared


def _run(module: object, argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="placement")
    module.register(parser.add_subparsers(dest="command", required=True))  # type: ignore[attr-defined]
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.mark.slow
def test_simulate_reports_the_decisions_probabilities(small_bank, tmp_path, capsys) -> None:  # noqa: F811
    out = tmp_path / "out"
    code = _run(
        simulate_cli,
        ["simulate", "--bank", str(small_bank), "--examinees", "40", "--seed", "3",
         "--out", str(out), "--no-progress", "--non-reader-share", "0.3"],
    )  # fmt: skip
    assert code == 0
    with (out / "examinees.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        assert 0.0 <= float(row["p_dispense"]) <= 1.0
        assert 0.0 <= float(row["p_hours"]) <= 1.0
        assert row["referred"] in ("True", "False")
        if row["non_reader"] == "True":  # the 2016 policy: a non-reader is never dispensed
            assert float(row["p_dispense"]) == 0.0
            assert row["hours"] == "200"
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    accuracy = summary["classification_accuracy"]
    for key in ("dispense", "hours", "dispense_auto", "hours_auto"):
        assert accuracy[key] is None or 0.0 <= accuracy[key] <= 1.0
    assert summary["referred_share"] == pytest.approx(
        sum(r["referred"] == "True" for r in rows) / len(rows)
    )
    assert 0.0 <= summary["dispense_calibration"]["ece"] <= 1.0
    assert sum(b["n"] for b in summary["dispense_calibration"]["bins"]) == len(rows)
    paths = summary["exposure_by_path"]
    assert set(paths) == {"readers", "non_readers"}
    assert paths["readers"]["n_examinees"] + paths["non_readers"]["n_examinees"] == 40
    assert (out / "reliability.png").stat().st_size > 0
    printed = capsys.readouterr().out
    assert "renvoyées à l'auditeur" in printed
    # no section of these rules stops on the SE rule: the line says so instead of a dash
    se_sections = sum(r.get("se_target", 0) for r in summary["section_stop_reasons"].values())
    assert ("aucune section arrêtée par la règle d'erreur type" in printed) == (se_sections == 0)


def _short_rules(tmp_path: Path) -> Path:
    """The CIR rules with 2-3 item sections: the test bank is small, so that both paths can be
    filled."""
    rules_file = tmp_path / "rules.yaml"
    data = yaml.safe_load(Path("placement/rules/cir.yaml").read_text(encoding="utf-8"))
    for section in data["sections"] + data.get("non_reader_sections", []):
        section["min_items"], section["max_items"] = 2, 3
    data["themes"]["min_items"] = 0
    rules_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return rules_file


@pytest.mark.slow
def test_a_release_carries_exposure_control_for_both_paths(tmp_path: Path) -> None:
    root, _rules = testbank.publish(tmp_path / "bank")
    rules_file = _short_rules(tmp_path)
    source = load_bank(str(root / testbank.VERSION))
    assert source.exposure is None
    code = _run(
        exposure_cli,
        ["exposure", "--bank", str(root / testbank.VERSION), "--rules", str(rules_file),
         "--examinees", "30", "--iterations", "2", "--publish", "--no-progress"],
    )  # fmt: skip
    assert code == 0
    newest = max((p for p in root.iterdir() if p.name[0].isdigit()), key=lambda p: p.name)
    assert newest.name != testbank.VERSION
    bank = load_bank(str(newest))
    assert bank.exposure is not None
    assert bank.exposure["target"] == 0.25
    assert bank.exposure["readers"]["max_exposure"] <= 1.0
    release_yaml = yaml.safe_load((newest / "release.yaml").read_text(encoding="utf-8"))
    assert "readers" in release_yaml["metadata"]["exposure"]
    manifest = json.loads((newest / "manifest.json").read_text(encoding="utf-8"))
    assert f"attachments/{EXPOSURE_ATTACHMENT}" in manifest["files"]
    applied = with_exposure(default_rules(), bank.exposure)
    assert dict(applied.exposure.sympson_hetter) == bank.exposure["readers"]["parameters"]
    # fitted for these rules: nothing to say; for others: said, with the command that mends it
    assert exposure_mismatch(default_rules(), bank.exposure) is None
    older = default_rules().with_changes(version="cir-0")
    warning = exposure_mismatch(older, bank.exposure)
    assert warning is not None
    assert "cir-0" in warning
    assert default_rules().version in warning
    assert "placement exposure" in warning


@pytest.mark.slow
def test_fitted_parameters_lower_the_highest_exposure() -> None:
    pool = make_pool({"CO": 80, "CE": 60, "EO": 40, "EE": 20}, seed=21, non_reader_share=0.7)
    rules = default_rules()
    exposure = fit_exposure(pool, rules, n_examinees=100, iterations=5, seed=5)
    assert exposure["readers"] is not None
    assert exposure["non_readers"] is not None
    assert exposure["readers"]["parameters"] != exposure["non_readers"]["parameters"]
    before = simulate(pool, rules, 200, 9, progress=False, non_reader_share=0.5)
    after = simulate(pool, with_exposure(rules, exposure), 200, 9, progress=False,
                     non_reader_share=0.5)  # fmt: skip
    for path in ("readers", "non_readers"):
        assert (
            after.summary["exposure_by_path"][path]["max_exposure"]
            < before.summary["exposure_by_path"][path]["max_exposure"]
        )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--bank", "nope", "--out", "x.json"],
            "version de banque 'nope' illisible : numéro de version 'nope' invalide",
        ),
        (["--bank", "latest"], "--out FICHIER ou --publish"),
        (["--bank", "latest", "--out", "x.json", "--examinees", "3"], "au moins 10"),
    ],
)
def test_exposure_refuses_bad_input(argv: list[str], message: str, capsys) -> None:
    assert _run(exposure_cli, ["exposure", *argv]) == 2
    assert message in capsys.readouterr().err


def test_an_exposure_target_the_bank_cannot_reach_is_said(tmp_path: Path, capsys) -> None:
    """A bank with fewer items than its sections give leaves every item above the target: the
    command says so instead of reporting 'items contrôlés' as if the control worked."""
    root, _rules = testbank.publish(tmp_path / "bank")
    rules_file = _short_rules(tmp_path)
    out = tmp_path / "exposure.json"
    code = _run(
        exposure_cli,
        ["exposure", "--bank", str(root / testbank.VERSION), "--rules", str(rules_file),
         "--examinees", "30", "--iterations", "2", "--out", str(out), "--no-progress"],
    )  # fmt: skip
    assert code == 0
    readers = json.loads(out.read_text(encoding="utf-8"))["readers"]
    assert readers["max_exposure"] > 0.25
    printed = capsys.readouterr()
    assert "attention : lecteurs : cible 0.25 hors d'atteinte sur cette banque" in printed.err


def test_an_exposure_target_out_of_range_is_one_french_line(tmp_path: Path, capsys) -> None:
    code = _run(
        exposure_cli,
        ["exposure", "--bank", "latest", "--target", "0", "--out", str(tmp_path / "e.json")],
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "placement exposure : --target doit être dans ]0, 1] (reçu 0.0)" in err


@pytest.mark.parametrize(
    ("files", "argv", "message"),
    [
        (
            {"rules.yaml": "sections: [{skill: CO, max_items: 2}]\nstopping: {se_target: -1}\n"},
            ["--rules", "rules.yaml"],
            "rules.yaml : stopping.se_target doit être > 0",
        ),
        ({}, ["--rules", "nope.yaml"], "nope.yaml : fichier de règles introuvable"),
        (
            {"e.json": '{"readers": '},
            ["--parameters", "e.json"],
            "e.json : paramètres d'exposition illisibles : JSON invalide, ligne 1",
        ),
    ],
)
def test_exposure_says_bad_files_in_one_french_line(tmp_path, files, argv, message) -> None:
    import subprocess
    import sys

    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("placement")), "exposure", "--bank", "latest",
         "--out", "out.json", "--no-progress", *argv],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("placement exposure : ")
    assert message in lines[0]
    assert not (tmp_path / "out.json").exists()


def test_exposure_names_the_releases_folder_as_simulate_does(tmp_path: Path, capsys) -> None:
    """``--releases-root`` as in ``placement simulate`` and ``calibration``; the first name,
    ``--root``, still runs but is no longer shown."""
    root, rules = testbank.publish(tmp_path / "bank")
    for option in ("--releases-root", "--root"):
        out = tmp_path / f"{option.strip('-')}.json"
        code = _run(
            exposure_cli,
            ["exposure", "--bank", "latest", option, str(root), "--rules", str(rules),
             "--examinees", "20", "--iterations", "1", "--out", str(out), "--no-progress"],
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
        assert json.loads(out.read_text(encoding="utf-8"))["readers"] is not None
    with pytest.raises(SystemExit):
        _run(exposure_cli, ["exposure", "--help"])
    shown = capsys.readouterr().out
    assert "--releases-root" in shown
    assert "--root" not in shown.replace("--releases-root", "")
    assert "dossier des versions" in shown
    assert "Ajuste par simulation les paramètres de Sympson-Hetter" in shown
    assert "fit Sympson-Hetter" not in shown
