"""The non-reader listening items: written from one table, committed as written, well spread."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from itembank.tools import nonreader, pictures

BANK = Path(__file__).parents[2] / "itembank" / "bank"


def test_every_row_is_a_well_formed_item() -> None:
    drawn = set(pictures.pictures())
    assert set(nonreader.LABELS) <= drawn  # every labelled picture is one the helper draws
    for row in nonreader.TABLE:
        assert row.key in row.choices
        assert 3 <= len(row.choices) <= 4
        assert len(set(row.choices)) == len(row.choices)
        assert row.level in {"A1.1", "A1", "A2"}  # pré-A1 to A2: the non-reader path
        assert row.ask in nonreader.ASK
        dialogue = row.ask.startswith("dlg_")
        assert ("A:" in row.text and "B:" in row.text) == dialogue, row.text
        assert set(row.voices) <= {"f", "m"}
        assert len(row.voices) <= (2 if dialogue else 1)


def test_the_table_spreads_over_levels_themes_formats_and_key_places() -> None:
    cells = Counter((row.level, row.theme) for row in nonreader.TABLE)
    assert len(cells) == 9
    assert min(cells.values()) >= 8
    asks = Counter(row.ask.removeprefix("dlg_") for row in nonreader.TABLE)
    # who, where, what, how many, what time, signs heard, and short dialogues
    for kind in ("qui", "ou", "achete", "combien", "heure", "panneau"):
        assert asks[kind] >= 3, kind
    assert sum(row.ask.startswith("dlg_") for row in nonreader.TABLE) >= 20
    made = nonreader.items(BANK)
    places = Counter(data["key"] for data in made.values())
    assert set(places) == {"a", "b", "c", "d"}
    assert max(places.values()) - min(places.values()) <= len(made) // 3


def test_items_with_the_same_right_picture_are_enemies() -> None:
    made = nonreader.items(BANK)
    by_key: dict[str, list[str]] = {}
    for item_id, data in made.items():
        key = next(c["image"] for c in data["choices"] if c["id"] == data["key"])
        by_key.setdefault(key, []).append(item_id)
    for ids in by_key.values():
        for item_id in ids:
            assert set(ids) - {item_id} <= set(made[item_id].get("enemies", ()))


@pytest.mark.parametrize("item_id", sorted(nonreader.items(BANK)))
def test_the_committed_item_is_what_the_table_writes(item_id: str) -> None:
    expected = nonreader.items(BANK)[item_id]
    expected["instruction"]["audio"] = nonreader.instruction_path(expected["instruction"]["text"])
    committed = yaml.safe_load((BANK / "CO" / f"{item_id}.yaml").read_text(encoding="utf-8"))
    assert committed == expected
    assert (BANK / expected["stem"]["audio"]).is_file()
    assert (BANK / expected["instruction"]["audio"]).is_file()


@pytest.mark.parametrize("item_id", sorted(nonreader.speaking_items(BANK)))
def test_the_committed_speaking_item_is_what_the_table_writes(item_id: str) -> None:
    expected = nonreader.speaking_items(BANK)[item_id]
    expected["instruction"]["audio"] = nonreader.instruction_path(expected["instruction"]["text"])
    committed = yaml.safe_load((BANK / "EO" / f"{item_id}.yaml").read_text(encoding="utf-8"))
    assert committed == expected
    # the prompt is a picture and a voice: nothing to read
    assert (BANK / expected["stem"]["image"]).is_file()
    assert (BANK / expected["stem"]["audio"]).is_file()
    assert "text" not in expected["stem"]


def test_the_speaking_items_score_their_model_answers_and_spread_over_the_path() -> None:
    from itembank.sources import item_from_data
    from placement.scoring.scorer import check_model_answers

    made = nonreader.speaking_items(BANK)
    for data in made.values():
        data["instruction"]["audio"] = nonreader.instruction_path(data["instruction"]["text"])
        item = item_from_data(data)
        assert check_model_answers(item) == []
        scores = {a["score"] for a in data["rubric"]["model_answers"]}
        assert scores == set(range(data["rubric"]["max_score"] + 1))  # one answer per level
    cells = Counter((d["target_level"], d["theme"]) for d in made.values())
    assert {lv for lv, _ in cells} == {"A1.1", "A1", "A2"}
    assert {t for _, t in cells} == {"vie pratique", "vie publique", "vie professionnelle"}
