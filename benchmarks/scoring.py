"""Agreement of the automatic scorer with examiners, on the hand-scored answer set.

    python benchmarks/scoring.py [--part dev|heldout|all] [--spoken N] [--voice fr-fr+m3]
                                 [--show-disagreements] [--sweep-vectors]

The answers are ``benchmarks/answers/*.yaml`` (README.md there): 601 answers to 60 EO and EE items,
each with the score an examiner gives by the item's rubric. One answer in three (by a hash of its
item, kind and text) is the **held-out** part, on which no rubric, threshold or rule was tuned;
the rest is the **dev** part. For each part, the new scorer (the item sources of
``itembank/bank``, with the French language analysis) and today's scorer (the items of the
latest published release, literal matching: ``analysis=False``) are run in the same process and
printed side by side:

- exact agreement of the machine's score with the hand score (every answer: a score sent to
  review is still the machine's provisional score), and among the answers scored automatically;
- quadratic weighted kappa (scores pooled, 0..3), the confusion matrix (rows: hand score,
  columns: machine score), mean (machine − hand), the share sent to review;
- typed-answer scoring time after the language model is loaded (p50 / p95 per answer).

``--spoken N`` also synthesises the first N EO answers of the part (espeak-ng, ``--voice``),
transcribes them with the bundled Whisper model and scores the recordings: the new chain
(whole token budget, phrase likelihoods, analysis) against today's (a budget cut as before:
``max_length`` = the old budget, so at most half of it in text tokens; no analysis). Printed:
auto-scored share, exact agreement among the auto-scored, mean (audio − text) and
(audio − hand) among them, truncated transcripts, transcription time p95.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oral_scoring import load_items

from audio.intake import Recording
from audio.transcribe import Transcriber, Transcript
from itembank.model import Item
from placement.scoring import (
    ScoreResult,
    SpeechScore,
    phrase_hypotheses,
    score_text,
    score_transcript,
)

ANSWERS = Path(__file__).resolve().parent / "answers"
#: Today's scorer reads the items of the newest published release (None: the newest).
RELEASE: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """One hand-scored answer."""

    item_id: str
    kind: str
    text: str
    score: int
    reason: str
    file: str

    @property
    def part(self) -> str:
        """``heldout`` for one answer in three (a stable hash), else ``dev``."""
        key = f"{self.item_id}\n{self.kind}\n{self.text}".encode()
        digest = hashlib.sha1(key, usedforsecurity=False).hexdigest()
        return "heldout" if int(digest, 16) % 3 == 0 else "dev"


def release_items() -> dict[str, Item]:
    """The items of the newest published release (the rubrics today's scorer uses)."""
    from itembank import load_release

    return dict(load_release(RELEASE).items)


def load_answers(folder: Path = ANSWERS) -> list[Answer]:
    """Every answer of the set, in file order."""
    answers = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item_id, rows in data.items():
            answers += [
                Answer(item_id, r["kind"], r["text"], int(r["score"]), r["reason"], path.name)
                for r in rows
            ]
    return answers


def quadratic_kappa(hand: Sequence[int], machine: Sequence[int], n: int = 4) -> float:
    """Cohen's kappa with quadratic weights for scores 0..n-1."""
    observed = np.zeros((n, n))
    for h, m in zip(hand, machine, strict=True):
        observed[h, m] += 1
    total = observed.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / total
    i, j = np.indices((n, n))
    weights = (i - j) ** 2 / (n - 1) ** 2
    denominator = float((weights * expected).sum())
    return 1.0 - float((weights * observed).sum()) / denominator if denominator else 1.0


@dataclass(frozen=True, slots=True)
class Figures:
    """What the report prints for one scorer on one part."""

    n: int
    exact: float
    exact_auto: float
    qwk: float
    mean_diff: float
    review: float
    confusion: np.ndarray


def figures(hand: Sequence[int], results: Sequence[ScoreResult]) -> Figures:
    """The agreement figures of ``results`` against the ``hand`` scores."""
    machine = [r.score for r in results]
    auto = [(h, r.score) for h, r in zip(hand, results, strict=True) if not r.needs_review]
    confusion = np.zeros((4, 4), dtype=int)
    for h, m in zip(hand, machine, strict=True):
        confusion[h, m] += 1
    return Figures(
        n=len(hand),
        exact=sum(h == m for h, m in zip(hand, machine, strict=True)) / len(hand),
        exact_auto=sum(h == m for h, m in auto) / len(auto) if auto else float("nan"),
        qwk=quadratic_kappa(hand, machine),
        mean_diff=float(np.mean(np.subtract(machine, hand))),
        review=sum(r.needs_review for r in results) / len(results),
        confusion=confusion,
    )


def print_figures(title: str, new: Figures, old: Figures) -> None:
    print(f"\n== {title} ({new.n} answers)")
    print(f"{'':32}{'new':>10}{'today':>10}")
    rows = [
        ("exact agreement", f"{new.exact:.1%}", f"{old.exact:.1%}"),
        ("exact agreement (auto-scored)", f"{new.exact_auto:.1%}", f"{old.exact_auto:.1%}"),
        ("quadratic weighted kappa", f"{new.qwk:.3f}", f"{old.qwk:.3f}"),
        ("mean machine - hand", f"{new.mean_diff:+.3f}", f"{old.mean_diff:+.3f}"),
        ("sent to review", f"{new.review:.1%}", f"{old.review:.1%}"),
    ]
    for name, a, b in rows:
        print(f"{name:32}{a:>10}{b:>10}")
    for name, fig in (("new", new), ("today", old)):
        print(f"confusion ({name}; rows hand 0-3, columns machine 0-3):")
        for h in range(4):
            print("   " + " ".join(f"{v:4d}" for v in fig.confusion[h]))


def score_all(
    answers: Sequence[Answer], items: dict[str, Item], scorer: Callable[[Item, str], ScoreResult]
) -> list[ScoreResult]:
    return [scorer(items[a.item_id], a.text) for a in answers]


def typed(answers: Sequence[Answer], parts: Sequence[str], show: bool) -> None:
    new_items = load_items(None)
    old_items = release_items()
    from placement.scoring import french, prepare

    started = time.perf_counter()
    french.nlp()
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    parsed = prepare(i.rubric for i in new_items.values() if i.rubric is not None)
    prepare_s = time.perf_counter() - started
    timings = []
    new_results = []
    for a in answers:
        french.analyse.cache_clear()  # time the parse of every answer, not the cache
        french.respell.cache_clear()
        t = time.perf_counter()
        new_results.append(score_text(new_items[a.item_id], a.text))
        timings.append(time.perf_counter() - t)
    old_results = score_all(
        answers, old_items, lambda item, text: score_text(item, text, analysis=False)
    )
    print(
        f"language model load: {load_s:.1f} s; the bank's {parsed} rubric variants parsed in "
        f"{prepare_s:.1f} s (both once per process, at start-up)"
    )
    q = statistics.quantiles(timings, n=20)
    print(
        f"typed scoring per answer (new, parse of the answer included): "
        f"p50 {statistics.median(timings) * 1000:.1f} ms, p95 {q[18] * 1000:.1f} ms"
    )
    for part in parts:
        chosen = [i for i, a in enumerate(answers) if part in ("all", a.part)]
        hand = [answers[i].score for i in chosen]
        print_figures(
            f"typed, {part}",
            figures(hand, [new_results[i] for i in chosen]),
            figures(hand, [old_results[i] for i in chosen]),
        )
        if show and part != "heldout":
            print("\ndisagreements (new scorer):")
            for i in chosen:
                a, r = answers[i], new_results[i]
                if r.score != a.score:
                    print(
                        f"  {a.item_id} {a.kind}: hand {a.score} machine {r.score} "
                        f"review={r.needs_review} found={list(r.found)} | {a.text[:110]!r}"
                    )


def sweep_vectors(answers: Sequence[Answer]) -> None:
    """Agreement on the dev part for several vector thresholds (None: lexicon only)."""
    from placement.scoring import french

    items = load_items(None)
    dev = [a for a in answers if a.part == "dev"]
    hand = [a.score for a in dev]
    for threshold in (None, 0.85, 0.8, 0.75, 0.7, 0.65):
        french.VECTOR_MIN = threshold
        french.analyse.cache_clear()
        fig = figures(hand, score_all(dev, items, score_text))
        print(
            f"vectors {threshold}: exact {fig.exact:.1%} qwk {fig.qwk:.3f} "
            f"mean {fig.mean_diff:+.3f} review {fig.review:.1%}"
        )


@dataclass(frozen=True, slots=True)
class SpokenRow:
    """One clip: the hand score, the text scores and both chains' speech scores."""

    hand: int
    text_new: int
    text_old: int
    new: SpeechScore
    old: SpeechScore
    transcribe_s: float


def _chain(
    item: Item, recording: Recording, transcriber: Transcriber, *, analysis: bool
) -> tuple[SpeechScore, float]:
    """What :func:`placement.scoring.score_recording` does, with the transcription timed.

    ``analysis`` False is today's chain: no truncation flag (today's cut was silent), no n-best.
    """
    started = time.perf_counter()
    transcript = transcriber.transcribe(recording)
    elapsed = time.perf_counter() - started
    if not analysis:
        flags = tuple(f for f in transcript.flags if f != "truncated")
        transcript = dataclasses.replace(transcript, flags=flags, alternatives=())
    phrases = {}
    if transcript.text and not transcript.failed:
        phrases = transcriber.phrase_logprobs(recording, phrase_hypotheses(item, transcript))
    result = score_transcript(item, transcript, phrases or None, analysis=analysis)
    return SpeechScore(transcript, result, phrases), elapsed


def _cut(transcript: Transcript) -> bool:
    """True when the decoder stopped at its budget (flagged or not)."""
    return bool(transcript.token_budget) and transcript.n_tokens >= transcript.token_budget


def spoken(
    answers: Sequence[Answer], part: str, limit: int, voice: str, show: bool = False
) -> None:
    from speech_set import synthesise

    from audio.transcribe import get_transcriber

    transcriber = get_transcriber()
    new_items, old_items = load_items(None), release_items()
    chosen = [
        a for a in answers if a.item_id.startswith("EO") and a.text and part in ("all", a.part)
    ][:limit]
    rows = []
    for a in chosen:
        samples = synthesise(a.text, voice, 140)
        recording = Recording(
            samples=samples,
            sample_rate=16000,
            duration_s=samples.size / 16000,
            sha256="",
            container="wav",
            mime_type="audio/wav",
            rms_dbfs=0.0,
            peak_dbfs=0.0,
            speech_ratio=1.0,
        )
        transcriber.max_tokens = None
        new, elapsed = _chain(new_items[a.item_id], recording, transcriber, analysis=True)
        # today's chain: its budget passed as max_length, so half of it in text tokens
        speech_s = min(recording.duration_s, 30.0)
        transcriber.max_tokens = (4 + int(9.0 * max(speech_s, 1.0)) + 8 + 1) // 2
        old, _ = _chain(old_items[a.item_id], recording, transcriber, analysis=False)
        transcriber.max_tokens = None
        rows.append(
            SpokenRow(
                a.score,
                score_text(new_items[a.item_id], a.text).score,
                score_text(old_items[a.item_id], a.text, analysis=False).score,
                new,
                old,
                elapsed,
            )
        )
    print(f"\n== spoken, {part}: {len(rows)} EO answers, espeak-ng {voice}, clean")
    print(f"{'':36}{'new':>14}{'today':>14}")
    columns = []
    for pick in ("new", "old"):

        def speech(r: SpokenRow, pick: str = pick) -> SpeechScore:
            return r.new if pick == "new" else r.old

        def text(r: SpokenRow, pick: str = pick) -> int:
            return r.text_new if pick == "new" else r.text_old

        auto = [r for r in rows if not speech(r).result.needs_review]
        columns.append(
            (
                f"{len(auto) / len(rows):.1%}" if rows else "-",
                f"{sum(speech(r).result.score == r.hand for r in auto) / len(auto):.1%}"
                if auto
                else "-",
                f"{np.mean([speech(r).result.score - text(r) for r in auto]):+.3f}"
                if auto
                else "-",
                f"{np.mean([speech(r).result.score - r.hand for r in auto]):+.3f}" if auto else "-",
                str(sum(speech(r).result.score < text(r) for r in rows)),
                (
                    f"{sum(_cut(speech(r).transcript) for r in rows)} "
                    f"({sum('truncated' in speech(r).transcript.flags for r in rows)} flagged)"
                ),
            )
        )
    names = (
        "auto-scored share",
        "exact agreement among auto-scored",
        "mean audio - text (auto-scored)",
        "mean audio - hand (auto-scored)",
        "provisional score below the text",
        "transcripts cut by the budget",
    )
    why = Counter(f for r in rows for f in r.new.result.flags)
    for name, new_value, old_value in zip(names, *columns, strict=True):
        print(f"{name:36}{new_value:>14}{old_value:>14}")
    print(
        "why the new chain sent answers to review: "
        + ", ".join(f"{k} {v}" for k, v in why.most_common())
    )
    if show:
        print("\nclips (new chain): hand, text, audio, review flags | P(fr) confidence | heard")
        for r in rows:
            t, result = r.new.transcript, r.new.result
            verdict = "review " + ",".join(result.flags) if result.needs_review else "auto"
            print(
                f"  {r.hand} {r.text_new} {result.score} {verdict}"
                f" | {t.language_probability:.3f} {t.confidence:.2f} | {t.text[:80]!r}"
            )
    times = [r.transcribe_s for r in rows]
    if len(times) >= 2:
        q = statistics.quantiles(times, n=20)
        print(
            f"transcription per answer (new): p50 {statistics.median(times):.2f} s, "
            f"p95 {q[18]:.2f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["dev", "heldout", "all"], default=None)
    parser.add_argument("--spoken", type=int, default=0, metavar="N")
    parser.add_argument("--voice", default="fr-fr+m3")
    parser.add_argument("--show-disagreements", action="store_true")
    parser.add_argument("--sweep-vectors", action="store_true")
    args = parser.parse_args()
    answers = load_answers()
    items = {a.item_id for a in answers}
    eo = sum(i.startswith("EO") for i in items)
    print(
        f"{len(answers)} answers, {len(items)} items ({eo} EO, {len(items) - eo} EE); "
        f"held-out {sum(a.part == 'heldout' for a in answers)}"
    )
    if args.sweep_vectors:
        sweep_vectors(answers)
        return
    parts = [args.part] if args.part else ["dev", "heldout"]
    typed(answers, parts, args.show_disagreements)
    if args.spoken:
        spoken(answers, args.part or "heldout", args.spoken, args.voice, args.show_disagreements)


if __name__ == "__main__":
    main()
