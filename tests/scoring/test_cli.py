"""``placement score`` on the bundled bank's sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from placement.cli import main

BANK = str(Path(__file__).resolve().parents[2] / "itembank" / "bank")


def test_score_a_typed_answer(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["score", "--bank", BANK, "--item", "EO-001", "--text", "Euh, je m'appelle Fatou."])
        == 0
    )
    out = capsys.readouterr().out
    assert "Note : 2/2" in out
    assert "À revoir par l'auditeur : non" in out


def test_score_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "score",
                "--bank",
                BANK,
                "--item",
                "EO-001",
                "--text",
                "I don't speak French at all",
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    # plainly another language: the rubric's level 0 ("pas en français"), no review needed
    assert (result["score"], result["needs_review"]) == (0, False)
    assert "not_french" in result["flags"]
    # mostly another language with some French: the auditeur confirms
    args = ["score", "--bank", BANK, "--item", "EO-001", "--json"]
    assert main([*args, "--text", "Hello, thank you, you know, je suis John"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["needs_review"] is True
    assert "not_french" in result["flags"]


def test_unknown_item_and_refused_audio(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["score", "--bank", BANK, "--item", "EO-999", "--text", "x"]) == 2
    assert "no item EO-999" in capsys.readouterr().err
    empty = tmp_path / "empty.webm"
    empty.write_bytes(b"")
    assert main(["score", "--bank", BANK, "--item", "EO-001", "--audio", str(empty)]) == 1
    assert "refused (empty)" in capsys.readouterr().err
