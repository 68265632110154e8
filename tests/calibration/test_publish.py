"""Publishing a calibration as a new bank release, and the engine loading it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from calibration.data import Responses, read_parameters, write_responses
from calibration.errors import PublishRefused
from calibration.publish import publish
from calibration.steps import Workdir, prepare, step_check, step_fit, step_link, step_simulate
from calibration.synthetic import simulate_cat

pytestmark = pytest.mark.slow


def _simulate_release_responses(release, rng: np.random.Generator, n: int) -> Responses:
    """Candidates take a CAT on each skill of the release (one θ per skill)."""
    params = read_parameters(release.parameters_path)
    persons, items, scores = [], [], []
    for skill in sorted(set(params.skills)):
        idx = np.flatnonzero(np.array([s == skill for s in params.skills]))
        data = simulate_cat(
            params.subset(idx), rng.normal(size=n), rng, test_length=8, randomesque=10
        )
        persons.append(data.person)
        items.append(idx[data.item])
        scores.append(data.score)
    return Responses(
        tuple(f"S{i}" for i in range(n)),
        np.concatenate(persons),
        np.concatenate(items),
        np.concatenate(scores),
    )


@pytest.fixture(scope="module")
def calibrated(bank_release, tmp_path_factory) -> tuple[object, Workdir]:
    rng = np.random.default_rng(7)
    params = read_parameters(bank_release.parameters_path)
    data = _simulate_release_responses(bank_release, rng, 1500)
    work = Workdir(tmp_path_factory.mktemp("work"))
    csv = write_responses(data, params, work.root / "export.csv")
    prepare(
        work, responses=csv, release=bank_release.version, releases_root=bank_release.root.parent
    )
    step_fit(work, min_responses=60, progress=False)
    step_link(work)
    step_check(work)
    step_simulate(work, n_candidates=60, progress=False)
    return bank_release, work


def test_publish_refuses_failed_checks_without_a_reason(calibrated):
    import itembank

    release, work = calibrated
    checks = step_check(work)
    assert not checks.passed  # 8-item CATs on this bank overexpose its best items
    before = itembank.list_releases(release.root.parent)
    for reason in (None, "   "):
        with pytest.raises(PublishRefused, match=r"publication refusée : .*au-dessus de 0\.25"):
            publish(work, override_reason=reason)
    assert itembank.list_releases(release.root.parent) == before


def test_published_release_keeps_the_reason_and_loads_in_the_engine(calibrated):
    import itembank
    from placement.bank import pool_from_release

    release, work = calibrated
    reason = "Exposition élevée attendue : banque pilote, contrôle d'exposition revu en janvier."
    new = publish(work, override_reason=reason, version="2099.1.0")
    loaded = itembank.load_release("2099.1.0", release.root.parent)
    meta = loaded.metadata["calibration"]
    assert meta["override_reason"] == reason
    assert meta["based_on"] == release.version
    assert meta["failed_checks"]
    assert reason in loaded.notes
    assert "calibration-report.html" in loaded.attachments
    report = loaded.attachments["calibration-report.html"].read_text(encoding="utf-8")
    assert "motif" in report
    assert new.version == "2099.1.0"
    pool = pool_from_release(loaded)
    ours = read_parameters(work.parameters)
    for i, item_id in enumerate(pool.ids):
        j = ours.index(item_id)
        # itembank writes parameters to 4 decimals
        assert pool.a[i] == pytest.approx(ours.a[j], abs=1e-4)
        assert pool.b[i] == pytest.approx(ours.b[j], abs=1e-4)
    assert set(pool.ids) == set(release.items) - {
        i for i, it in release.items.items() if it.status in ("retired", "draft")
    }
    # re-estimated rows are no longer provisional
    fitted = [r for r in loaded.parameters if r.id in set(read_parameters(work.fitted).ids)]
    assert any(not r.provisional for r in fitted)
    assert isinstance(loaded.root, Path)


def test_publishing_parameters_of_other_items_is_refused_in_french(bank_release, tmp_path):
    """A calibration of one's own CSV bank published onto a release whose items it does not
    have: both sides named, shortly, before the item bank is asked."""
    import itembank
    from calibration.data import write_parameters
    from calibration.errors import InputError
    from calibration.synthetic import random_bank

    rng = np.random.default_rng(3)
    bank = random_bank(30, rng, prefix="CE")
    bank = bank.with_values(ids=tuple(f"lecture-{i:02d}" for i in range(30)))
    data = simulate_cat(bank, rng.normal(size=600), rng, test_length=10, randomesque=5)
    work = Workdir(tmp_path / "w")
    csv = write_parameters(bank, tmp_path / "bank.csv")
    prepare(work, responses=write_responses(data, bank, tmp_path / "r.csv"), parameters=csv)
    step_fit(work, progress=False)
    step_link(work)
    step_check(work)
    before = itembank.list_releases(bank_release.root.parent)
    with pytest.raises(InputError) as excinfo:
        publish(
            work,
            release=bank_release.version,
            releases_root=bank_release.root.parent,
            override_reason="essai",
        )
    message = str(excinfo.value)
    assert f"ne sont pas ceux des items de la version {bank_release.version}" in message
    assert "30 item(s) absent(s) de la version : lecture-00, lecture-01" in message
    assert "no parameters for" not in message
    assert len(message) < 600
    assert itembank.list_releases(bank_release.root.parent) == before


def test_publishing_the_same_calibration_twice_is_refused_in_french(calibrated, capsys):
    """``calibration publish`` run twice from one work folder: the second names the release
    that already holds these parameters, publishes nothing, and --republish overrides it."""
    import re

    import itembank
    from calibration.cli import main

    release, work = calibrated
    root = release.root.parent
    argv = ["publish", "--work", str(work.root), "--override-reason", "essai de publication"]
    # --republish: published whatever an earlier test of this module already put out
    assert main([*argv, "--version", "2099.3.0", "--republish"]) == 0
    first = itembank.load_release("2099.3.0", root).metadata["calibration"]
    assert len(first["parameters_sha256"]) == 64
    capsys.readouterr()
    before = itembank.list_releases(root)
    assert main([*argv, "--version", "2099.4.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    found = re.search(
        rf"la version (\S+) porte déjà cette calibration \(mêmes paramètres, sur la version "
        rf"{re.escape(release.version)}\) ; relancez avec --republish",
        err,
    )
    assert found, err
    holder = itembank.load_release(found.group(1), root).metadata["calibration"]
    assert holder["parameters_sha256"] == first["parameters_sha256"]
    assert itembank.list_releases(root) == before


def test_parameters_whose_model_does_not_suit_the_items_are_refused_in_french(
    calibrated, tmp_path, capsys
):
    """A rubric item calibrated as 2PL: refused before the item bank (which would say it in
    English, every row in one line), with the count, the item and what to do."""
    import shutil

    import itembank
    from calibration.cli import main
    from itembank.parameters import read_parameters_csv, write_parameters_csv

    release, work = calibrated
    shutil.copytree(work.root, tmp_path / "work")
    copy = Workdir(tmp_path / "work")
    rows = list(read_parameters_csv(copy.parameters))
    rubric = [r for r in rows if r.model in ("GRM", "GPCM")][:7]
    changed = {r.id for r in rubric}
    write_parameters_csv(
        [replace(r, model="2PL", thresholds=(), b=r.b) if r.id in changed else r for r in rows],
        copy.parameters,
    )
    before = itembank.list_releases(release.root.parent)
    code = main(["publish", "--work", str(copy.root), "--override-reason", "essai", "--republish"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert (
        f"les paramètres calibrés ne conviennent pas aux items de la version {release.version} "
        "(7 problème(s)) : " in err
    )
    assert f"{rubric[0].id} : un item noté par grille demande GRM ou GPCM, pas 2PL" in err
    assert "(et 2 autre(s))" in err
    assert "calibration run --release" in err
    assert "needs" not in err
    assert itembank.list_releases(release.root.parent) == before
