"""Listening by proxy: word error rates, and the bundled Whisper model hearing a real stem."""

from __future__ import annotations

from pathlib import Path

import pytest

from itembank.tools import listen, synth


def test_word_error_rate_counts_edits_over_expected_words() -> None:
    assert listen.word_error_rate("Je vais à la pharmacie.", "je vais a la pharmacie") == 0.0
    assert listen.word_error_rate("Je vais à la pharmacie", "je vais à la gare") == pytest.approx(
        0.2
    )
    assert listen.word_error_rate("le bus", "") == 1.0
    assert listen.word_error_rate("", "bonjour") == 1.0


def test_report_ranks_voices_and_items() -> None:
    results = [
        listen.Heard("CO-001", "CO/CO-001.ogg", ("fr-fr+f4",), "a b", "a b", 0.0),
        listen.Heard("CO-002", "CO/CO-002.ogg", ("fr-fr+m1",), "a b", "a c", 0.5),
    ]
    text = listen.report(results)
    assert "2 listening texts, mean word error rate 0.25" in text
    assert text.index("fr-fr+f4") < text.index("fr-fr+m1")
    assert text.index("CO-002 0.50") < text.index("CO-001 0.00")


@pytest.mark.slow
def test_the_bundled_model_hears_a_synthesised_stem(dialogue_bank: Path) -> None:
    if not (listen.DEFAULT_MODEL / "model.bin").exists():
        pytest.skip("the bundled Whisper model is not installed (run .ci/setup)")
    synth.run(dialogue_bank)
    results = listen.listen(dialogue_bank, listen.DEFAULT_MODEL)
    assert [r.item_id for r in results] == ["CO-001", "CO-002"]
    for heard in results:
        assert heard.heard.strip()
        assert heard.word_error_rate == listen.word_error_rate(heard.expected, heard.heard)
        assert heard.voices
    # Whisper base is a harsh listener for espeak-ng: it must hear French words of the texts
    # (speech, not silence or noise), not all of them
    expected = {w for heard in results for w in listen.words(heard.expected)}
    heard_words = {w for heard in results for w in listen.words(heard.heard)}
    assert len(expected & heard_words) >= 2
