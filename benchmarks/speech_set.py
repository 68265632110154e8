"""Make the French spoken test set of the speech benchmarks (espeak-ng, offline).

Each answer is what a candidate might say to one of the bank's oral items (written for this set,
not the bank's model answers), spoken by several espeak-ng voices at two speeds, clean and with
white noise at a given signal-to-noise ratio, and encoded as WebM/Opus as Chromium's
MediaRecorder would upload it.

    python benchmarks/speech_set.py OUT_DIR [--voices fr-fr+m3 fr-fr+f2 fr-be+m1]
                                            [--speeds 125 170] [--snr 10] [--seed 0]

writes ``OUT_DIR/*.webm`` and ``OUT_DIR/manifest.json`` (one entry per clip: file, item, text,
voice, speed, noise). No better French voice was found among Debian and PyPI packages that carry
their voice with them (see ``audio/README.md``), so espeak-ng it is; its French is hard for the
base Whisper model, which is what the benchmarks measure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

SAMPLE_RATE = 16_000
VOICES = ("fr-fr+m3", "fr-fr+f2", "fr-be+m1")
SPEEDS = (125, 170)  # words per minute: a careful and a brisk speaker
SNR_DB = 10.0

#: (item id, what a candidate says): levels from full answers to isolated words and "I don't
#: know"; none is one of the bank's model answers.
ANSWERS: tuple[tuple[str, str], ...] = (
    ("EO-001", "Bonjour, moi je m'appelle Fatima Benali."),
    ("EO-001", "Ibrahim."),
    ("EO-002", "Je viens de Guinée, de Conakry."),
    ("EO-003", "J'ai quarante-deux ans."),
    ("EO-006", "Le bus. Il pleut beaucoup."),
    ("EO-012", "Bonjour madame, je voudrais une baguette, s'il vous plaît."),
    ("EO-015", "Un timbre."),
    ("EO-020", "Pardon, je ne comprends pas. Vous pouvez répéter lentement ?"),
    ("EO-025", "J'habite à Montreuil dans un petit appartement avec ma femme et mes deux enfants."),
    ("EO-040", "Bonjour, je tousse beaucoup, vous avez un sirop ?"),
    (
        "EO-050",
        (
            "Bonjour, j'ai acheté ce téléphone la semaine dernière mais il ne marche pas. "
            "Voilà le ticket, je voudrais un échange."
        ),
    ),
    ("EO-030", "Je ne sais pas."),
)


@dataclass(frozen=True, slots=True)
class Clip:
    """One clip of the set."""

    file: str  # relative to the set's folder
    item_id: str
    text: str
    voice: str
    speed: int
    noise: str  # "clean" or "snr10"


def synthesise(text: str, voice: str, speed: int) -> np.ndarray:
    """espeak-ng speech of ``text`` as 16 kHz mono float32."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True
        )
        done = subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-i",
                str(wav),
                "-ac",
                "1",
                "-ar",
                str(SAMPLE_RATE),
                "-f",
                "f32le",
                "-",
            ],
            check=True,
            capture_output=True,
        )
    return np.frombuffer(done.stdout, dtype=np.float32).copy()


def add_noise(
    speech: np.ndarray, snr_db: float, rng: np.random.Generator, pad_s: float = 0.4
) -> np.ndarray:
    """``speech`` padded with ``pad_s`` of silence each side, plus white noise at ``snr_db``.

    The speech power is measured on its active 20 ms frames (energy above 1 % of the loudest),
    so that pauses do not flatter the ratio.
    """
    pad = np.zeros(int(pad_s * SAMPLE_RATE), dtype=np.float32)
    signal = np.concatenate([pad, speech, pad])
    frames = speech[: len(speech) // 320 * 320].reshape(-1, 320)
    energy = np.mean(frames.astype(np.float64) ** 2, axis=1)
    power = float(np.mean(energy[energy > 0.01 * energy.max()]))
    if not np.isfinite(snr_db):
        return signal
    noise = rng.normal(0.0, np.sqrt(power / 10 ** (snr_db / 10)), size=signal.shape)
    return np.clip(signal + noise, -1.0, 1.0).astype(np.float32)


def encode_webm(samples: np.ndarray, path: Path) -> None:
    """Encode as WebM/Opus, as a browser's MediaRecorder uploads it."""
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-f",
            "f32le",
            "-ar",
            str(SAMPLE_RATE),
            "-ac",
            "1",
            "-i",
            "-",
            "-c:a",
            "libopus",
            "-b:a",
            "32k",
            str(path),
        ],
        input=samples.astype(np.float32).tobytes(),
        check=True,
    )


def make_set(
    out: Path,
    *,
    voices: tuple[str, ...] = VOICES,
    speeds: tuple[int, ...] = SPEEDS,
    snr_db: float = SNR_DB,
    seed: int = 0,
    answers: tuple[tuple[str, str], ...] = ANSWERS,
) -> list[Clip]:
    """Write the set into ``out`` (with its manifest) and return its clips."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    clips: list[Clip] = []
    combos = [(i, a, v, s) for i, a in enumerate(answers) for v in voices for s in speeds]
    for index, (item_id, text), voice, speed in tqdm(combos, desc="speech set", unit="answer"):
        speech = synthesise(text, voice, speed)
        for noise, snr in (("clean", float("inf")), (f"snr{snr_db:g}", snr_db)):
            name = f"{index:02d}-{item_id}-{voice.replace('+', '_')}-{speed}-{noise}.webm"
            encode_webm(add_noise(speech, snr, rng), out / name)
            clips.append(Clip(name, item_id, text, voice, speed, noise))
    (out / "manifest.json").write_text(
        json.dumps([asdict(c) for c in clips], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return clips


def load_set(folder: Path) -> list[Clip]:
    """The clips of a set made by :func:`make_set`."""
    data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [Clip(**c) for c in data]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--voices", nargs="+", default=list(VOICES))
    parser.add_argument("--speeds", nargs="+", type=int, default=list(SPEEDS))
    parser.add_argument("--snr", type=float, default=SNR_DB)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    clips = make_set(
        args.out,
        voices=tuple(args.voices),
        speeds=tuple(args.speeds),
        snr_db=args.snr,
        seed=args.seed,
    )
    print(f"{len(clips)} clips in {args.out}")


if __name__ == "__main__":
    main()
