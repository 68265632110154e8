"""Spoken versions of the tablet's own sentences, made with espeak-ng and kept on disk.

Every instruction the tablet shows is also spoken. The bank's items carry their own recorded
instructions; the tablet's own screens (welcome, consent, checks, refusals of a recording...) are
spoken from their French text by espeak-ng, once per text, then served from a cache folder.
A sentence may come first in the candidate's language (its espeak-ng voice), then in French: one
file holds both, with a short pause between them. Files are MP3 (mono, 32 kbit/s, made from
espeak-ng's WAV with ffmpeg): every tablet browser plays MP3, Safari included, and a sentence in
two languages weighs about 100 kB instead of 1 MB of WAV.

Only registered texts are spoken: :func:`register` is called by the server for the sentences it
shows (at import for the fixed ones), and the URL names a hash of the text, never the text. So
nobody can make the server run espeak-ng on text of their choosing, and every process of a
multi-process server knows the same keys.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
import threading
import wave
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "VOICE",
    "SpeechUnavailable",
    "Utterance",
    "key_for",
    "make_all",
    "register",
    "sound_path",
    "text_for",
]

#: espeak-ng's French voice and a slow speed (words per minute) for people learning French.
VOICE = "fr-fr"
SPEED_WPM = 135
#: The pause between the candidate's language and the French, in seconds.
PAUSE_S = 0.6

#: What one file says: (espeak-ng voice, text) parts, in order.
Utterance = tuple[tuple[str, str], ...]

_texts: dict[str, Utterance] = {}
_lock = threading.Lock()


class SpeechUnavailable(RuntimeError):
    """espeak-ng is not installed or failed: the page still shows the text."""


def _utterance(text: str, before: Sequence[tuple[str, str]] = ()) -> Utterance:
    return (*((voice, said) for voice, said in before if said), (VOICE, text))


def key_for(text: str, before: Sequence[tuple[str, str]] = ()) -> str:
    """The stable key of a sentence (a hash of its parts' voices and texts, and the speed).

    ``before`` holds (voice, text) parts said before the French ``text``: the same sentence in
    the candidate's language. A French-only sentence keeps the key it always had.
    """
    parts = _utterance(text, before)
    if len(parts) == 1:
        return hashlib.sha256(f"{VOICE}|{SPEED_WPM}|{text}".encode()).hexdigest()[:20]
    joined = "\x1f".join(f"{voice}|{said}" for voice, said in parts)
    return hashlib.sha256(f"{SPEED_WPM}|{joined}".encode()).hexdigest()[:20]


def register(text: str, before: Sequence[tuple[str, str]] = ()) -> str:
    """Allow ``text`` (after ``before``'s parts, if any) to be spoken; returns its key."""
    key = key_for(text, before)
    with _lock:
        _texts[key] = _utterance(text, before)
    return key


def text_for(key: str) -> str | None:
    """The registered sentence for ``key`` (its parts joined), or None."""
    parts = _texts.get(key)
    return None if parts is None else "\n".join(said for _voice, said in parts)


#: The files served: their suffix and media type.
SUFFIX = ".mp3"
MIMETYPE = "audio/mpeg"
BITRATE = "32k"


def sound_path(key: str, cache_dir: Path) -> Path:
    """The MP3 file of a registered sentence, made with espeak-ng and ffmpeg on first use.

    Raises ``KeyError`` for an unknown key and :class:`SpeechUnavailable` when espeak-ng or
    ffmpeg is missing or fails.
    """
    parts = _texts[key]
    path = cache_dir / f"{key}{SUFFIX}"
    if path.is_file():
        return path
    espeak, ffmpeg = shutil.which("espeak-ng"), shutil.which("ffmpeg")
    if espeak is None or ffmpeg is None:
        raise SpeechUnavailable("espeak-ng or ffmpeg is not installed")
    cache_dir.mkdir(parents=True, exist_ok=True)
    # write beside, then rename: two requests for the same sentence never see half a file
    with tempfile.TemporaryDirectory(dir=cache_dir) as work:
        pieces = [Path(work) / f"{n}.wav" for n in range(len(parts))]
        for (voice, said), piece in zip(parts, pieces, strict=True):
            _espeak(espeak, voice, said, piece)
        joined = Path(work) / "all.wav"
        if len(pieces) == 1:
            pieces[0].replace(joined)
        else:
            _join(pieces, joined)
        encoded = Path(work) / f"all{SUFFIX}"
        _encode(ffmpeg, joined, encoded)
        encoded.replace(path)
    return path


def _encode(ffmpeg: str, wav: Path, out: Path) -> None:
    try:
        subprocess.run(  # noqa: S603 - fixed program and arguments, files of our own
            [ffmpeg, "-loglevel", "error", "-y", "-i", str(wav), "-ac", "1",
             "-codec:a", "libmp3lame", "-b:a", BITRATE, "-map_metadata", "-1", str(out)],
            check=True,
            capture_output=True,
            timeout=60,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError) as exc:
        raise SpeechUnavailable(f"ffmpeg failed: {exc}") from exc


def _espeak(espeak: str, voice: str, text: str, out: Path) -> None:
    try:
        subprocess.run(  # noqa: S603 - fixed program; the text is one we registered, after "--"
            [espeak, "-v", voice, "-s", str(SPEED_WPM), "-w", str(out), "--", text],
            check=True,
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise SpeechUnavailable(f"espeak-ng failed ({voice}): {exc}") from exc


def _join(pieces: Sequence[Path], out: Path) -> None:
    """One WAV of the pieces in order, with a pause between them (espeak-ng's formats agree)."""
    with wave.open(str(pieces[0]), "rb") as first:
        params = first.getparams()
    silence = b"\0" * int(params.framerate * PAUSE_S) * params.sampwidth * params.nchannels
    with wave.open(str(out), "wb") as joined:
        joined.setnchannels(params.nchannels)
        joined.setsampwidth(params.sampwidth)
        joined.setframerate(params.framerate)
        for n, piece in enumerate(pieces):
            with wave.open(str(piece), "rb") as part:
                same = (part.getnchannels(), part.getsampwidth(), part.getframerate())
                if same != (params.nchannels, params.sampwidth, params.framerate):
                    raise SpeechUnavailable(f"espeak-ng voices disagree on the format: {same}")
                if n:
                    joined.writeframes(silence)
                joined.writeframes(part.readframes(part.getnframes()))


def make_all(cache_dir: Path, keys: Sequence[str] | None = None) -> tuple[int, int]:
    """Make the sound of every registered sentence (or of ``keys``) now; returns (made, kept).

    The build step of the tablet's speech (``placement-web speech``): the files land where the
    app serves them from, so no candidate waits for espeak-ng.
    """
    made = kept = 0
    for key in keys if keys is not None else sorted(_texts):
        if (cache_dir / f"{key}{SUFFIX}").is_file():
            kept += 1
            continue
        sound_path(key, cache_dir)
        made += 1
    return made, kept
