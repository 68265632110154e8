"""Recordings as real tablets and phones make them, beyond the browsers' usual WebM/Opus."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from audio.intake import check_recording
from tests.audio.conftest import ffmpeg


def _looped(source: Path, path: Path, times: int, *codec: str) -> bytes:
    """``source`` played ``times`` times in a row, encoded with ``codec`` into ``path``."""
    ffmpeg("-stream_loop", str(times - 1), "-i", str(source), *codec, str(path))
    return path.read_bytes()


@pytest.mark.parametrize("name", ["answer.m4a", "answer.3gp", "video.mp4"])
def test_mp4_with_its_index_at_the_end(
    clips: Callable[[str], Path], tmp_path: Path, name: str
) -> None:
    # Android's MediaRecorder, iOS apps and ffmpeg write the 'moov' index after the audio; a
    # decoder reading a pipe cannot go back to the audio once it has found the index.
    codec = ("-c:a", "aac") if name != "video.mp4" else ()
    if name == "video.mp4":
        ffmpeg(
            "-f", "lavfi", "-i", "testsrc=s=160x120:d=20", "-stream_loop", "3",
            "-i", str(clips("french.wav")), "-shortest", "-c:v", "mpeg4", "-c:a", "aac",
            str(tmp_path / name),
        )  # fmt: skip
        data = (tmp_path / name).read_bytes()
    else:
        data = _looped(clips("french.wav"), tmp_path / name, 4, *codec)
    assert data.find(b"moov") > data.find(b"mdat") > 0  # the index comes last
    recording = check_recording(data)
    assert recording.container == "mp4"
    assert recording.duration_s > 15
