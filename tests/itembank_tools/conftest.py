"""Fixtures for the bank's media tools: a tiny bank of real item sources in a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml


def _item(item_id: str, **fields: Any) -> dict[str, Any]:
    skill = item_id[:2]
    return {
        "id": item_id,
        "skill": skill,
        "type": "listen_choose_sentence" if skill == "CO" else "read_choose",
        "theme": "vie pratique",
        "target_level": "A1",
        "status": "operational",
        "instruction": {
            "text": "Écoutez. Touchez la bonne réponse.",
            "audio": "media/instructions/ecoutez-touchez-la-bonne-reponse.ogg",
        },
        **fields,
    }


@pytest.fixture
def write_item(tmp_path: Path) -> Callable[..., Path]:
    """Write one item source into the temporary bank; return the bank root."""

    def write(item_id: str, **fields: Any) -> Path:
        path = tmp_path / item_id[:2] / f"{item_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(_item(item_id, **fields), allow_unicode=True))
        return tmp_path

    return write


@pytest.fixture
def dialogue_bank(write_item: Callable[..., Path]) -> Path:
    """Two CO items sharing their instruction: a dialogue with spoken choices, a monologue."""
    write_item(
        "CO-001",
        stem={
            "audio": "CO/CO-001.ogg",
            "transcript": "A: Bonjour, le bus 38 passe à quelle heure ?\nB: À 8 h 30, madame.",
        },
        choices=[
            {"id": "a", "text": "À 8 h 30.", "audio": "media/choices/CO-001-a.ogg"},
            {"id": "b", "text": "À 9 h 15.", "audio": "media/choices/CO-001-b.ogg"},
        ],
        key="a",
    )
    return write_item(
        "CO-002",
        stem={"audio": "CO/CO-002.ogg", "transcript": "Je vais à la pharmacie."},
        choices=[{"id": "a", "text": "La pharmacie."}, {"id": "b", "text": "La gare."}],
        key="a",
    )
