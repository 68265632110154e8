"""Recordings as real tablets and phones make them, beyond the browsers' usual WebM/Opus:
MP4 files whose index comes last, WAV files cut in transit, microphones with a DC offset."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import numpy as np
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


def _wav(samples: np.ndarray, path: Path) -> bytes:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    path.write_bytes(header + b"data" + struct.pack("<I", len(pcm)) + pcm)
    return path.read_bytes()


def test_silence_from_a_microphone_with_a_dc_offset_is_silence_not_noise(tmp_path: Path) -> None:
    # a constant offset is no sound: the candidate must hear "nous n'avons rien entendu"
    rng = np.random.default_rng(3)
    samples = 0.05 + rng.normal(0, 0.0005, 4 * 16000)
    assert refusal(_wav(samples, tmp_path / "offset.wav")).code == "silence"


def test_speech_with_a_dc_offset_is_measured_without_it(
    clips: Callable[[str], Path], tmp_path: Path
) -> None:
    plain = check_recording(clips("french.wav").read_bytes())
    offset = tmp_path / "offset.wav"
    ffmpeg("-i", str(clips("french.wav")), "-af", "volume=-20dB,dcshift=0.1", str(offset))
    recording = check_recording(offset.read_bytes())
    assert recording.rms_dbfs == pytest.approx(plain.rms_dbfs - 20, abs=1.0)
    assert recording.speech_ratio == pytest.approx(plain.speech_ratio, abs=0.1)
