"""Transcription with the real bundled Whisper model, and its guards against runaway output."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audio import cli
from audio.intake import SAMPLE_RATE, check_recording
from audio.transcribe import (
    LOW_CONFIDENCE,
    MAX_TOKENS_PER_S,
    NOT_FRENCH_BELOW,
    TEXT_CONTEXT,
    Transcriber,
    Transcript,
    Word,
    compression_ratio,
    generate_max_length,
    loop_reasons,
    max_repeat,
    token_budget,
    transcript_flags,
)


def test_loop_guards_on_known_hallucinations() -> None:
    loop = "j'ai pas l'effort, j'ai pas l'effort, j'ai pas l'effort, j'ai pas l'effort"
    assert "repeated_ngram" in loop_reasons(loop, n_tokens=30, speech_s=6.0)
    assert "compression_ratio" in loop_reasons(loop * 3, n_tokens=90, speech_s=30.0)
    assert "tokens_per_second" in loop_reasons("a b c d e f g h i j k l m", 40, speech_s=2.0)
    normal = "Bonjour, je voudrais un rendez-vous chez le médecin mardi matin."
    assert loop_reasons(normal, n_tokens=16, speech_s=4.0) == []
    # three "oh" can be speech; four of the same word is a loop
    assert max_repeat(["oh", "oh", "oh", "je"]) == 3
    assert "repeated_ngram" not in loop_reasons("oh oh oh je suis là", 8, 3.0)
    assert "repeated_ngram" in loop_reasons("oui oui oui oui", 8, 3.0)
    # a loop glued by hyphens is still a loop
    assert "repeated_ngram" in loop_reasons("Monsieur Saint-Saint-Saint-Saint-Saint", 20, 4.0)
    assert compression_ratio("") == 0.0


def test_transcript_json_round_trip() -> None:
    transcript = Transcript(
        text="Bonjour",
        language="fr",
        language_probability=0.9,
        duration_s=1.5,
        confidence=0.8,
        words=(Word("Bonjour", 0.1, 0.6, 0.8),),
        flags=("low_confidence",),
        model_name="whisper-base",
        model_version="abc",
        avg_logprob=-0.3,
    )
    assert Transcript.from_dict(json.loads(json.dumps(transcript.to_dict()))) == transcript


def test_flags_say_what_the_decoder_returned() -> None:
    def flags(**overrides: Any) -> list[str]:
        values: dict[str, Any] = {
            "text": "Bonjour, je m'appelle Amina.",
            "n_tokens": 9,
            "speech_s": 2.0,
            "p_french": 0.9,
            "top_language": "fr",
            "confidence": 0.8,
            "truncated": False,
        }
        values.update(overrides)
        return transcript_flags(**values)

    assert flags() == []
    assert flags(text="", n_tokens=0, confidence=0.0) == ["silence"]
    assert flags(truncated=True) == ["truncated"]
    assert flags(p_french=0.05, top_language="pl") == ["not_french", "language:pl"]
    assert flags(confidence=0.3) == ["low_confidence"]
    looped = flags(text="oui oui oui oui oui", n_tokens=5)
    assert looped[:2] == ["loop", "failed"]
    assert "loop:repeated_ngram" in looped
    # a transcript cut by its budget and runaway at once carries both flags
    runaway = flags(text=" ".join(["la"] * 40), n_tokens=40, truncated=True)
    assert {"truncated", "loop", "failed"} <= set(runaway)


def test_the_token_budget_leaves_room_for_any_real_answer() -> None:
    for speech_s in (0.3, 1.0, 4.0, 12.0, 30.0):
        budget = token_budget(speech_s)
        # twice the rate above which output is runaway, within Whisper's text context
        assert budget >= min(2 * MAX_TOKENS_PER_S * speech_s, TEXT_CONTEXT // 2)
        assert budget <= TEXT_CONTEXT // 2
        assert generate_max_length(budget) <= TEXT_CONTEXT
        # CTranslate2 returns at most max_length // 2 text tokens for Whisper
        assert generate_max_length(budget) // 2 == budget


def _assert_consistent(transcript: Transcript) -> None:
    """What the pipeline guarantees for any transcript, whatever the model heard."""
    flags = set(transcript.flags)
    assert transcript.language == "fr"  # French is forced
    assert ("not_french" in flags) == (transcript.language_probability < NOT_FRENCH_BELOW)
    assert ("low_confidence" in flags) == bool(
        transcript.text and transcript.confidence < LOW_CONFIDENCE
    )
    assert ("silence" in flags) == (not transcript.text)
    # no transcript is cut by the budget without saying so
    assert 0 < transcript.n_tokens <= transcript.token_budget
    assert ("truncated" in flags) == (transcript.n_tokens >= transcript.token_budget)
    assert ("failed" in flags) == ("loop" in flags)
    assert transcript.model_name == "whisper-base"
    # word timestamps: in order, inside the recording, probabilities in [0, 1]
    assert transcript.words
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    for word in transcript.words:
        assert 0 <= word.start <= word.end <= transcript.duration_s + 0.5
        assert 0.0 <= word.probability <= 1.0
    mean = sum(w.probability for w in transcript.words) / len(transcript.words)
    assert transcript.confidence == pytest.approx(mean)


@pytest.mark.slow
@pytest.mark.parametrize("clip", ["english.wav", "french.wav", "french.webm"])
def test_every_transcript_carries_the_flags_of_what_was_decoded(
    transcriber: Transcriber, clips: Callable[[str], Path], clip: str
) -> None:
    recording = check_recording(clips(clip).read_bytes())
    transcript = transcriber.transcribe(recording)
    _assert_consistent(transcript)
    assert transcript.duration_s == pytest.approx(recording.duration_s)


@pytest.mark.slow
def test_a_transcript_cut_by_its_token_budget_is_flagged(
    transcriber: Transcriber, clips: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = check_recording(clips("french.wav").read_bytes())
    whole = transcriber.transcribe(recording)
    assert "truncated" not in whole.flags  # the default budget leaves room for the answer
    monkeypatch.setattr(transcriber, "max_tokens", 3)
    cut = transcriber.transcribe(recording)
    assert cut.n_tokens == cut.token_budget == 3
    assert "truncated" in cut.flags
    _assert_consistent(cut)


@pytest.mark.slow
def test_silence_gives_an_empty_flagged_transcript(transcriber: Transcriber) -> None:
    transcript = transcriber.transcribe(np.zeros(3 * SAMPLE_RATE, dtype=np.float32))
    assert transcript.text == ""
    assert transcript.flags == ("silence",)
    assert transcript.confidence == 0.0


@pytest.mark.slow
def test_phrase_logprobs_prefer_what_was_said(
    transcriber: Transcriber, clips: Callable[[str], Path]
) -> None:
    recording = check_recording(clips("french.wav").read_bytes())
    said = "Bonjour, je m'appelle Amina, j'ai trente ans, je viens du Maroc."
    other = "Je cherche du travail dans le bâtiment depuis deux mois."
    scores = transcriber.phrase_logprobs(recording, [said, other, ""])
    assert scores[said] > scores[other] + 5.0  # nats
    assert scores[""] == float("-inf")


@pytest.mark.slow
def test_command_line_prints_json_and_fails_on_refused_files(
    transcriber: Transcriber,
    clips: Callable[[str], Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    empty = tmp_path / "empty.webm"
    empty.write_bytes(b"")
    code = cli.main(["transcribe", str(clips("english.wav")), str(empty)])
    out, err = capsys.readouterr()
    assert code == 1
    (line,) = out.splitlines()
    result = json.loads(line)
    assert result["recording"]["container"] == "wav"
    assert result["language"] == "fr"
    assert result["text"]
    assert result["words"]
    assert result["n_tokens"] <= result["token_budget"]
    assert all(0.0 <= w["probability"] <= 1.0 for w in result["words"])
    assert "empty.webm: refused (empty)" in err


@pytest.mark.slow
def test_transcript_then_phrases_filter_and_hash_the_recording_once(
    transcriber: Transcriber, clips: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Speech scoring transcribes a recording, then scores phrases on it: the voice filter and
    the hash run once for both, and the results are those of an array seen for the first time."""
    recording = check_recording(clips("french.wav").read_bytes())
    calls = {"_speech": 0, "_key": 0}
    for name in calls:
        original = getattr(transcriber, name)

        def counted(samples: np.ndarray, original: Any = original, name: str = name) -> Any:
            calls[name] += 1
            return original(samples)

        monkeypatch.setattr(transcriber, name, counted)
    phrases = ["Bonjour, je m'appelle Amina.", "Je cherche du travail."]
    transcript = transcriber.transcribe(recording)
    scores = transcriber.phrase_logprobs(recording, phrases)
    assert calls == {"_speech": 1, "_key": 1}
    fresh = recording.samples.copy()
    assert transcriber.phrase_logprobs(fresh, phrases) == scores
    assert transcriber.transcribe(fresh) == transcript
    assert calls == {"_speech": 2, "_key": 2}
