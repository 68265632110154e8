"""Audio intake: sniff, decode and check an uploaded recording before it is stored as an answer.

:func:`check_recording` takes the raw bytes the tablet uploaded (MediaRecorder WebM/Opus from
Chromium and Firefox, MP4/AAC from Safari, Ogg, WAV, MP3, FLAC), decides the container from the
bytes themselves (never from a file name or a declared type), decodes them with ffmpeg (located
through pydub) to 16 kHz mono float32 and refuses anything that cannot be an answer with
:class:`audio.errors.AudioRejected`: its ``code`` is stable for programs and its ``message`` is
French, for the tablet to say to the candidate, who can then record again.

Raises :class:`audio.errors.AudioRejected` with one of the codes of :data:`MESSAGES`.
"""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from audio.errors import AudioRejected

SAMPLE_RATE = 16_000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_DURATION_S = 120.0
DEFAULT_MIN_DURATION_S = 1.0

#: Below this RMS level (dBFS) a recording is silence whatever the VAD says.
SILENCE_RMS_DBFS = -55.0
#: A recording with less detected speech than this is silence or noise, not an answer.
MIN_SPEECH_S = 0.3
#: Above this RMS level (dBFS) a recording without speech is noise rather than silence.
NOISE_RMS_DBFS = -35.0
#: A sample at or above this magnitude is clipped.
CLIP_LEVEL = 0.999
#: Share of clipped samples above which the recording is refused, and above which it is warned.
CLIP_REFUSE_RATIO = 0.02
CLIP_WARN_RATIO = 0.001

#: French messages for the candidate, by refusal code.
MESSAGES: dict[str, str] = {
    "empty": "Nous n'avons rien reçu. Appuyez sur le micro et parlez, puis appuyez de nouveau.",
    "too_large": "L'enregistrement est trop long. Parlez moins longtemps, puis envoyez de nouveau.",
    "not_audio": "Ce fichier n'est pas un enregistrement. Appuyez sur le micro pour parler.",
    "corrupt": "L'enregistrement est abîmé. Appuyez sur le micro et parlez de nouveau.",
    "too_short": "L'enregistrement est trop court. Appuyez sur le micro et parlez un peu plus.",
    "too_long": "L'enregistrement est trop long. Parlez moins longtemps, puis envoyez de nouveau.",
    "silence": (
        "Nous n'avons rien entendu. Appuyez sur le micro et parlez plus près de la tablette."
    ),
    "clipped": "Le son est trop fort. Parlez un peu moins fort ou éloignez un peu la tablette.",
    "noise": (
        "Il y a trop de bruit, nous n'entendons pas votre voix. "
        "Allez dans un endroit calme et parlez près de la tablette."
    ),
}

MIME_TYPES: dict[str, str] = {
    "webm": "audio/webm",
    "matroska": "audio/x-matroska",
    "ogg": "audio/ogg",
    "mp4": "audio/mp4",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "aac": "audio/aac",
}

#: The ffmpeg demuxer of each container: the sniffed container is imposed, never guessed again.
DEMUXERS: dict[str, str] = {
    "webm": "matroska",
    "matroska": "matroska",
    "ogg": "ogg",
    "mp4": "mov",
    "wav": "wav",
    "mp3": "mp3",
    "flac": "flac",
    "aac": "aac",
}

FloatArray = npt.NDArray[np.float32]


def served_mime_type(container: str) -> str:
    """The only Content-Type a stored recording of ``container`` is ever served with.

    The type comes from the container that :func:`sniff_container` found in the bytes, never
    from what the uploader declared; anything else is served as opaque bytes.
    """
    return MIME_TYPES.get(container, "application/octet-stream")


@dataclass(frozen=True, slots=True)
class Recording:
    """An accepted recording: the decoded signal and what was measured on it."""

    samples: FloatArray = field(repr=False, compare=False)  # (n,) float32, 16 kHz mono, [-1, 1]
    sample_rate: int
    duration_s: float
    sha256: str  # of the original bytes, as uploaded
    container: str
    mime_type: str
    rms_dbfs: float
    peak_dbfs: float
    speech_ratio: float  # share of the duration the VAD finds speech in
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """The measurements (not the samples), JSON-serialisable."""
        return {
            "sample_rate": self.sample_rate,
            "duration_s": round(self.duration_s, 3),
            "sha256": self.sha256,
            "container": self.container,
            "mime_type": self.mime_type,
            "rms_dbfs": round(self.rms_dbfs, 2),
            "peak_dbfs": round(self.peak_dbfs, 2),
            "speech_ratio": round(self.speech_ratio, 3),
            "warnings": list(self.warnings),
        }


def reject(code: str, detail: str = "") -> AudioRejected:
    """The refusal for ``code``, with its French message."""
    return AudioRejected(code, MESSAGES[code], detail)


def sniff_container(data: bytes) -> str | None:
    """The container of ``data`` from its first bytes, or None when it is not a known audio file."""
    head = data[:64]
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        # EBML: WebM declares its DocType "webm" in the header; anything else is Matroska
        return "webm" if b"webm" in data[:4096] else "matroska"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"ID3"):
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] & 0xF6 == 0xF0:  # ADTS sync word with layer 0: raw AAC
            return "aac"
        if head[1] & 0xE0 == 0xE0:  # MPEG audio frame sync
            return "mp3"
    return None


@lru_cache(maxsize=1)
def ogg_truncation(data: bytes) -> str | None:
    """Why an Ogg file is cut short (None when whole): every page must be complete and the last
    one must end its stream (the EOS flag every recorder, browsers included, writes at stop).

    ffmpeg decodes a truncated Ogg without an error, as if the answer were shorter.
    """
    offset, last_flags = 0, 0
    while offset < len(data):
        if data[offset : offset + 4] != b"OggS":
            return f"no Ogg page at byte {offset}"
        header_end = offset + 27
        if header_end > len(data):
            return f"page header cut at byte {offset}"
        last_flags = data[offset + 5]
        n_segments = data[offset + 26]
        table_end = header_end + n_segments
        if table_end > len(data):
            return f"segment table cut at byte {offset}"
        page_end = table_end + sum(data[header_end:table_end])
        if page_end > len(data):
            return f"page at byte {offset} cut ({len(data) - table_end} of {page_end - table_end})"
        offset = page_end
    if not last_flags & 0x04:
        return "the last page does not end the stream (no EOS flag)"
    return None


#: A WAV chunk size at or above this is a placeholder a streaming recorder left (0xFFFFFFFF...).
WAV_PLACEHOLDER_SIZE = 0x7FFF0000


def wav_truncation(data: bytes) -> str | None:
    """Why a WAV file is cut short (None when whole, or when it cannot tell): its 'data' chunk
    declares more bytes than the file holds.

    ffmpeg decodes a truncated WAV without an error, as if the answer were shorter. Recorders
    that stream a WAV leave 0 or 0xFFFFFFFF where the size will go: those are not checked.
    """
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = (
            data[offset : offset + 4],
            int.from_bytes(data[offset + 4 : offset + 8], "little"),
        )
        if chunk == b"data":
            held = len(data) - offset - 8
            if 0 < size < WAV_PLACEHOLDER_SIZE and held < size:
                return f"the data chunk holds {held} of its {size} bytes"
            return None
        offset += 8 + size + (size & 1)  # chunks are padded to an even size
    return None


#: The containers whose truncation ffmpeg does not report, and how to tell it from the bytes.
TRUNCATION_CHECKS: dict[str, Callable[[bytes], str | None]] = {
    "ogg": ogg_truncation,
    "wav": wav_truncation,
}


def _ffmpeg() -> str:
    from pydub.utils import get_encoder_name

    return str(get_encoder_name())


def decode(data: bytes, limit_s: float, container: str | None = None) -> FloatArray:
    """Decode ``data`` with ffmpeg to 16 kHz mono float32, reading at most ``limit_s`` seconds.

    The bytes go to ffmpeg as a temporary file, not a pipe: an MP4 whose index ('moov') follows
    the audio, as Android's MediaRecorder and most apps write it, can only be decoded by going
    back to the audio, which a pipe cannot do. ``container`` (from :func:`sniff_container`)
    imposes the demuxer, and only local files may be opened.

    Raises AudioRejected("corrupt") when ffmpeg fails or reports any error (truncated files
    decode partly with exit status 0, so its error output is what tells).
    """
    demuxer = ("-f", DEMUXERS[container]) if container in DEMUXERS else ()
    with tempfile.NamedTemporaryFile(prefix="upload-", suffix=".bin") as upload:
        upload.write(data)
        upload.flush()
        command = [
            _ffmpeg(),
            *("-nostdin", "-hide_banner", "-v", "error", "-protocol_whitelist", "file"),
            *(*demuxer, "-i", f"file:{upload.name}"),
            *("-t", f"{limit_s:.3f}", "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE)),
            *("-f", "f32le", "pipe:1"),
        ]
        try:
            # the command is fixed; the untrusted bytes are only the content of the file
            done = subprocess.run(  # noqa: S603
                command, capture_output=True, timeout=120, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise reject("corrupt", "ffmpeg took too long to decode") from exc
    errors = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0 or errors:
        raise reject("corrupt", f"ffmpeg: {errors or done.returncode}")
    samples = np.frombuffer(done.stdout, dtype=np.float32)
    if samples.size == 0:
        raise reject("corrupt", "no audio stream decoded")
    return np.clip(samples, -1.0, 1.0).astype(np.float32)


def without_dc(samples: FloatArray) -> FloatArray:
    """``samples`` less their mean: the constant (DC) offset some microphones add."""
    offset = float(np.mean(samples, dtype=np.float64))
    return np.clip(samples - offset, -1.0, 1.0).astype(np.float32)


def _dbfs(value: float) -> float:
    return float(20.0 * np.log10(max(value, 1e-10)))


def speech_seconds(samples: FloatArray) -> float:
    """Seconds of speech the Silero VAD (bundled with faster-whisper) finds in ``samples``."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunks = get_speech_timestamps(
        samples, VadOptions(min_silence_duration_ms=300, speech_pad_ms=100), SAMPLE_RATE
    )
    return sum(c["end"] - c["start"] for c in chunks) / SAMPLE_RATE


def check_recording(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_duration_s: float = DEFAULT_MAX_DURATION_S,
    min_duration_s: float = DEFAULT_MIN_DURATION_S,
) -> Recording:
    """Sniff, decode and check an uploaded recording; raise AudioRejected when it is no answer.

    The checks, in order: ``empty``, ``too_large``, ``not_audio`` (the bytes are no known audio
    container), ``corrupt`` (ffmpeg fails or reports an error), ``too_long``, ``too_short``,
    ``silence`` (too quiet, or quiet with no speech), ``noise`` (loud but no speech found by the
    VAD), ``clipped`` (more than 2 % of the samples saturated).
    """
    if not data:
        raise reject("empty")
    if len(data) > max_bytes:
        raise reject("too_large", f"{len(data)} bytes > {max_bytes}")
    container = sniff_container(data)
    if container is None:
        raise reject("not_audio", f"unknown header {data[:8]!r}")
    truncation = TRUNCATION_CHECKS.get(container)
    if truncation is not None and (cut := truncation(data)):
        raise reject("corrupt", cut)  # ffmpeg would decode the first half as a shorter answer
    # decode a little more than allowed, so that an over-long file is seen without decoding it all
    samples = decode(data, max_duration_s + 1.0, container)
    duration_s = samples.size / SAMPLE_RATE
    if duration_s > max_duration_s:
        raise reject("too_long", f"more than {max_duration_s:g} s")
    if duration_s < min_duration_s:
        raise reject("too_short", f"{duration_s:.2f} s < {min_duration_s:g} s")

    # saturation is measured on the signal as recorded (it clips at the rails, offset or not);
    # the rest without the constant offset of some microphones, which is no sound: with it a
    # silent recording measured as loud "noise" and the VAD missed quiet speech
    clipped = float(np.mean(np.abs(samples) >= CLIP_LEVEL))
    samples = without_dc(samples)
    rms_dbfs = _dbfs(float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))))
    peak_dbfs = _dbfs(float(np.max(np.abs(samples))))
    if rms_dbfs < SILENCE_RMS_DBFS:
        raise reject("silence", f"rms {rms_dbfs:.1f} dBFS")
    speech_s = speech_seconds(samples)
    if speech_s < MIN_SPEECH_S:
        code = "noise" if rms_dbfs > NOISE_RMS_DBFS else "silence"
        raise reject(code, f"{speech_s:.2f} s of speech, rms {rms_dbfs:.1f} dBFS")
    if clipped > CLIP_REFUSE_RATIO:
        raise reject("clipped", f"{clipped:.1%} of samples clipped")

    warnings = []
    if clipped > CLIP_WARN_RATIO:
        warnings.append("clipped")
    if rms_dbfs < -40.0:
        warnings.append("quiet")
    speech_ratio = min(1.0, speech_s / duration_s)
    if speech_ratio < 0.25:
        warnings.append("little_speech")
    return Recording(
        samples=samples,
        sample_rate=SAMPLE_RATE,
        duration_s=duration_s,
        sha256=hashlib.sha256(data).hexdigest(),
        container=container,
        mime_type=MIME_TYPES[container],
        rms_dbfs=rms_dbfs,
        peak_dbfs=peak_dbfs,
        speech_ratio=speech_ratio,
        warnings=tuple(warnings),
    )
