"""Recordings as real tablets and phones make them, beyond the browsers' usual WebM/Opus:
MP4 files whose index comes last, WAV files cut in transit."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

from audio.errors import AudioRejected
from audio.intake import check_recording
from tests.audio.conftest import ffmpeg


def refusal(data: bytes) -> AudioRejected:
    with pytest.raises(AudioRejected) as info:
        check_recording(data)
    return info.value


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


def _data_chunk(data: bytes) -> int:
    """Offset of the WAV 'data' chunk's size field."""
    return data.index(b"data") + 4


def test_a_wav_cut_in_transit_is_refused_not_taken_for_a_shorter_answer(
    clips: Callable[[str], Path],
) -> None:
    data = clips("french.wav").read_bytes()
    error = refusal(data[: len(data) // 4 * 2])  # whole samples: only the length tells
    assert error.code == "corrupt"
    assert "abîmé" in error.message


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF])
def test_a_wav_written_while_recording_keeps_a_placeholder_size(
    clips: Callable[[str], Path], size: int
) -> None:
    # recorders that stream a WAV leave 0 or 0xFFFFFFFF in the sizes they cannot know yet
    data = bytearray(clips("french.wav").read_bytes())
    at = _data_chunk(bytes(data))
    data[at : at + 4] = struct.pack("<I", size)
    data[4:8] = struct.pack("<I", size)
    assert 4.0 < check_recording(bytes(data)).duration_s < 5.0
