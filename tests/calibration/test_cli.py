"""The whole chain on the command line, on CSV files made elsewhere."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from calibration.cli import main
from calibration.data import Responses, read_parameters, write_parameters, write_responses
from calibration.synthetic import random_bank, simulate_cat


@pytest.mark.slow
def test_run_chains_every_step_and_writes_a_self_contained_report(tmp_path, rng, capsys):
    bank = random_bank(50, rng, n_grm=4)
    data = simulate_cat(bank, rng.normal(0.3, 1.2, 2500), rng, test_length=15, randomesque=10)
    data = Responses(
        data.person_ids, data.person, data.item, data.score,
        groups=tuple(rng.choice(["fr", "ar"], data.n_persons)),
    )  # fmt: skip
    params = write_parameters(bank, tmp_path / "bank.csv")
    responses = write_responses(data, bank, tmp_path / "responses.csv")
    work = tmp_path / "work"
    status = main(
        ["run", "--work", str(work), "--responses", str(responses), "--parameters", str(params),
         "--quiet", "--candidates", "300", "--max-exposure", "1.0", "--min-responses", "80"]
    )  # fmt: skip
    out = capsys.readouterr().out
    checks = json.loads((work / "checks.json").read_text())
    assert status == (0 if checks["passed"] else 1)
    assert re.search(r"liaison CE : θ_ancien = 1\.[12]\d+ θ_nouveau \+0\.[23]", out)
    new = read_parameters(work / "parameters.csv")
    assert new.ids == bank.ids
    fit = json.loads((work / "fit.json").read_text())
    fitted = np.isin(new.ids, fit["fitted"])
    assert float(np.sqrt(np.mean((new.b[fitted] - bank.b[fitted]) ** 2))) < 0.4
    html = (work / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 5
    assert 'src="http' not in html
    assert "Liaison à l'échelle actuelle" in html
    sim = json.loads((work / "simulation.json").read_text())
    assert sim["engine"] == "placement.simulation"  # the real CAT ran on both tables
    assert sim["new"]["rmse"]["overall"] < 0.6
    assert sim["current"]["mean_items"] >= 8  # the CE section's minimum
    assert 0.5 <= sim["decision_agreement"] <= 1.0
    assert "Simulation du moteur" in html


def test_simulate_without_the_engine_uses_the_per_skill_cat(tmp_path, rng, capsys):
    bank = random_bank(30, rng)
    data = simulate_cat(bank, rng.normal(size=800), rng, test_length=10, randomesque=5)
    params = write_parameters(bank, tmp_path / "bank.csv")
    responses = write_responses(data, bank, tmp_path / "responses.csv")
    work = tmp_path / "w"
    common = ["--work", str(work), "--quiet"]
    assert main(["fit", *common, "--responses", str(responses), "--parameters", str(params)]) == 0
    assert main(["link", *common]) == 0
    assert main(["simulate", *common, "--no-engine", "--candidates", "200"]) == 0
    sim = json.loads((work / "simulation.json").read_text())
    assert sim["engine"] == "calibration.synthetic"
    assert "--no-engine" in sim["fallback_reason"]
    (ce,) = sim["skills"]
    assert ce["current"]["mean_items"] == 10
    assert ce["new"]["rmse"] < 0.7
    assert "simulation CE : RMSE" in capsys.readouterr().out


def test_simulate_says_in_french_why_the_non_reader_path_was_not_run(tmp_path, rng, capsys):
    co = random_bank(30, rng, prefix="CO")
    themes = ("vie pratique", "vie publique", "vie professionnelle")
    co = co.with_values(skills=("CO",) * 30, themes=tuple(themes[i % 3] for i in range(30)))
    work = tmp_path / "work"
    work.mkdir()
    write_parameters(co, work / "current-parameters.csv")
    write_parameters(co, work / "parameters.csv")
    assert main(["simulate", "--work", str(work), "--quiet", "--candidates", "20"]) == 0
    out = capsys.readouterr().out
    assert (
        "simulation (moteur, non-lecteurs) : non faite : section CO : au moins 8 items marqués "
        "non_reader, la banque en a 0" in out
    )
    assert "skipped" not in out


def test_a_new_fit_leaves_no_result_of_the_previous_one_to_check_or_publish(tmp_path, rng, capsys):
    """Rerunning `fit` (other responses, other options) while `link` then fails must not let
    `check` and `publish` read the linked table of the previous fit as if it were this one's."""
    bank = random_bank(30, rng)
    data = simulate_cat(bank, rng.normal(size=800), rng, test_length=10, randomesque=5)
    params = write_parameters(bank, tmp_path / "bank.csv")
    responses = write_responses(data, bank, tmp_path / "responses.csv")
    work = tmp_path / "w"
    common = ["--work", str(work), "--quiet"]
    fit = ["fit", *common, "--responses", str(responses), "--parameters", str(params)]
    assert main(fit) == 0
    assert main(["link", *common]) == 0
    main(["check", *common, "--max-exposure", "1"])
    assert (work / "parameters.csv").is_file()
    assert (work / "checks.json").is_file()
    # a second fit: every linked result of the first is gone
    assert main([*fit, "--min-responses", "100"]) == 0
    for stale in ("parameters.csv", "linking.json", "checks.json"):
        assert not (work / stale).exists(), stale
    assert main(["link", *common, "--anchors", "CE-9999"]) == 2  # the link fails
    capsys.readouterr()
    assert main(["check", *common]) == 2
    assert "lancez d'abord `calibration link`" in capsys.readouterr().err


@pytest.mark.parametrize("step", ["link", "check", "simulate", "report", "publish"])
def test_a_step_on_a_work_folder_that_does_not_exist_makes_nothing(tmp_path, capsys, step):
    work = tmp_path / "calibraton-work"  # a typo
    assert main([step, "--work", str(work), "--quiet"]) == 2
    assert f"{work} : dossier de travail introuvable" in capsys.readouterr().err
    assert not work.exists()


def test_report_before_fit_is_refused(tmp_path, capsys):
    work = tmp_path / "w"
    work.mkdir()
    assert main(["report", "--work", str(work)]) == 2
    assert "fit.json manque : lancez d'abord `calibration fit`" in capsys.readouterr().err
    assert not (work / "report.html").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "--se", "bootstrap", "--bootstrap", "0"], "--bootstrap doit valoir au moins 1"),
        (["fit", "--min-responses", "-5"], "--min-responses doit valoir au moins 0"),
        (["simulate", "--candidates", "0"], "--candidates doit valoir au moins 1"),
        (["simulate", "--candidates", "-3"], "--candidates doit valoir au moins 1"),
        (["simulate", "--length", "0"], "--length doit valoir au moins 1"),
        (["check", "--fit-range", "1.5", "0.5"], "--fit-range : LOW < HIGH, tous deux > 0"),
        (["check", "--max-exposure", "0"], "--max-exposure doit être dans ]0, 1]"),
        (["check", "--drift-b", "-1"], "--drift-b doit être > 0"),
        (["run", "--candidates", "0"], "--candidates doit valoir au moins 1"),
    ],
)
def test_numbers_out_of_range_are_one_french_line_not_a_traceback(tmp_path, capsys, argv, message):
    work = tmp_path / "w"
    work.mkdir()
    assert main([*argv, "--work", str(work), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("calibration : erreur : ")
    assert message in err
    assert list(work.iterdir()) == []  # refused before anything ran


def test_an_anchors_file_saved_with_a_byte_order_mark_is_read(tmp_path, rng, capsys):
    bank = random_bank(30, rng)
    data = simulate_cat(bank, rng.normal(size=800), rng, test_length=10, randomesque=5)
    params = write_parameters(bank, tmp_path / "bank.csv")
    responses = write_responses(data, bank, tmp_path / "responses.csv")
    common = ["--work", str(tmp_path / "w"), "--quiet"]
    assert main(["fit", *common, "--responses", str(responses), "--parameters", str(params)]) == 0
    fitted = json.loads((tmp_path / "w" / "fit.json").read_text())["fitted"][:4]
    listed = tmp_path / "ancres.txt"
    listed.write_text("\r\n".join(fitted) + "\r\n", encoding="utf-8-sig")
    assert main(["link", *common, "--anchors", f"@{listed}", "--method", "mean-sigma"]) == 0
    assert "(mean-sigma, 4 ancres" in capsys.readouterr().out
