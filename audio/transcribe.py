"""Offline French transcription with Whisper (faster-whisper / CTranslate2, int8 on CPU).

:func:`get_transcriber` loads the model once per process (from :func:`audio.model.model_dir`) and
returns a :class:`Transcriber`. :meth:`Transcriber.transcribe` turns a checked recording into a
:class:`Transcript`: the text, per-word times and probabilities, a confidence and flags
(``silence``, ``loop``, ``not_french``, ``low_confidence``, ``failed``) that tell the scorer when
the transcript must not be trusted. :meth:`Transcriber.phrase_logprobs` scores given French
phrases against the audio by forced decoding (CTranslate2's ``Whisper.align`` returns the
probability of each forced token), which the oral scorer uses beside the free transcript.

Design, for answers of up to 30 s of speech (nearly all of them): the voice-activity filter
(Silero, bundled with faster-whisper) keeps the speech, the 30-second window is encoded **once**,
and that one encoder output serves language identification, beam-search decoding, word alignment
and phrase scoring (the encoder is most of the cost on a CPU). Longer answers go through
faster-whisper's own windowed transcription. Decoding gets a token budget of twice the fastest
plausible speech rate (:func:`token_budget`, at most Whisper's whole text context); a transcript
that reaches its budget is flagged ``truncated`` (it may have lost the end of the answer), and
also ``loop`` when it reads like runaway output. No transcript is ever cut without a flag.

Raises :class:`audio.errors.ModelUnavailable` when the model cannot be loaded and
:class:`audio.errors.TranscriptionFailed` when decoding fails.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from audio import model as bundled
from audio.errors import ModelUnavailable, TranscriptionFailed
from audio.intake import SAMPLE_RATE, FloatArray, Recording

LANGUAGE = "fr"
#: Seconds of speech one encoder window holds.
WINDOW_S = 30.0
#: Beam width of the free transcription.
BEAM_SIZE = 5
#: Below this mean word probability a transcript is ``low_confidence``.
LOW_CONFIDENCE = 0.5
#: Below this probability of French (from the model's language identification), ``not_french``.
NOT_FRENCH_BELOW = 0.2
#: Above this gzip compression ratio the text is repetitive: a hallucinated loop.
MAX_COMPRESSION_RATIO = 2.4
#: More text tokens than this per second of speech is runaway output.
MAX_TOKENS_PER_S = 9.0
#: A word n-gram repeated this many times in a row is a loop.
MAX_REPEATS = 3
#: Less speech than this (seconds, after the voice filter) is silence: nothing is decoded.
MIN_SPEECH_S = 0.2
#: Whisper's text context (tokens). CTranslate2's ``generate`` returns at most
#: ``max_length // 2`` text tokens for a Whisper model (measured: 20 -> 10, 40 -> 20, 448 -> 224),
#: so the whole text budget of one window is ``TEXT_CONTEXT // 2`` tokens.
TEXT_CONTEXT = 448


def token_budget(speech_s: float) -> int:
    """The most text tokens decoded for ``speech_s`` seconds of speech.

    Twice the rate above which output is runaway (:data:`MAX_TOKENS_PER_S`), so that no real
    answer reaches it, and at most Whisper's whole text budget (``TEXT_CONTEXT // 2``).
    """
    return min(int(2 * MAX_TOKENS_PER_S * max(speech_s, 1.0)) + 16, TEXT_CONTEXT // 2)


def generate_max_length(budget: int) -> int:
    """The ``max_length`` to give CTranslate2's Whisper ``generate`` for ``budget`` text tokens."""
    return min(2 * budget, TEXT_CONTEXT)


def transcript_flags(
    *,
    text: str,
    n_tokens: int,
    speech_s: float,
    p_french: float,
    top_language: str,
    confidence: float,
    truncated: bool,
) -> list[str]:
    """The flags of a transcript, from what the decoder returned (a pure function, tested alone).

    ``silence`` when nothing was recognised; ``truncated`` when the token budget cut the text;
    ``loop`` + ``failed`` (+ ``loop:<why>``) for runaway output; ``not_french`` (+
    ``language:<code>``) when the model's probability of French is under
    :data:`NOT_FRENCH_BELOW`; ``low_confidence`` when the mean word probability is under
    :data:`LOW_CONFIDENCE`.
    """
    flags: list[str] = []
    if not text:
        flags.append("silence")
    if truncated:
        flags.append("truncated")
    reasons = loop_reasons(text, n_tokens, speech_s)
    if reasons:
        flags += ["loop", "failed", *(f"loop:{r}" for r in reasons)]
    if p_french < NOT_FRENCH_BELOW:
        flags.append("not_french")
        flags.append(f"language:{top_language}")
    if text and confidence < LOW_CONFIDENCE:
        flags.append("low_confidence")
    return flags


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word: times in seconds from the start of the recording, probability 0..1."""

    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """What the model heard, and how far to trust it. JSON round-trips with to_dict/from_dict."""

    text: str
    language: str
    language_probability: float  # the model's probability that the speech is ``language``
    duration_s: float
    confidence: float  # 0..1, mean word probability (0 when nothing was recognised)
    words: tuple[Word, ...] = ()
    flags: tuple[str, ...] = ()
    model_name: str = ""
    model_version: str = ""
    avg_logprob: float | None = None  # mean log-probability per token of the decoded text
    n_tokens: int = 0  # text tokens decoded
    token_budget: int = 0  # the most text tokens the decoder was allowed (0: not applicable)
    alternatives: tuple[str, ...] = ()  # the beam's next-best texts, best first (n-best)

    @property
    def failed(self) -> bool:
        """True when the transcript must not be scored automatically at all."""
        return "failed" in self.flags

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict."""
        data = asdict(self)
        data["words"] = [asdict(w) for w in self.words]
        data["flags"] = list(self.flags)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Transcript:
        """The transcript that :meth:`to_dict` wrote."""
        values = dict(data)
        values["words"] = tuple(Word(**w) for w in values.get("words", ()))
        values["flags"] = tuple(values.get("flags", ()))
        values["alternatives"] = tuple(values.get("alternatives", ()))
        return cls(**values)

    @classmethod
    def failure(
        cls, reason: str, *, duration_s: float = 0.0, model_name: str = "", model_version: str = ""
    ) -> Transcript:
        """The transcript of a failed transcription: empty, flagged ``failed`` and ``reason``."""
        return cls(
            text="",
            language=LANGUAGE,
            language_probability=0.0,
            duration_s=duration_s,
            confidence=0.0,
            flags=("failed", reason),
            model_name=model_name,
            model_version=model_version,
        )


_WORD_RE = re.compile(r"[\w'’-]+", re.UNICODE)


def compression_ratio(text: str) -> float:
    """Length of ``text`` over the length of its zlib compression (repetitive text compresses)."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0


def max_repeat(words: Sequence[str], max_n: int = 4, *, min_n: int = 1) -> int:
    """The most times any word n-gram (``min_n`` ≤ n ≤ ``max_n``) repeats back to back."""
    best = 1 if words else 0
    for n in range(min_n, max_n + 1):
        for start in range(len(words) - n + 1):
            gram = words[start : start + n]
            count, pos = 1, start + n
            while words[pos : pos + n] == gram:
                count, pos = count + 1, pos + n
            best = max(best, count)
    return best


def loop_reasons(text: str, n_tokens: int, speech_s: float) -> list[str]:
    """Why ``text`` looks like a hallucinated loop or runaway output (empty when it does not)."""
    reasons = []
    if len(text) >= 40 and compression_ratio(text) > MAX_COMPRESSION_RATIO:
        reasons.append("compression_ratio")
    if n_tokens >= 12 and n_tokens / max(speech_s, 0.5) > MAX_TOKENS_PER_S:
        reasons.append("tokens_per_second")
    # hyphens and apostrophes split words here: "Saint-Saint-Saint-Saint" is a loop
    words = [w.lower() for w in re.findall(r"[^\W_]+", text)]
    # three "oh" in a row can be speech; four identical words, or a phrase three times, is a loop
    if max_repeat(words, 1) > MAX_REPEATS or max_repeat(words, 6, min_n=2) >= MAX_REPEATS:
        reasons.append("repeated_ngram")
    return reasons


def merge_pieces(pieces: Sequence[Mapping[str, Any]]) -> list[Word]:
    """Join Whisper's word pieces into spoken words.

    The aligner splits at punctuation and apostrophes (``je`` ``m`` ``'appelle`` ``,``); a piece
    without a leading space continues the previous word. A word's probability is the lowest of
    its pieces' (one badly heard piece makes the word doubtful); pure punctuation is dropped.
    """
    words: list[Word] = []
    for piece in pieces:
        text = str(piece["word"])
        probability = float(piece["probability"])
        if words and not text.startswith(" "):
            last = words[-1]
            joined = last.word + text.strip()
            keep = probability if _WORD_RE.search(text) else last.probability
            words[-1] = Word(joined, last.start, float(piece["end"]), min(last.probability, keep))
        elif text.strip():
            words.append(
                Word(text.strip(), float(piece["start"]), float(piece["end"]), probability)
            )
    return [w for w in words if _WORD_RE.search(w.word)]


@dataclass(frozen=True, slots=True)
class _Prepared:
    """What a recording's samples give before the model: its speech, the map back to the
    recording's times (None without speech) and the content key of the encoder cache."""

    speech: FloatArray
    timemap: Any
    key: str


class Transcriber:
    """A loaded Whisper model; thread-safe (calls are serialised by a lock)."""

    def __init__(
        self, model_dir: Path, *, cpu_threads: int = 0, max_tokens: int | None = None
    ) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer

        if not (model_dir / "model.bin").is_file():
            raise ModelUnavailable(f"no CTranslate2 Whisper model in {model_dir} (run .ci/setup)")
        started = time.perf_counter()
        try:
            self._model = WhisperModel(
                str(model_dir), device="cpu", compute_type="int8", cpu_threads=cpu_threads
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelUnavailable(f"cannot load the model in {model_dir}: {exc}") from exc
        self.load_time_s = time.perf_counter() - started
        self.model_dir = model_dir
        #: a fixed text-token budget instead of :func:`token_budget` (tests of truncation)
        self.max_tokens = max_tokens
        self.model_name = model_dir.name
        self.model_version = _model_version(model_dir)
        self._tokenizer = Tokenizer(
            self._model.hf_tokenizer, multilingual=True, task="transcribe", language=LANGUAGE
        )
        self._lock = threading.Lock()
        self._encoded: OrderedDict[str, tuple[Any, int, Any]] = OrderedDict()
        #: id of a samples array -> (weak reference to it, its speech, time map and key)
        self._prepared: OrderedDict[int, tuple[Any, _Prepared]] = OrderedDict()

    # -- internals -------------------------------------------------------------------------

    def _speech(self, samples: FloatArray) -> tuple[FloatArray, Any]:
        """The speech parts of ``samples`` joined, and the map back to the original times."""
        from faster_whisper.vad import (
            SpeechTimestampsMap,
            VadOptions,
            collect_chunks,
            get_speech_timestamps,
        )

        chunks = get_speech_timestamps(
            samples, VadOptions(min_silence_duration_ms=500, speech_pad_ms=200), SAMPLE_RATE
        )
        if not chunks:
            return np.zeros(0, dtype=np.float32), None
        pieces, _ = collect_chunks(samples, chunks)
        return (
            np.concatenate(pieces).astype(np.float32),
            SpeechTimestampsMap(chunks, SAMPLE_RATE),
        )

    def _encode(self, key: str, speech: FloatArray) -> tuple[Any, int, Any]:
        """Encoder output of the first window of ``speech``, its frame count and languages."""
        from faster_whisper.audio import pad_or_trim

        cached = self._encoded.get(key)
        if cached is not None:
            self._encoded.move_to_end(key)
            return cached
        features = self._model.feature_extractor(speech)
        num_frames = min(features.shape[-1], self._model.feature_extractor.nb_max_frames)
        encoder_output = self._model.encode(pad_or_trim(features))
        languages = self._model.model.detect_language(encoder_output)[0]
        entry = (encoder_output, num_frames, languages)
        self._encoded[key] = entry
        while len(self._encoded) > 4:
            self._encoded.popitem(last=False)
        return entry

    @staticmethod
    def _key(samples: FloatArray) -> str:
        return hashlib.sha1(samples.tobytes(), usedforsecurity=False).hexdigest()

    def _prepare(self, samples: FloatArray) -> _Prepared:
        """The voice filter's output and the content key of ``samples``, once per array.

        :func:`transcribe` and :func:`phrase_logprobs` are called on the same recording one
        after the other (``placement.scoring.speech``): the last arrays seen are remembered by
        identity (a weak reference, so a freed array's reused id never matches), and the filter
        and the hash run once for both calls. The caller holds the lock.
        """
        entry = self._prepared.get(id(samples))
        if entry is not None and entry[0]() is samples:
            self._prepared.move_to_end(id(samples))
            return entry[1]
        speech, timemap = self._speech(samples)
        prepared = _Prepared(speech, timemap, self._key(samples))
        self._prepared[id(samples)] = (weakref.ref(samples), prepared)
        while len(self._prepared) > 4:
            self._prepared.popitem(last=False)
        return prepared

    def _budget(self, speech_s: float) -> int:
        return self.max_tokens if self.max_tokens is not None else token_budget(speech_s)

    def _decode_window(
        self, encoder_output: Any, num_frames: int, speech_s: float
    ) -> tuple[str, list[int], list[dict[str, Any]], float, list[str]]:
        tok = self._tokenizer
        prompt = [*tok.sot_sequence, tok.no_timestamps]
        result = self._model.model.generate(
            encoder_output,
            [prompt],
            beam_size=BEAM_SIZE,
            max_length=generate_max_length(self._budget(speech_s)),
            return_scores=True,
            num_hypotheses=BEAM_SIZE,
            suppress_blank=True,
            suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < tok.eot]
        alternatives = [
            tok.decode([t for t in ids if t < tok.eot]).strip() for ids in result.sequences_ids[1:]
        ]
        avg_logprob = float(result.scores[0]) * len(tokens) / (len(tokens) + 1) if tokens else 0.0
        words = (
            self._model.find_alignment(tok, [tokens], encoder_output, num_frames)[0]
            if tokens
            else []
        )
        return tok.decode(tokens).strip(), tokens, words, avg_logprob, alternatives

    # -- public ----------------------------------------------------------------------------

    def transcribe(self, recording: Recording | FloatArray) -> Transcript:
        """Transcribe a recording (or 16 kHz mono float32 samples) in French.

        Never raises on what it hears: silence, loops, another language and low confidence come
        back as flags. Raises TranscriptionFailed when the model itself fails.
        """
        samples = recording.samples if isinstance(recording, Recording) else recording
        duration_s = samples.size / SAMPLE_RATE
        try:
            with self._lock:
                prepared = self._prepare(samples)
                speech, timemap = prepared.speech, prepared.timemap
                speech_s = speech.size / SAMPLE_RATE
                if speech_s < MIN_SPEECH_S:
                    return Transcript(
                        text="",
                        language=LANGUAGE,
                        language_probability=0.0,
                        duration_s=duration_s,
                        confidence=0.0,
                        flags=("silence",),
                        model_name=self.model_name,
                        model_version=self.model_version,
                    )
                encoder_output, num_frames, languages = self._encode(prepared.key, speech)
                if speech_s <= WINDOW_S:
                    text, tokens, raw_words, avg_logprob, alternatives = self._decode_window(
                        encoder_output, num_frames, speech_s
                    )
                    n_tokens = len(tokens)
                    words = [
                        Word(
                            word=w.word,
                            start=float(timemap.get_original_time(w.start)),
                            end=float(timemap.get_original_time(w.end, is_end=True)),
                            probability=w.probability,
                        )
                        for w in merge_pieces(raw_words)
                    ]
                    budget = self._budget(speech_s)
                    # the decoder returns no end-of-text token: reaching the budget is a cut
                    truncated = n_tokens >= budget
                else:
                    text, words, n_tokens, avg_logprob, truncated = self._transcribe_long(samples)
                    budget = 0
                    alternatives = []
        except (RuntimeError, ValueError) as exc:
            raise TranscriptionFailed(f"the model failed: {exc}") from exc

        p_french = next((p for t, p in languages if t == f"<|{LANGUAGE}|>"), 0.0)
        confidence = float(np.mean([w.probability for w in words])) if words else 0.0
        flags = transcript_flags(
            text=text,
            n_tokens=n_tokens,
            speech_s=speech_s,
            p_french=p_french,
            top_language=languages[0][0][2:-2],
            confidence=confidence,
            truncated=truncated,
        )
        return Transcript(
            text=text,
            language=LANGUAGE,
            language_probability=float(p_french),
            duration_s=duration_s,
            confidence=confidence,
            words=tuple(words),
            flags=tuple(flags),
            avg_logprob=avg_logprob,
            model_name=self.model_name,
            model_version=self.model_version,
            n_tokens=n_tokens,
            token_budget=budget,
            alternatives=tuple(dict.fromkeys(a for a in alternatives if a and a != text)),
        )

    def _transcribe_long(self, samples: FloatArray) -> tuple[str, list[Word], int, float, bool]:
        segments, _ = self._model.transcribe(
            samples,
            language=LANGUAGE,
            beam_size=BEAM_SIZE,
            vad_filter=True,
            word_timestamps=True,
            condition_on_previous_text=False,
            temperature=0.0,
        )
        texts, words, n_tokens, logprobs = [], [], 0, []
        truncated = False
        # faster-whisper decodes each 30 s window with the whole text budget
        window_budget = (TEXT_CONTEXT // 2) - 4
        for segment in segments:
            truncated = truncated or len(segment.tokens) >= window_budget
            texts.append(segment.text.strip())
            n_tokens += len(segment.tokens)
            logprobs.append(segment.avg_logprob)
            words += [
                Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
                for w in segment.words or ()
                if w.word.strip()
            ]
        mean_logprob = float(np.mean(logprobs)) if logprobs else 0.0
        return " ".join(texts), words, n_tokens, mean_logprob, truncated

    def phrase_logprobs(
        self, recording: Recording | FloatArray, phrases: Sequence[str]
    ) -> dict[str, float]:
        """Log-likelihood (nats) that the model gives each phrase as the whole of what was said.

        Each phrase is forced as the transcript of the (voice-filtered, first 30 s of) audio and
        the probabilities of its tokens come from CTranslate2's ``Whisper.align``:
        :math:`\\sum_t \\log p(y_t \\mid y_{<t}, \\text{audio})` over the phrase's tokens and
        the end-of-text token. Differences between phrases on the same audio are log-likelihood
        ratios: the free transcript is near the maximum, and a variant of it that puts in words
        that were not said scores several nats lower. Empty phrases, or audio without speech,
        score ``-inf``.
        """
        samples = recording.samples if isinstance(recording, Recording) else recording
        unique = list(dict.fromkeys(p.strip() for p in phrases))
        scores = {p: float("-inf") for p in unique}
        tok = self._tokenizer
        batch = [(p, tok.encode(" " + p)) for p in unique if p]
        if not batch:
            return {p: scores[p.strip()] for p in phrases}
        try:
            with self._lock:
                prepared = self._prepare(samples)
                if prepared.speech.size < MIN_SPEECH_S * SAMPLE_RATE:
                    return {p: scores[p.strip()] for p in phrases}
                encoder_output, num_frames, _ = self._encode(prepared.key, prepared.speech)
                start = [*tok.sot_sequence, tok.no_timestamps]
                for phrase, tokens in batch:
                    result = self._model.model.align(
                        encoder_output, start, [[*tokens, tok.eot]], num_frames
                    )[0]
                    probs = np.asarray(result.text_token_probs, dtype=np.float64)
                    scores[phrase] = float(np.sum(np.log(np.maximum(probs, 1e-12))))
        except (RuntimeError, ValueError) as exc:
            raise TranscriptionFailed(f"the model failed to score phrases: {exc}") from exc
        return {p: scores[p.strip()] for p in phrases}


def _model_version(model_dir: Path) -> str:
    """A short identity of the model files (the bundled model's known sha256, else computed)."""
    if model_dir.resolve() == bundled.bundled_model_dir().resolve():
        return bundled.BUNDLED_SHA256["model.bin"][:12]
    return bundled.sha256_file(model_dir / "model.bin")[:12]


_transcribers: dict[Path, Transcriber] = {}
_transcribers_lock = threading.Lock()


def get_transcriber(model_dir: Path | None = None) -> Transcriber:
    """The process's transcriber for ``model_dir`` (default :func:`audio.model.model_dir`).

    Loaded once and cached. Raises ModelUnavailable when the model is missing or unloadable.
    """
    directory = (model_dir or bundled.model_dir()).resolve()
    with _transcribers_lock:
        if directory not in _transcribers:
            _transcribers[directory] = Transcriber(directory)
        return _transcribers[directory]
