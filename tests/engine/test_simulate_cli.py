"""``placement simulate`` on a small CSV bank: files written, figures sane, bad input refused."""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from placement.simulation import cli

from .conftest import make_pool


def _run(argv: list[str]) -> int:
    # the sub-command as `placement simulate` registers it (placement.cli builds the same parser)
    parser = argparse.ArgumentParser(prog="placement")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.fixture
def small_bank(tmp_path: Path) -> Path:
    pool = make_pool({"CO": 25, "CE": 25, "EO": 10, "EE": 10}, seed=41)
    path = tmp_path / "bank.csv"
    kmax = pool.thresholds.shape[1]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["id", "skill", "theme", "model", "a", "b", "c", "d"]
            + [f"b{j + 1}" for j in range(kmax)]
            + ["non_reader"]
        )
        for i, item_id in enumerate(pool.ids):
            poly = pool.models[i] in ("GRM", "GPCM")
            steps = [
                "" if not poly or v != v else f"{v:.4f}"  # NaN-padded cells stay empty
                for v in pool.thresholds[i]
            ]
            b = "" if poly else f"{pool.b[i]:.4f}"
            head = [item_id, pool.skills[i], pool.themes[i], pool.models[i], f"{pool.a[i]:.4f}"]
            writer.writerow([*head, b, f"{pool.c[i]:.2f}", "1", *steps, int(pool.non_reader[i])])
    return path


@pytest.mark.slow
def test_simulate_writes_its_report(small_bank, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code = _run(
        ["simulate", "--bank", str(small_bank), "--examinees", "40", "--seed", "7",
         "--out", str(out), "--no-progress", "--non-reader-share", "0.2"]
    )  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    for key in ("mean_items", "rmse", "bias", "classification_accuracy", "max_exposure",
                "unused_fraction", "step_ms_p50", "step_ms_p99"):  # fmt: skip
        assert key in summary
    assert summary["n_examinees"] == 40
    # readers take at least 8+8+3+2 items, non-readers at least 8+3; nobody more than 34
    assert 11 <= summary["mean_items"] <= 34
    assert 0 < summary["rmse"]["overall"] < 1.5
    assert set(summary["classification_accuracy"]["CO"]) == {"A1.1", "A1", "A2", "B1"}
    with (out / "examinees.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 40
    assert {"theta_CO", "theta_hat_CO", "se_CO", "n_items", "decision"} <= set(rows[0])
    assert any(r["non_reader"] == "True" for r in rows)
    for png in ("theta_hat_vs_theta", "se_vs_theta", "test_length", "exposure"):
        data = (out / f"{png}.png").read_bytes()
        assert data.startswith(b"\x89PNG")
    report = capsys.readouterr().out
    assert "justesse de la décision de dispense" in report
    # the same seed gives the same figures
    again = tmp_path / "again"
    _run(
        ["simulate", "--bank", str(small_bank), "--examinees", "40", "--seed", "7",
         "--out", str(again), "--no-progress", "--no-plots", "--non-reader-share", "0.2"]
    )  # fmt: skip
    second = json.loads((again / "summary.json").read_text(encoding="utf-8"))
    assert second["rmse"] == summary["rmse"]
    assert (again / "examinees.csv").read_text() == (out / "examinees.csv").read_text()


def test_simulate_with_true_thetas_from_a_csv(small_bank, tmp_path) -> None:
    thetas = tmp_path / "thetas.csv"
    thetas.write_text("theta\n-2.0\n0.0\n2.0\n", encoding="utf-8")
    out = tmp_path / "out"
    code = _run(
        ["simulate", "--bank", str(small_bank), "--thetas", str(thetas), "--seed", "1",
         "--out", str(out), "--no-progress", "--no-plots"]
    )  # fmt: skip
    assert code == 0
    with (out / "examinees.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [float(r["theta_CE"]) for r in rows] == [-2.0, 0.0, 2.0]
    assert float(rows[0]["theta_hat_CE"]) < float(rows[2]["theta_hat_CE"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--examinees", "0"], "--examinees"),
        (["--rules", "/nonexistent/rules.yaml"], "rules.yaml : fichier de règles introuvable"),
        (["--policy", "cir-1999"], "politique inconnue 'cir-1999'"),
        (["--non-reader-share", "2"], "--non-reader-share doit être entre 0 et 1 (reçu 2.0)"),
        (["--exposure-target", "0"], "--exposure-target doit être dans ]0, 1] (reçu 0.0)"),
        (["--thetas", "/nonexistent/t.csv"], "/nonexistent/t.csv : lecture impossible"),
        (["--bank", "/nonexistent/2026.12.0"], "/nonexistent/2026.12.0 : dossier introuvable"),
    ],
)
def test_bad_input_is_a_clear_message_and_exit_code_2(
    small_bank, tmp_path, capsys, extra, message
) -> None:
    code = _run(["simulate", "--bank", str(small_bank), "--out", str(tmp_path / "o"),
                 "--no-progress", "--no-plots", "--examinees", "3", *extra])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "t.csv : aucune ligne"),
        ("X\n0.5\n", "t.csv : ni colonne 'CO' ni colonne 'theta'"),
        ("theta\nabc\n", "t.csv, ligne 2 : colonne 'theta' : 'abc' n'est pas un nombre"),
    ],
)
def test_a_bad_thetas_file_is_said_in_french(small_bank, tmp_path, capsys, text, message) -> None:
    thetas = tmp_path / "t.csv"
    thetas.write_text(text, encoding="utf-8")
    code = _run(["simulate", "--bank", str(small_bank), "--out", str(tmp_path / "o"),
                 "--no-progress", "--no-plots", "--examinees", "3",
                 "--thetas", str(thetas)])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err


def test_a_bad_bank_csv_is_refused(tmp_path, capsys) -> None:
    bank = tmp_path / "bank.csv"
    bank.write_text("id,skill,theme,model,a,b\nX,CE,vie pratique,2PL,-1,0\n", encoding="utf-8")
    assert _run(["simulate", "--bank", str(bank), "--out", str(tmp_path / "o")]) == 2
    assert "ligne 2 : a=-1.0 doit être positif" in capsys.readouterr().err


@pytest.mark.slow
def test_exposure_target_computes_and_uses_sympson_hetter_parameters(small_bank, tmp_path) -> None:
    out = tmp_path / "sh"
    code = _run(
        ["simulate", "--bank", str(small_bank), "--examinees", "25", "--seed", "3",
         "--out", str(out), "--no-progress", "--no-plots", "--exposure-target", "0.3"]
    )  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    parameters = summary["sympson_hetter"]
    assert parameters
    assert all(0 < k < 1 for k in parameters.values())


def _one_skill_bank(small_bank: Path, tmp_path: Path, skill: str, label: str) -> Path:
    """The CE rows of ``small_bank``, their skill relabelled ``label``."""
    lines = small_bank.read_text(encoding="utf-8").splitlines()
    rows = [lines[0]] + [
        line.replace(f",{skill},", f",{label},", 1) for line in lines[1:] if f",{skill}," in line
    ]
    path = tmp_path / f"{label}.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_one_skill_bank_runs_without_a_rules_file(small_bank, tmp_path, capsys) -> None:
    from calibration.data import read_parameters, read_responses

    bank = _one_skill_bank(small_bank, tmp_path, "CE", "CE")
    out = tmp_path / "out"
    code = _run(["simulate", "--bank", str(bank), "--examinees", "30", "--seed", "2",
                 "--out", str(out), "--no-progress", "--no-plots"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["mean_items_by_skill"]) == {"CE"}
    assert 8 <= summary["mean_items"] <= 12  # the CIR lengths of a CE section
    assert summary["classification_accuracy"]["dispense"] is not None  # CE has CIR cut scores
    # the responses file is the one calibration reads, as written
    responses = read_responses(out / "responses.csv", read_parameters(bank))
    assert responses.n_persons == 30
    assert responses.notes == ()


def test_items_per_section_and_a_skill_of_ones_own(small_bank, tmp_path, capsys) -> None:
    bank = _one_skill_bank(small_bank, tmp_path, "CE", "LECTURE")
    out = tmp_path / "out"
    code = _run(["simulate", "--bank", str(bank), "--examinees", "20", "--items", "15",
                 "--out", str(out), "--no-progress", "--no-plots"])  # fmt: skip
    assert code == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["mean_items"] == 15  # a fixed length per section
    assert summary["classification_accuracy"]["dispense"] is None  # no cut scores for it
    err = capsys.readouterr().err
    assert "pas de seuils CECR pour LECTURE" in err
    assert "cut_scores: {LECTURE: {A1.1: …, A1: …, A2: …, B1: …}}" in err
    # more items than the bank has: the section gives what there is, and says so
    code = _run(["simulate", "--bank", str(bank), "--examinees", "5", "--items", "40",
                 "--out", str(tmp_path / "o2"), "--no-progress", "--no-plots"])  # fmt: skip
    assert code == 0
    assert "section LECTURE : 25 item(s) opérationnel(s) seulement" in capsys.readouterr().err


def test_a_rules_file_the_bank_cannot_meet_lists_what_to_change(small_bank, tmp_path, capsys):
    bank = _one_skill_bank(small_bank, tmp_path, "CE", "CE")
    code = _run(["simulate", "--bank", str(bank), "--rules", "cir", "--out", str(tmp_path / "o"),
                 "--no-progress", "--no-plots", "--examinees", "3"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    for gap in (
        "section CO : au moins 8 items, la banque en a 0",
        "section EO : au moins 3 items, la banque en a 0",
        "section EE : au moins 2 items, la banque en a 0",
        "La banque a : CE (25)",
    ):
        assert gap in err


def test_an_output_folder_that_cannot_be_made_is_one_line(small_bank, tmp_path, capsys) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    code = _run(["simulate", "--bank", str(small_bank), "--examinees", "2", "--no-progress",
                 "--no-plots", "--out", str(blocker / "out")])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("placement simulate : écriture impossible dans ")
    assert err.count("\n") == 1


def test_non_readers_on_a_bank_without_their_items_is_a_clear_refusal(small_bank, tmp_path, capsys):
    bank = _one_skill_bank(small_bank, tmp_path, "CE", "CE")
    out = str(tmp_path / "o")
    code = _run(["simulate", "--bank", str(bank), "--examinees", "3", "--no-progress",
                 "--no-plots", "--non-reader-share", "0.5", "--out", out])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert "aucune section pour les non-lecteurs : les règles les testent en CO, EO" in err


def test_a_bank_without_a_skill_column_prints_its_section_by_name(tmp_path, capsys) -> None:
    bank = tmp_path / "bank.csv"
    rows = [f"I-{i},2PL,{0.8 + i % 5 / 5},{(i - 15) / 8}" for i in range(30)]
    bank.write_text("id,model,a,b\n" + "\n".join(rows) + "\n", encoding="utf-8")
    code = _run(["simulate", "--bank", str(bank), "--examinees", "5", "--out",
                 str(tmp_path / "o"), "--no-progress", "--no-plots"])  # fmt: skip
    assert code == 0
    assert "\n  (sans compétence) : items 8.000" in capsys.readouterr().out


def test_thetas_set_the_number_of_candidates_and_say_so(small_bank, tmp_path, capsys) -> None:
    thetas = tmp_path / "t.csv"
    thetas.write_text("theta\n-1\n0\n1\n", encoding="utf-8")
    out = tmp_path / "o"
    code = _run(["simulate", "--bank", str(small_bank), "--out", str(out), "--no-progress",
                 "--no-plots", "--examinees", "100", "--thetas", str(thetas)])  # fmt: skip
    assert code == 0
    assert "--thetas donne 3 candidats : --examinees 100 n'est pas suivi" in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["n_examinees"] == 3


def test_a_release_of_another_releases_folder_is_simulated(tmp_path, capsys) -> None:
    """`--releases-root` as in `calibration`: `latest` and a version are read there, not among
    the bundled releases (which would be simulated instead, under the same kind of name)."""
    import itembank

    root = tmp_path / "releases"
    bank = Path(__file__).resolve().parents[2] / "itembank" / "bank"
    itembank.publish_release(bank, root=root, version="2026.1.0", skip_invalid=True)
    for spec in ("latest", "2026.1.0"):
        code = _run(["simulate", "--bank", spec, "--releases-root", str(root),
                     "--examinees", "3", "--out", str(tmp_path / spec),
                     "--no-progress", "--no-plots"])  # fmt: skip
        assert code == 0
        assert capsys.readouterr().out.startswith("banque 2026.1.0,")


#: The installed command, as a psychometrician runs it.
PLACEMENT = Path(sys.executable).with_name("placement")


def _command(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PLACEMENT), *argv], capture_output=True, text=True, timeout=120, check=False
    )


def _one_french_line(result: subprocess.CompletedProcess[str], prefix: str, message: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix)
    assert message in lines[0]


@pytest.mark.parametrize(
    ("rules_text", "message"),
    [
        (
            "sections: [{skill: CO, max_items: 2}\n",
            "rules.yaml : YAML invalide, ligne 2, colonne 1",
        ),
        (
            "sections: [{skill: CO, max_items: deux}]\n",
            "rules.yaml : sections[0].max_items doit être un nombre, reçu 'deux'",
        ),
        (
            "sections: [{skill: CO, max_items: 2}]\nstoping: {max_items: 3}\n",
            "rules.yaml : règles : clé(s) inconnue(s) ['stoping']",
        ),
        (
            "sections: [{skill: CO, max_items: 2}]\nnon_reader_skills: 5\n",
            "rules.yaml : non_reader_skills doit être une liste de noms, reçu un nombre (5)",
        ),
        (
            "sections: [{skill: CO, max_items: 2}]\nstopping: {max_items: 0}\n",
            "rules.yaml : stopping.max_items doit être ≥ 1",
        ),
    ],
)
def test_a_malformed_rules_file_is_one_french_line(small_bank, tmp_path, rules_text, message):
    rules = tmp_path / "rules.yaml"
    rules.write_text(rules_text, encoding="utf-8")
    result = _command(
        "simulate", "--bank", str(small_bank), "--rules", str(rules), "--examinees", "3",
        "--out", str(tmp_path / "o"), "--no-progress", "--no-plots",
    )  # fmt: skip
    _one_french_line(result, "placement simulate : ", message)


def test_an_unknown_policy_is_one_french_line(small_bank, tmp_path) -> None:
    result = _command(
        "simulate", "--bank", str(small_bank), "--policy", "cir-2099", "--examinees", "3",
        "--out", str(tmp_path / "o"), "--no-progress", "--no-plots",
    )  # fmt: skip
    _one_french_line(
        result,
        "placement simulate : ",
        "politique inconnue 'cir-2099' (politiques livrées : cir-2016, cir-2019)",
    )


def test_a_malformed_policy_file_is_one_french_line(small_bank, tmp_path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "name: x\nversion: 1\ndispense: [A1]\nnon_reader: {}\nprescriptions: [{hours: 50}]\n",
        encoding="utf-8",
    )
    result = _command(
        "simulate", "--bank", str(small_bank), "--policy", str(policy), "--examinees", "3",
        "--out", str(tmp_path / "o"), "--no-progress", "--no-plots",
    )  # fmt: skip
    _one_french_line(
        result, "placement simulate : ", "policy.yaml : dispense doit être une table de clés"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # the engine's models: a 2PL has no lower asymptote
        ((3, "c", "0.2"), "ligne 3 : un item 2PL a c = 0 et d = 1 (lu : c=0.2, d=1.0)"),
        ((2, "a", "-1"), "ligne 2 : a=-1.0 doit être positif"),
        ((4, "model", "5PL"), "ligne 4 : modèle inconnu '5PL'"),
    ],
)
def test_a_bad_item_is_one_french_line(small_bank, tmp_path, edit, message) -> None:
    line, column, value = edit
    with small_bank.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[line - 2][column] = value
    rows[line - 2]["model"] = rows[line - 2]["model"] if column != "c" else "2PL"
    bad = tmp_path / "bad.csv"
    with bad.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = _command(
        "simulate", "--bank", str(bad), "--examinees", "3",
        "--out", str(tmp_path / "o"), "--no-progress", "--no-plots",
    )  # fmt: skip
    _one_french_line(result, "placement simulate : ", message)
