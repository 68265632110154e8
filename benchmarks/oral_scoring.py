"""Oral scoring benchmark: how many spoken answers are scored automatically, and how well.

    python benchmarks/oral_scoring.py [--set DIR] [--bank RELEASE_OR_FOLDER] [--limit N]
                                      [--save rows.json]

For each clip of the French test set (``benchmarks/speech_set.py``), the truth is the score the
item's rubric gives to the text that was spoken. The machine's answer is either a score (given
automatically) or "to review". Printed, overall and per voice, speed and noise condition:

- the share of answers scored automatically;
- the exact agreement among those (target ≥ 95 %), and the largest disagreement (target ≤ 1);

for three policies on the same transcripts: the shipped one (free transcript + phrase
log-likelihoods, :func:`placement.scoring.score_recording`), the free transcript alone
(``score_transcript`` without phrase scores), and the naive peer that trusts every transcript
(the rubric applied to the transcript, never any review).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from dataclasses import asdict
from pathlib import Path

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from speech_set import load_set, make_set

from audio.errors import AudioRejected
from audio.intake import check_recording
from audio.transcribe import get_transcriber
from itembank.model import Item
from placement.scoring import score_recording, score_text, score_transcript

BANK = Path(__file__).resolve().parents[1] / "itembank" / "bank"


def load_items(bank: str | None) -> dict[str, Item]:
    """The bank's items: from a folder of sources (default: the bundled one) or a release."""
    from itembank.sources import item_files, item_from_data, load_yaml

    if bank is None or Path(bank).is_dir():
        root = Path(bank) if bank else BANK
        return {
            p.stem: item_from_data(load_yaml(p.read_text(encoding="utf-8")), p)
            for p in item_files(root)
        }
    from itembank import load_release

    return dict(load_release(bank).items)


def report(name: str, rows: list[dict], policy: str) -> str:
    auto = [r for r in rows if r[policy] is not None]
    agree = sum(r[policy] == r["truth"] for r in auto)
    worst = max((abs(r[policy] - r["truth"]) for r in auto), default=0)
    share = len(auto) / len(rows) if rows else 0.0
    exact = f"{agree / len(auto):6.1%}" if auto else "   n/a"
    return (
        f"{name:<24} n={len(rows):>3}  auto-scored {share:6.1%} ({len(auto):>3})  "
        f"exact agreement {exact}  largest gap {worst}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=None, help="a set made by speech_set.py")
    parser.add_argument("--bank", default=None, help="release version or folder of sources")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--save", type=Path, default=None, help="write every clip's row (JSON)")
    args = parser.parse_args()

    folder = args.set or Path(tempfile.mkdtemp(prefix="speech-set-"))
    clips = load_set(folder) if (folder / "manifest.json").exists() else make_set(folder)
    clips = clips[: args.limit]
    items = load_items(args.bank)
    transcriber = get_transcriber()

    rows = []
    for clip in tqdm(clips, desc="scoring", unit="clip"):
        item = items.get(clip.item_id)
        if item is None:
            print(f"skipped {clip.file}: no item {clip.item_id} in the bank")
            continue
        try:
            recording = check_recording((folder / clip.file).read_bytes())
        except AudioRejected as exc:  # the candidate would record again: not scored
            print(f"refused {clip.file}: {exc.code}")
            continue
        scored = score_recording(item, recording, transcriber)
        free = score_transcript(item, scored.transcript)
        rows.append(
            {
                "clip": clip,
                "truth": score_text(item, clip.text).score,
                "shipped": None if scored.result.needs_review else scored.result.score,
                "free": None if free.needs_review else free.score,
                "naive": score_text(item, scored.transcript.text).score,
                "transcript": scored.transcript.text,
                "transcript_full": scored.transcript.to_dict(),
                "phrase_scores": scored.to_dict()["phrase_scores"],
                "flags": scored.result.flags,
            }
        )

    for policy, title in (
        ("shipped", "shipped policy: transcript + phrase log-likelihoods"),
        ("free", "free transcript only"),
        ("naive", "naive peer: trust every transcript"),
    ):
        print(f"\n== {title}")
        print(report("all", rows, policy))
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            c = r["clip"]
            groups[f"{c.voice} {c.noise}"].append(r)
            groups[f"noise={c.noise}"].append(r)
            groups[f"speed={c.speed}"].append(r)
        for key in sorted(groups):
            print(report(key, groups[key], policy))

    truths: defaultdict[int, int] = defaultdict(int)
    for r in rows:
        truths[r["truth"]] += 1
    print("\ntrue scores in the set: " + ", ".join(f"{k}: {v}" for k, v in sorted(truths.items())))
    reasons: defaultdict[str, int] = defaultdict(int)
    for r in rows:
        if r["shipped"] is None:
            for f in r["flags"]:
                reasons[f] += 1
    print(
        "review flags (shipped policy): "
        + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1]))
    )
    if args.save is not None:
        args.save.write_text(
            json.dumps(
                [{**r, "clip": asdict(r["clip"]), "flags": list(r["flags"])} for r in rows],
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    print("disagreements among the auto-scored answers (shipped policy):")
    wrong = [r for r in rows if r["shipped"] is not None and r["shipped"] != r["truth"]]
    for r in wrong[:10]:
        print(
            f"  auto {r['shipped']} vs truth {r['truth']}: "
            f"{r['clip'].text!r} -> {r['transcript']!r}"
        )


if __name__ == "__main__":
    main()
