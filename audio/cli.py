"""The ``audio`` command line, for operators checking recordings and the speech model.

``audio transcribe FILE...`` prints one JSON object per file (the checks of the recording and
its transcript) and exits 1 if any file was refused (with the reason on stderr);
``audio check FILE...`` runs only the intake checks; ``audio model install|verify|path``
manages the bundled model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from audio import model
from audio.errors import AudioError, AudioRejected
from audio.intake import DEFAULT_MAX_DURATION_S, check_recording


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audio", description="Check and transcribe recordings.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("transcribe", "check and transcribe recordings (one JSON object per line)"),
        ("check", "check recordings only (one JSON object per line)"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("files", nargs="+", type=Path, metavar="FILE")
        command.add_argument(
            "--max-duration", type=float, default=DEFAULT_MAX_DURATION_S, help="seconds"
        )
        command.add_argument("--model", type=Path, default=None, help="CTranslate2 model folder")
    manage = sub.add_parser("model", help="install, verify or locate the bundled Whisper model")
    manage.add_argument("action", choices=["install", "verify", "path"])
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    if args.command == "model":
        return model.main([args.action])
    transcriber = None
    refused = 0
    for path in args.files:
        try:
            recording = check_recording(path.read_bytes(), max_duration_s=args.max_duration)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            refused += 1
            continue
        except AudioRejected as exc:
            print(f"{path}: refused ({exc.code}): {exc.detail or exc.message}", file=sys.stderr)
            refused += 1
            continue
        out: dict[str, object] = {"file": str(path), "recording": recording.to_dict()}
        if args.command == "transcribe":
            from audio.transcribe import get_transcriber

            try:
                transcriber = transcriber or get_transcriber(args.model)
                out.update(transcriber.transcribe(recording).to_dict())
            except AudioError as exc:
                print(f"{path}: {exc}", file=sys.stderr)
                return 2
        print(json.dumps(out, ensure_ascii=False))
    return 1 if refused else 0


if __name__ == "__main__":
    raise SystemExit(main())
