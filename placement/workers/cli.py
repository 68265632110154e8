"""``placement worker``: run RQ worker processes for the Redis queue.

``placement worker [--redis-url URL] [--queue NAME] [--processes N] [--burst] [--preload]``
starts N workers (default 1). Each worker is a *simple* RQ worker (no fork per job) so that the
Whisper model, loaded at the first job (or at start with ``--preload``), stays loaded for the
next ones. Before working, abandoned jobs of workers that died on this machine are retried.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from placement.workers.errors import WorkerError
from placement.workers.queues import DEFAULT_QUEUE_NAME, DEFAULT_REDIS_URL, RQQueue


def register(subparsers: Any) -> None:
    """Add the ``worker`` sub-command."""
    parser = subparsers.add_parser(
        "worker",
        help="run RQ workers that transcribe and score spoken answers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("PLACEMENT_REDIS_URL", DEFAULT_REDIS_URL),
        help="default: $PLACEMENT_REDIS_URL or %(default)s",
    )
    parser.add_argument("--queue", default=DEFAULT_QUEUE_NAME, help="default: %(default)s")
    parser.add_argument("--processes", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--burst", action="store_true", help="stop when the queue is empty")
    parser.add_argument("--preload", action="store_true", help="load the speech model at start")
    parser.add_argument(
        "--path", action="append", default=[], help="add a folder to the import path (for jobs)"
    )
    parser.set_defaults(func=run)


def _child_command(args: argparse.Namespace) -> list[str]:
    command = [sys.executable, "-m", "placement.workers.cli", "--processes", "1"]
    command += ["--redis-url", args.redis_url, "--queue", args.queue]
    command += ["--burst"] * args.burst + ["--preload"] * args.preload
    for path in args.path:
        command += ["--path", path]
    return command


def _supervise(args: argparse.Namespace) -> int:
    """Start ``--processes`` single workers and wait for them; signals are passed on."""
    children = [subprocess.Popen(_child_command(args)) for _ in range(args.processes)]  # noqa: S603 - our own interpreter and arguments

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    codes = [child.wait() for child in children]
    return max(codes, default=0)


def run(args: argparse.Namespace) -> int:
    """Run the worker(s) until stopped (or, with ``--burst``, until the queue is empty)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for path in args.path:
        sys.path.insert(0, str(Path(path).resolve()))
    if args.processes > 1:
        return _supervise(args)
    from rq.worker import SimpleWorker

    try:
        queue = RQQueue(args.redis_url, args.queue)
    except WorkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    recovered = queue.recover_abandoned()
    if recovered:
        print(f"retried {len(recovered)} job(s) of dead workers: {', '.join(recovered)}")
    if args.preload:
        from audio.transcribe import get_transcriber
        from placement.scoring import prepare

        get_transcriber()
        prepare(())  # the French language model used to score the transcripts
    worker = SimpleWorker([queue.queue], connection=queue.connection)
    worker.work(burst=args.burst, with_scheduler=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m placement.workers.cli``: the ``worker`` sub-command on its own."""
    parser = argparse.ArgumentParser(prog="placement-worker")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["worker", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
