"""Intake of uploaded recordings: every container browsers produce, every refusal on a real file."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from audio.errors import AudioRejected
from audio.intake import MESSAGES, SAMPLE_RATE, check_recording, sniff_container
from tests.audio.conftest import ffmpeg, speak


def refusal(data: bytes, **limits: float) -> AudioRejected:
    with pytest.raises(AudioRejected) as info:
        check_recording(data, **limits)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize(
    ("name", "container", "mime"),
    [
        ("french.webm", "webm", "audio/webm"),
        ("french.ogg", "ogg", "audio/ogg"),
        ("french.m4a", "mp4", "audio/mp4"),
        ("french.mp3", "mp3", "audio/mpeg"),
        ("french.wav", "wav", "audio/wav"),
    ],
)
def test_accepts_what_browsers_record(
    clips: Callable[[str], Path], name: str, container: str, mime: str
) -> None:
    data = clips(name).read_bytes()
    recording = check_recording(data)
    assert recording.container == container
    assert recording.mime_type == mime
    assert recording.sample_rate == SAMPLE_RATE
    assert recording.samples.dtype == np.float32
    assert recording.samples.ndim == 1
    assert 4.0 < recording.duration_s < 5.0  # the sentence lasts about 4.4 s
    assert recording.sha256 == hashlib.sha256(data).hexdigest()
    assert recording.speech_ratio > 0.7
    assert -30 < recording.rms_dbfs < -15
    assert recording.warnings == ()


def test_the_name_and_declared_type_do_not_count(clips: Callable[[str], Path]) -> None:
    # an Ogg file uploaded as "answer.webm" with type audio/webm is still sniffed as Ogg
    data = clips("french.ogg").read_bytes()
    assert sniff_container(data) == "ogg"
    assert check_recording(data).container == "ogg"


def test_empty_upload() -> None:
    error = refusal(b"")
    assert error.code == "empty"
    assert error.message == MESSAGES["empty"]


def test_png_renamed_webm(tmp_path: Path) -> None:
    png = tmp_path / "photo.png"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=16x16", "-frames:v", "1", str(png))
    renamed = png.rename(tmp_path / "answer.webm")
    assert refusal(renamed.read_bytes()).code == "not_audio"


def test_truncated_webm(clips: Callable[[str], Path]) -> None:
    data = clips("french.webm").read_bytes()
    error = refusal(data[: len(data) // 4])
    assert error.code == "corrupt"
    assert "prematurely" in error.detail or "ffmpeg" in error.detail


def test_garbage_after_a_valid_header() -> None:
    rng = np.random.default_rng(7)
    data = b"OggS" + rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    assert refusal(data).code == "corrupt"


def test_silence(tmp_path: Path) -> None:
    path = tmp_path / "silence.webm"
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "4", "-c:a", "libopus", str(path))
    error = refusal(path.read_bytes())
    assert error.code == "silence"
    assert error.message.startswith("Nous n'avons rien entendu.")


def test_faint_hum_is_silence_not_speech(tmp_path: Path) -> None:
    path = tmp_path / "hum.wav"
    ffmpeg("-f", "lavfi", "-i", "sine=f=50:d=4:r=16000", "-af", "volume=-45dB", str(path))
    assert refusal(path.read_bytes()).code == "silence"


def test_white_noise(tmp_path: Path) -> None:
    path = tmp_path / "noise.webm"
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=4:c=white:a=0.3", "-c:a", "libopus", str(path))
    assert refusal(path.read_bytes()).code == "noise"


def test_hour_long_file_is_refused_without_decoding_it_all(tmp_path: Path) -> None:
    ten = tmp_path / "ten.webm"
    ffmpeg("-f", "lavfi", "-i", "sine=f=220:d=10", "-c:a", "libopus", "-b:a", "8k", str(ten))
    hour = tmp_path / "hour.webm"
    ffmpeg("-stream_loop", "359", "-i", str(ten), "-c", "copy", str(hour))
    assert refusal(hour.read_bytes()).code == "too_long"


def test_too_short(tmp_path: Path) -> None:
    path = speak("Oui.", tmp_path / "oui.wav", speed=300)
    short = tmp_path / "short.wav"
    ffmpeg("-i", str(path), "-t", "0.4", str(short))
    assert refusal(short.read_bytes()).code == "too_short"


def test_too_large(clips: Callable[[str], Path]) -> None:
    assert refusal(clips("french.webm").read_bytes(), max_bytes=1000).code == "too_large"


def test_clipped(clips: Callable[[str], Path], tmp_path: Path) -> None:
    loud = tmp_path / "loud.wav"
    ffmpeg("-i", str(clips("french.wav")), "-af", "volume=30dB", str(loud))
    assert refusal(loud.read_bytes()).code == "clipped"


def test_every_refusal_has_a_french_message_for_the_candidate() -> None:
    for code, message in MESSAGES.items():
        assert message.endswith("."), code
        assert any(w in message for w in ("Appuyez", "Parlez", "parlez", "Allez")), code
