"""Errors of the audio package.

AudioError
├── ModelUnavailable      the speech model is missing or corrupt
├── AudioRejected         an uploaded recording is refused (``code``, French ``message``)
└── TranscriptionFailed   the model could not transcribe a recording that was accepted
"""

from __future__ import annotations


class AudioError(Exception):
    """Base of every error raised by the audio package."""


class ModelUnavailable(AudioError):
    """The speech model is missing or corrupt."""


class AudioRejected(AudioError):
    """A recording is refused; ``code`` is stable, ``message`` is French for the candidate."""

    def __init__(self, code: str, message: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail or message}")
        self.code = code
        self.message = message
        self.detail = detail


class TranscriptionFailed(AudioError):
    """The model could not transcribe an accepted recording (or produced a runaway loop)."""
