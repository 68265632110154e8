"""``placement score``: try an item's rubric on a typed answer or a recording.

``placement score --bank RELEASE --item ID (--text TEXT | --audio FILE) [--json]`` prints the
score, the reasons and whether the answer goes to review. ``--bank`` is a published release's
version (``latest`` or nothing for the newest) or a folder of item sources (a rubric being
written, before it is published).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from itembank.model import Item


def register(subparsers: Any) -> None:
    """Add the ``score`` sub-command."""
    parser = subparsers.add_parser(
        "score",
        help="score a typed answer or a recording with an item's rubric",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bank", default=None, help="release version, or a folder of sources")
    parser.add_argument("--item", required=True, help="item id, e.g. EO-001")
    answer = parser.add_mutually_exclusive_group(required=True)
    answer.add_argument("--text", help="the typed answer (or a transcript to try)")
    answer.add_argument("--audio", type=Path, help="a recording (webm, ogg, mp4, wav, mp3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-phrases", action="store_true", help="free transcript only")
    parser.set_defaults(func=run)


def _load_item(bank: str | None, item_id: str) -> Item:
    from itembank.sources import item_files, item_from_data, load_yaml

    if bank is not None and Path(bank).is_dir():
        for path in item_files(Path(bank)):
            if path.stem == item_id:
                return item_from_data(load_yaml(path.read_text(encoding="utf-8")), path)
        raise KeyError(f"no item {item_id} in {bank}")
    from itembank import load_release

    release = load_release(None if bank in (None, "latest") else bank)
    if item_id not in release.items:
        raise KeyError(f"no item {item_id} in release {release.version}")
    return release.items[item_id]


def run(args: argparse.Namespace) -> int:
    """Score the answer; exit 0, or 1 when the answer is refused, 2 on a bad bank or item."""
    from audio.errors import AudioError, AudioRejected
    from itembank.errors import ItemBankError
    from placement.scoring import ScoringError, score_answer

    try:
        item = _load_item(args.bank, args.item)
    except (KeyError, ItemBankError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out: dict[str, Any] = {"item": item.id}
    try:
        if args.audio is not None:
            from audio.intake import check_recording
            from placement.scoring import score_recording

            recording = check_recording(args.audio.read_bytes())
            scored = score_recording(item, recording, use_phrases=not args.no_phrases)
            out["transcript"] = scored.transcript.text
            out["transcript_flags"] = list(scored.transcript.flags)
            out["confidence"] = round(scored.transcript.confidence, 3)
            result = scored.result
        elif item.response_mode == "form":
            result = score_answer(item, {"fields": json.loads(args.text)})
        elif item.response_mode == "choice":
            result = score_answer(item, {"choice": args.text})
        else:
            result = score_answer(item, {"text": args.text})
    except AudioRejected as exc:
        print(f"refused ({exc.code}): {exc.message}", file=sys.stderr)
        return 1
    except (OSError, AudioError, ScoringError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out.update(result.to_dict())
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    if "transcript" in out:
        print(f"Transcription : « {out['transcript']} » (confiance {out['confidence']:.0%})")
    print(f"Note : {result.score}/{result.max_score}")
    for reason in result.reasons:
        print(f"  - {reason}")
    print("À revoir par l'auditeur : " + ("oui" if result.needs_review else "non"))
    return 0
