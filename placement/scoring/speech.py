"""The whole chain for one spoken answer: transcribe, score phrases against the audio, score.

This is what a background job calls (see ``placement.workers``); a failed transcription never
raises here: it becomes a transcript flagged ``failed`` and a score that needs review, so that
the test goes on and the auditeur listens to the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from audio.errors import TranscriptionFailed
from audio.intake import Recording
from audio.transcribe import Transcriber, Transcript, get_transcriber
from itembank.model import Item
from placement.scoring.scorer import ScoreResult, phrase_hypotheses, score_transcript


@dataclass(frozen=True, slots=True)
class SpeechScore:
    """The transcript, the phrase log-likelihoods used, and the score."""

    transcript: Transcript
    result: ScoreResult
    phrase_scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``-inf`` phrase scores become None)."""
        return {
            "transcript": self.transcript.to_dict(),
            "result": self.result.to_dict(),
            "phrase_scores": {
                k: (v if v != float("-inf") else None) for k, v in self.phrase_scores.items()
            },
        }


def score_recording(
    item: Item,
    recording: Recording,
    transcriber: Transcriber | None = None,
    *,
    use_phrases: bool = True,
    analysis: bool = True,
) -> SpeechScore:
    """Transcribe ``recording``, score the rubric's hypotheses on it, and score the answer.

    Raises ModelUnavailable (from :func:`audio.transcribe.get_transcriber`) when there is no
    model at all; a transcription that fails on this recording ends in review instead.
    """
    transcriber = transcriber or get_transcriber()
    try:
        transcript = transcriber.transcribe(recording)
    except TranscriptionFailed:
        transcript = Transcript.failure(
            "model_error",
            duration_s=recording.duration_s,
            model_name=transcriber.model_name,
            model_version=transcriber.model_version,
        )
        result = score_transcript(item, transcript, analysis=analysis)
        return SpeechScore(transcript, result, {})
    phrase_scores: dict[str, float] = {}
    if use_phrases and transcript.text and not transcript.failed:
        try:
            phrase_scores = transcriber.phrase_logprobs(
                recording, phrase_hypotheses(item, transcript)
            )
        except TranscriptionFailed:
            phrase_scores = {}
    result = score_transcript(item, transcript, phrase_scores or None, analysis=analysis)
    return SpeechScore(transcript, result, phrase_scores)
