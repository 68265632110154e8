"""Speech recognition benchmark: latency, real-time factor, WER, hallucinations, memory.

    python benchmarks/asr.py [--set DIR] [--every K] [--peer-every 3] [--limit N]

Makes the French test set with ``benchmarks/speech_set.py`` (or reuses ``--set``), then
transcribes every clip with ``audio.transcribe`` (one encoder pass per answer, the voice filter,
loop guards) and, on every ``--peer-every``-th clip, with the named peer: faster-whisper's stock
``WhisperModel.transcribe`` (same model, VAD on, beam 5, word timestamps, its default
temperature fallback). Prints per-answer latency p50/p95, real-time factor, word error rate
clean and noisy (by voice and speed too), the hallucination rate, the model load time and the
peak resident memory.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speech_set import load_set, make_set

from audio.errors import AudioRejected
from audio.intake import check_recording
from audio.transcribe import get_transcriber, loop_reasons
from placement.scoring.text import normalise


def wer(reference: str, hypothesis: str) -> tuple[int, int]:
    """Word edits and reference length, on the scorer's normalised words."""
    ref, hyp = list(normalise(reference)), list(normalise(hypothesis))
    return Levenshtein.distance(ref, hyp), len(ref)


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=None, help="a set made by speech_set.py")
    parser.add_argument("--peer-every", type=int, default=3, help="0: no peer")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--every", type=int, default=1, help="take every k-th clip of the set")
    args = parser.parse_args()

    folder = args.set or Path(tempfile.mkdtemp(prefix="speech-set-"))
    clips = load_set(folder) if (folder / "manifest.json").exists() else make_set(folder)
    clips = clips[:: args.every][: args.limit]

    rss_before = peak_rss_mib()
    transcriber = get_transcriber()
    print(f"model: {transcriber.model_dir} ({transcriber.model_version})")
    print(
        f"model load time: {transcriber.load_time_s:.2f} s; "
        f"peak RSS after load: {peak_rss_mib():.0f} MiB (before: {rss_before:.0f} MiB)"
    )

    load_start = os.getloadavg()[0]
    refused: list[str] = []
    rows: list[dict[str, Any]] = []
    peer_rows: list[dict[str, Any]] = []
    for index, clip in enumerate(tqdm(clips, desc="transcribing", unit="clip")):
        data = (folder / clip.file).read_bytes()
        started = time.perf_counter()
        try:
            recording = check_recording(data)
        except AudioRejected as exc:
            refused.append(f"{clip.file}: {exc.code}")
            continue
        intake_s = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), time.process_time()
        transcript = transcriber.transcribe(recording)
        latency = time.perf_counter() - started
        cpu_s = time.process_time() - cpu_started
        edits, n = wer(clip.text, transcript.text)
        rows.append(
            {
                "clip": clip,
                "intake_s": intake_s,
                "latency_s": latency,
                "cpu_s": cpu_s,
                "duration_s": recording.duration_s,
                "edits": edits,
                "n": n,
                "hallucinated": "loop" in transcript.flags,
                "flags": transcript.flags,
                "confidence": transcript.confidence,
                "text": transcript.text,
            }
        )
        if args.peer_every and index % args.peer_every == 0:
            started = time.perf_counter()
            segments, _ = transcriber._model.transcribe(  # the peer: stock faster-whisper
                recording.samples,
                language="fr",
                beam_size=5,
                vad_filter=True,
                word_timestamps=True,
            )
            segments = list(segments)
            peer_latency = time.perf_counter() - started
            text = " ".join(s.text.strip() for s in segments)
            edits, n = wer(clip.text, text)
            n_tokens = sum(len(s.tokens) for s in segments)
            peer_rows.append(
                {
                    "clip": clip,
                    "latency_s": peer_latency,
                    "duration_s": recording.duration_s,
                    "edits": edits,
                    "n": n,
                    "hallucinated": bool(loop_reasons(text, n_tokens, recording.duration_s)),
                    "ours_latency_s": latency,
                    "ours_edits": rows[-1]["edits"],
                }
            )

    def summary(name: str, subset: list[dict[str, Any]]) -> str:
        lat = [r["latency_s"] for r in subset]
        rtf = [r["latency_s"] / r["duration_s"] for r in subset]
        w = sum(r["edits"] for r in subset) / max(1, sum(r["n"] for r in subset))
        hall = np.mean([r["hallucinated"] for r in subset]) if subset else float("nan")
        return (
            f"{name:<34} n={len(subset):>3}  latency p50 {pct(lat, 50):5.2f} s  "
            f"p95 {pct(lat, 95):5.2f} s  RTF {np.mean(rtf):4.2f}  WER {w:6.1%}  "
            f"loops {hall:5.1%}"
        )

    print()
    print("== audio.transcribe (one encoder pass, loop guards)")
    print(summary("all", rows))
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        c = r["clip"]
        groups[f"noise={c.noise}"].append(r)
        groups[f"voice={c.voice}"].append(r)
        groups[f"speed={c.speed} wpm"].append(r)
    for key in sorted(groups):
        print(summary(key, groups[key]))
    durations = [r["duration_s"] for r in rows]
    cpu = [r["cpu_s"] for r in rows]
    print(
        f"CPU time per answer (all threads): p50 {pct(cpu, 50):.2f} s, p95 {pct(cpu, 95):.2f} s "
        f"(one answer computing alone on idle cores takes at most this wall time)"
    )
    print(
        f"load average during the run: {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end "
        f"({os.cpu_count()} CPUs; other work on the machine inflates the wall latencies)"
    )
    print(
        f"answers last {min(durations):.1f}–{max(durations):.1f} s "
        f"(mean {np.mean(durations):.1f} s); intake (decode + checks) "
        f"p50 {pct([r['intake_s'] for r in rows], 50):.2f} s"
    )
    flagged: defaultdict[str, int] = defaultdict(int)
    for r in rows:
        for f in r["flags"]:
            if ":" not in f:
                flagged[f] += 1
    print(
        "transcript flags: " + ", ".join(f"{k} {v}/{len(rows)}" for k, v in sorted(flagged.items()))
    )
    if peer_rows:
        print()
        print("== peer: faster-whisper WhisperModel.transcribe (stock settings), same clips")
        print(summary("peer", peer_rows))
        ours = [
            {
                "latency_s": r["ours_latency_s"],
                "duration_s": r["duration_s"],
                "edits": r["ours_edits"],
                "n": r["n"],
                "hallucinated": False,
            }
            for r in peer_rows
        ]
        print(summary("audio.transcribe on the same clips", ours).replace("loops   0.0%", ""))
    print(f"refused by the intake checks: {len(refused)} {refused[:5]}")
    print(f"\npeak RSS: {peak_rss_mib():.0f} MiB")
    print("examples (reference -> transcript):")
    for r in rows[:: max(1, len(rows) // 6)][:6]:
        print(
            f"  [{r['clip'].voice} {r['clip'].speed} {r['clip'].noise}] {r['clip'].text!r}\n"
            f"      -> {r['text']!r} (confidence {r['confidence']:.2f}, flags {list(r['flags'])})"
        )


if __name__ == "__main__":
    main()
