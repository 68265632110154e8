"""Listen to the bank's listening texts by proxy: transcribe them and compare with the transcript.

A synthetic voice can garble a word that the item's answer depends on. This check transcribes
each CO stem with a Whisper model (the bundled one by default) and prints the word error rate of
each file against its written transcript, worst first, and the mean by voice::

    .venv/bin/python -m itembank.tools.listen [--bank itembank/bank] [--limit N] [--model DIR]

Whisper *base* is a harsh listener for espeak-ng (its errors on a clear human voice are far
lower), so the figures rank items and voices against each other rather than grade them: the
worst items are the ones to listen to by ear.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from rapidfuzz.distance import Levenshtein
from tqdm import tqdm

from itembank.tools.errors import ToolError, ToolMissing
from itembank.tools.synth import VOICES_FILE, dialogue_turns, speech_text

DEFAULT_MODEL = Path(sys.prefix) / "share" / "placement" / "models" / "whisper-base"


@dataclass(frozen=True, slots=True)
class Heard:
    """One listening text: what it says, what the model heard, and the word error rate."""

    item_id: str
    audio: str
    voices: tuple[str, ...]
    expected: str
    heard: str
    word_error_rate: float


def words(text: str) -> list[str]:
    """Lower-case words without accents or punctuation, for comparing transcripts."""
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.findall(r"[a-z0-9]+", folded)


def word_error_rate(expected: str, heard: str) -> float:
    """Levenshtein distance between the word sequences, over the number of expected words."""
    ref = words(expected)
    return Levenshtein.distance(ref, words(heard)) / max(1, len(ref))


def _stems(bank: Path) -> list[tuple[str, str, str]]:
    stems = []
    for path in sorted((bank / "CO").glob("*.yaml")):
        item = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        stem = item.get("stem") or {}
        if stem.get("audio") and stem.get("transcript"):
            turns = dialogue_turns(stem["transcript"])
            text = " ".join(t for _, t in turns) if turns else stem["transcript"]
            stems.append((str(item.get("id")), stem["audio"], speech_text(text)))
    return stems


def listen(bank: Path, model_dir: Path, limit: int | None = None) -> list[Heard]:
    """Transcribe the CO stems of ``bank`` (the first ``limit`` of them) with Whisper."""
    try:
        from faster_whisper import WhisperModel
    except ImportError as error:
        raise ToolMissing("faster-whisper") from error
    if not (model_dir / "model.bin").exists():
        raise ToolError(f"no Whisper model in {model_dir}")
    record = yaml.safe_load((bank / VOICES_FILE).read_text(encoding="utf-8")) or {}
    files = record.get("files") or {}
    model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=2)
    results = []
    for item_id, audio, expected in tqdm(_stems(bank)[:limit], unit="stem", desc="listening"):
        segments, _ = model.transcribe(
            str(bank / audio), language="fr", beam_size=1, vad_filter=False
        )
        heard = " ".join(segment.text.strip() for segment in segments)
        voices = tuple(
            dict.fromkeys(s["voice"] for s in (files.get(audio) or {}).get("segments", []))
        )
        results.append(
            Heard(item_id, audio, voices, expected, heard, word_error_rate(expected, heard))
        )
    return results


def report(results: Sequence[Heard], worst: int = 10) -> str:
    """The mean word error rate, the mean by voice, and the worst items."""
    if not results:
        return "no listening text found\n"
    mean = sum(r.word_error_rate for r in results) / len(results)
    lines = [
        f"{len(results)} listening texts, mean word error rate {mean:.2f}",
        "by voice (texts, mean word error rate):",
    ]
    by_voice: dict[str, list[float]] = defaultdict(list)
    for result in results:
        for voice in result.voices:
            by_voice[voice].append(result.word_error_rate)
    lines.extend(
        f"  {voice:14s} {len(rates):3d}  {sum(rates) / len(rates):.2f}"
        for voice, rates in sorted(by_voice.items(), key=lambda kv: sum(kv[1]) / len(kv[1]))
    )
    lines.append(f"worst {min(worst, len(results))}:")
    lines.extend(
        f"  {r.item_id} {r.word_error_rate:.2f}  heard: {r.heard}"
        for r in sorted(results, key=lambda r: -r.word_error_rate)[:worst]
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m itembank.tools.listen [--bank PATH] [--limit N]``."""
    parser = argparse.ArgumentParser(prog="python -m itembank.tools.listen", description=__doc__)
    parser.add_argument("--bank", type=Path, default=Path(__file__).parents[1] / "bank")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--limit", type=int, default=None, help="listen to the first N only")
    args = parser.parse_args(argv)
    try:
        results = listen(args.bank, args.model, args.limit)
    except ToolError as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    sys.stdout.write(report(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
