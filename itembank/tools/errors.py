"""Errors of the bank's media tools.

Exception tree::

    ToolError                 base of every error raised by ``itembank.tools``
    ├── ToolMissing           espeak-ng or ffmpeg is not installed
    ├── SynthesisFailed       espeak-ng or ffmpeg failed on one text (stderr attached)
    └── ConflictingAudio      two items name the same audio file with different texts
"""

from __future__ import annotations


class ToolError(Exception):
    """Base of every error raised by ``itembank.tools``."""


class ToolMissing(ToolError):
    """A required program (espeak-ng, ffmpeg) is not on the PATH."""

    def __init__(self, program: str) -> None:
        super().__init__(f"{program} is not installed or not on the PATH")
        self.program = program


class SynthesisFailed(ToolError):
    """espeak-ng or ffmpeg exited with an error while making one audio file."""

    def __init__(self, target: str, command: str, stderr: str) -> None:
        super().__init__(f"{target}: {command} failed: {stderr.strip()[-500:]}")
        self.target = target
        self.command = command
        self.stderr = stderr


class ConflictingAudio(ToolError):
    """Two items name the same audio path for different texts (or one text twice differently)."""

    def __init__(self, target: str, first: str, second: str) -> None:
        super().__init__(
            f"{target} is named by {first} and {second} with different texts; "
            "give each text its own file"
        )
        self.target = target
        self.first = first
        self.second = second
