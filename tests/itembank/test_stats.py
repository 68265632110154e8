"""`itembank stats`: coverage counts and what is missing for the blueprint."""

from __future__ import annotations

import json

import pytest

from itembank.cli import main
from itembank.sources import item_from_data
from itembank.stats import coverage, format_coverage, format_key_checks, key_checks
from tests.itembank.conftest import MakeBank, base_items


def test_counts_and_shortfalls() -> None:
    items = [item_from_data(d) for d in base_items().values()]
    items.append(item_from_data({**base_items()["CE-001"], "id": "CE-009", "status": "draft"}))
    cov = coverage(items)
    assert cov.total == 7  # the draft is not counted
    assert cov.by_status == {"operational": 7, "draft": 1}
    assert cov.by_skill == {"CO": 2, "CE": 2, "EO": 1, "EE": 2}
    assert cov.by_cell[("CO", "A1.1", "vie pratique")] == 1
    assert cov.by_type[("EE", "form_fill")] == 1
    assert cov.non_reader == {"CO": 1, "CE": 0, "EO": 1, "EE": 0}
    missing = {str(s) for s in cov.shortfalls}
    assert "CO: items: 2 < 48 (missing 46)" in missing
    assert "EE: items: 2 < 16 (missing 14)" in missing
    assert "CE: theme vie publique: 0 < 4 (missing 4)" in missing
    assert "EO: non-reader items: 1 < 12 (missing 11)" in missing
    assert "EO: level B1: 0 < 3 (missing 3)" in missing
    assert not any(s.startswith("CE: non-reader") for s in missing)  # CE always needs reading
    text = format_coverage(cov)
    assert "CO    A1.1            1         0         0       1" in text.splitlines()


def test_a_full_bank_meets_the_blueprint() -> None:
    items = []
    n = 0
    for skill, kind, per_cell in (("CO", "CO-001", 4), ("CE", "CE-001", 4), ("EO", "EO-001", 2),
                                  ("EE", "EE-001", 2)):  # fmt: skip
        for level in ("A1.1", "A1", "A2", "B1"):
            for theme in ("vie pratique", "vie publique", "vie professionnelle"):
                for _ in range(per_cell):
                    n += 1
                    data = {**base_items()[kind], "id": f"{skill}-{n:03d}", "target_level": level,
                            "theme": theme}  # fmt: skip
                    items.append(item_from_data(data))
    cov = coverage(items)
    assert cov.by_skill == {"CO": 48, "CE": 48, "EO": 24, "EE": 24}
    assert cov.shortfalls == []
    assert "the bank meets every blueprint requirement" in format_coverage(cov)


def test_cli_stats(make_bank: MakeBank, capsys: pytest.CaptureFixture[str]) -> None:
    bank = make_bank()
    assert main(["stats", str(bank), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["by_skill"] == {"CO": 2, "CE": 2, "EO": 1, "EE": 2}
    assert data["by_skill_level_theme"]["CE"]["B1"]["vie pratique"] == 1
    assert "CO: items: 2 < 48 (missing 46)" in data["missing_for_blueprint"]
    assert main(["stats", str(bank)]) == 0
    assert "missing for the blueprint" in capsys.readouterr().out


def test_key_checks() -> None:
    data = base_items()
    twin = {**data["CO-001"], "id": "CO-003", "enemies": []}  # same key picture, not an enemy
    longer = {**data["CE-001"], "id": "CE-003", "key": "a"}  # "ouvert" is one letter longer
    items = [item_from_data(d) for d in (*data.values(), twin, longer)]
    keys = key_checks(items)
    assert keys.positions == {"CO": {0: 2}, "CE": {0: 1, 1: 1}}
    assert keys.true_false == {"CO": {"vrai": 1}}
    assert keys.longest == {"CE": (1, 2, pytest.approx(0.5))}
    # CO-001 names CO-002 as enemy, not CO-003: the pair CO-001/CO-003 is flagged
    assert keys.shared_key_pictures == [("media/pictures/pharmacie.svg", ("CO-001", "CO-003"))]
    text = "\n".join(format_key_checks(keys))
    assert "CE key is the longest choice in 1 of 2 text items (50%; about 50% by chance)" in text
    assert "media/pictures/pharmacie.svg: CO-001, CO-003" in text


def test_the_non_reader_pool_by_level_and_theme_with_its_gaps() -> None:
    items = [item_from_data(d) for d in base_items().values()]
    cov = coverage(items)
    assert all(skill in ("CO", "EO") for skill, _, _ in cov.non_reader_cell)
    assert sum(cov.non_reader_cell.values()) == cov.non_reader["CO"] + cov.non_reader["EO"]
    gaps = {str(s) for s in cov.non_reader_shortfalls}
    assert "CO: non-reader items: 1 < 48 (missing 47)" in gaps
    assert "CO: non-reader, theme vie publique: 0 < 4 (missing 4)" in gaps
    assert "CO: non-reader, level A2: 0 < 8 (missing 8)" in gaps
    assert not any("level B1" in g for g in gaps)  # non-lecteurs are placed below B1
    text = format_coverage(cov)
    assert "non-reader pool (the path of a non-lecteur: items that need no reading):" in text
    assert "gaps of the non-reader pool" in text
    data = cov.to_data()
    assert data["non_reader_by_skill_level_theme"]["CO"]["A2"]["vie publique"] == 0
    assert "CO: non-reader, level A2: 0 < 8 (missing 8)" in data["missing_for_non_readers"]
