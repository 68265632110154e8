"""Fixtures of the worker tests: a fresh RQ queue on the local Redis, worker processes."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from placement.workers import QueueUnavailable, RQQueue

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def rq_queue() -> Iterator[RQQueue]:
    """An RQ queue of its own on the local Redis (no retry delay), emptied afterwards."""
    try:
        queue = RQQueue(REDIS_URL, f"test-{uuid.uuid4().hex[:10]}", retry_intervals_s=[0])
    except QueueUnavailable as exc:
        pytest.fail(f"the local Redis is needed for these tests: {exc}")
    yield queue
    queue.queue.empty()
    queue.queue.delete(delete_jobs=True)


@pytest.fixture
def start_worker(
    rq_queue: RQQueue, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``placement worker`` on the test queue, in its own process group."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "placement.workers.cli",
                    "--queue",
                    rq_queue.name,
                    "--redis-url",
                    REDIS_URL,
                    "--path",
                    str(ROOT),
                    *extra,
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)
