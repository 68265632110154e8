"""Rubric review (issue 12): each item's model answers and natural paraphrases get their level.

The paraphrases are ``tests/scoring/paraphrases.yaml`` (three or more per EO and EE item, each
worth the item's top score for an examiner); they are read against the item sources of
``itembank/bank``, like the model answers (``test_typed.py``). A new item gets its paraphrases
there when it is written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from itembank.model import Item
from itembank.sources import item_files, item_from_data, load_yaml
from placement.scoring import score_text

BANK = Path(__file__).resolve().parents[2] / "itembank" / "bank"
PARAPHRASES = Path(__file__).with_name("paraphrases.yaml")


def _items() -> dict[str, Item]:
    items = (item_from_data(load_yaml(p.read_text(encoding="utf-8")), p) for p in item_files(BANK))
    return {item.id: item for item in items}


ITEMS = _items()
PARAPHRASED: dict[str, list[str]] = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))


def test_every_paraphrased_item_has_at_least_three_paraphrases() -> None:
    assert len(PARAPHRASED) >= 60
    for item_id, texts in PARAPHRASED.items():
        assert item_id in ITEMS, item_id
        assert ITEMS[item_id].rubric is not None, item_id
        assert len(set(texts)) >= 3, item_id


@pytest.mark.parametrize("item_id", sorted(PARAPHRASED))
def test_paraphrases_get_the_top_level(item_id: str) -> None:
    item = ITEMS[item_id]
    assert item.rubric is not None
    wrong = {
        text: result.score
        for text in PARAPHRASED[item_id]
        if (result := score_text(item, text)).score != item.rubric.max_score
    }
    assert wrong == {}, f"{item_id}: top score {item.rubric.max_score}"
