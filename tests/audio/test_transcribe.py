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
    Transcriber,
    Transcript,
    Word,
    compression_ratio,
    loop_reasons,
    max_repeat,
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


@pytest.mark.slow
def test_a_clip_the_model_hears_well(
    transcriber: Transcriber, clips: Callable[[str], Path]
) -> None:
    # the same pipeline is reliable on espeak-ng English; it flags the language as not French
    transcript = transcriber.transcribe(check_recording(clips("english.wav").read_bytes()))
    words = {w.strip(".,").lower() for w in transcript.text.split()}
    assert {"appointment", "doctor", "tuesday", "morning"} <= words
    assert transcript.confidence > 0.7
    assert "not_french" in transcript.flags
    assert "failed" not in transcript.flags
    assert transcript.model_name == "whisper-base"
    starts = [w.start for w in transcript.words]
    assert starts == sorted(starts)
    assert 0 <= starts[0] < transcript.words[-1].end <= transcript.duration_s + 0.5


@pytest.mark.slow
def test_french_synthetic_speech_is_heard_as_french_but_not_trusted(
    transcriber: Transcriber, clips: Callable[[str], Path]
) -> None:
    recording = check_recording(clips("french.webm").read_bytes())
    transcript = transcriber.transcribe(recording)
    assert transcript.language == "fr"
    assert transcript.language_probability > 0.5
    assert "not_french" not in transcript.flags
    # espeak-ng French defeats the base model: the transcript is flagged, never clean
    assert {"low_confidence", "failed"} & set(transcript.flags)


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
    assert "doctor" in result["text"]
    assert result["words"][0]["probability"] > 0
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
