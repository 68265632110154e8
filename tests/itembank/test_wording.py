"""The item bank's English errors in French, each raised for real (itembank.wording)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from itembank import (
    ItemBankError,
    load_release,
    publish_release,
    write_parameters_csv,
)
from itembank.parameters import ParameterRow, ParameterTable, check_against_items, provisional_row
from itembank.sources import item_from_data
from itembank.wording import french, problem
from tests.itembank.conftest import MakeBank, base_items

CUTS = {s: {"A1.1": -1.0, "A1": -0.4, "A2": 0.3, "B1": 0.9} for s in ("CO", "CE", "EO", "EE")}
RULE = {"discrimination_by_type": {}, "guessing_factor": 0.8, "threshold_step": 0.7}

#: English that must not survive the wording (words of the item bank's messages).
ENGLISH = ("release", "under", "already", "needs", "must", "missing", "edited", "known")


def _french(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ItemBankError) as info:
        call()
    text = french(str(info.value))
    assert not any(f" {word} " in f" {text} " for word in ENGLISH), text
    return text


def test_releases_that_cannot_be_found_are_said_in_french(tmp_path: Path) -> None:
    assert _french(lambda: load_release(root=tmp_path)) == (
        f"aucune version sous {tmp_path} ; construisez-en une avec `itembank build`"
    )
    assert _french(lambda: load_release("2026.1.0", root=tmp_path)) == (
        f"pas de version 2026.1.0 sous {tmp_path} (versions publiées : aucune)"
    )
    assert _french(lambda: load_release("v1", root=tmp_path)) == (
        "numéro de version 'v1' invalide : la forme est AAAA.MM.N (par exemple 2026.11.0)"
    )


def test_publication_refusals_are_said_in_french(make_bank: MakeBank, tmp_path: Path) -> None:
    bank, root = make_bank(), tmp_path / "releases"
    first = publish_release(bank, version="2026.11.0", root=root)
    assert _french(lambda: publish_release(bank, version="2026.11.0", root=root)) == (
        f"la version 2026.11.0 existe déjà sous {root} : une version publiée ne change plus"
    )
    assert _french(lambda: publish_release(bank, version="2026.10.3", root=root)) == (
        "la version 2026.10.3 n'est pas plus récente que la dernière version publiée, 2026.11.0"
    )
    rows = [r for r in first.parameters if r.id != "EO-001"]
    bad = tmp_path / "bad.csv"
    write_parameters_csv(rows, bad)
    assert _french(
        lambda: publish_release(first, version="2026.11.1", parameters_csv=bad, root=root)
    ) == ("pas de paramètres pour EO-001")
    target = first.root / "items" / "CE" / "CE-001.yaml"
    target.chmod(0o644)
    target.write_text(target.read_text() + "\n")
    assert _french(lambda: load_release("2026.11.0", root=root)) == (
        "la version 2026.11.0 ne correspond plus à son manifeste (modifiée après publication) : "
        "items/CE/CE-001.yaml (modifié)"
    )


def test_a_table_that_does_not_suit_the_items_is_said_in_french() -> None:
    items = {i: item_from_data(d) for i, d in base_items().items()}
    rows = [provisional_row(it, CUTS, RULE) for it in items.values()]
    wrong = [
        ParameterRow(r.id, r.skill, r.theme, "2PL", 1.0, 0.0)
        if r.id == "EO-001"
        else replace(r, model="GRM", thresholds=(0.5,))
        if r.id == "CO-001"
        else r
        for r in rows
    ]
    table = ParameterTable((*wrong, ParameterRow("CO-404", "CO", "", "2PL", 1, 0)))
    text = _french(lambda: check_against_items(table, items))
    assert "paramètres d'items inconnus : CO-404" in text
    assert "EO-001 : un item noté par grille demande GRM ou GPCM, pas 2PL" in text
    assert "CO-001 : un item juste/faux demande 2PL ou 3PL, pas GRM" in text
    assert problem("3 thresholds for a maximum score of 2") == (
        "3 seuil(s) pour un score maximal de 2"
    )


def test_french_text_and_unknown_text_pass_unchanged() -> None:
    already = "p.csv, ligne 3 : a=-1 doit être positif ; voir la ligne 2"
    assert french(already) == already
    assert french("something new") == "something new"
