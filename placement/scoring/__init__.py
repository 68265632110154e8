"""Scoring of answers: choices, typed text, forms and transcripts, with the item's rubric.

Public API (see ``placement/scoring/README.md``):

- :func:`score_answer` for stored typed answers (``{"choice": id}``, ``{"text": str}``,
  ``{"fields": {...}}``), :func:`score_transcript` for speech, both returning
  :class:`ScoreResult`;
- :func:`phrase_hypotheses` (the phrases to score against the audio for a transcript) and
  :func:`score_recording` (the whole chain for one recording: transcribe, score phrases, score);
- :func:`check_model_answers` (rubric problems, for bank authors and tests);
- :func:`prepare` (load the French language model and parse the rubrics' variants once, at
  start-up; otherwise the first typed answer of a process waits for the model).
"""

from placement.scoring.errors import BadAnswer, NotScorable, ScoringError
from placement.scoring.rubric import prepare
from placement.scoring.scorer import (
    AUTO_MIN_CONFIDENCE,
    ScoreResult,
    check_model_answers,
    element_hypotheses,
    heard_as_foreign,
    heard_as_french,
    phrase_hypotheses,
    score_answer,
    score_text,
    score_transcript,
)
from placement.scoring.speech import SpeechScore, score_recording

__all__ = [
    "AUTO_MIN_CONFIDENCE",
    "BadAnswer",
    "NotScorable",
    "ScoreResult",
    "ScoringError",
    "SpeechScore",
    "check_model_answers",
    "element_hypotheses",
    "heard_as_foreign",
    "heard_as_french",
    "phrase_hypotheses",
    "prepare",
    "score_answer",
    "score_recording",
    "score_text",
    "score_transcript",
]
