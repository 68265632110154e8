"""The job queues: in-process threads, and RQ with real worker processes on the local Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from placement.workers import (
    BadJobPath,
    RQQueue,
    ThreadQueue,
    UnknownBackend,
    get_queue,
)
from tests.speech import speak
from tests.workers.conftest import ROOT

JOBS = "tests.workers.jobs"
StartWorker = Callable[..., subprocess.Popen[bytes]]


#: How long a worker process may take (a bound against hanging, not a timing check: starting a
#: worker imports the scoring stack, which takes a while on a loaded 2-core machine).
WORKER_WAIT_S = 180.0


def wait_for(predicate: Callable[[], bool], timeout_s: float = WORKER_WAIT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s")
        time.sleep(0.05)


def attempts(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


# -- threads -----------------------------------------------------------------------------------


def test_thread_queue_runs_once_per_id_and_reports_status(tmp_path: Path) -> None:
    queue = ThreadQueue(max_workers=2)
    log = tmp_path / "log"
    assert queue.enqueue(f"{JOBS}.record_attempt", str(log), 0.3, job_id="r1") == "r1"
    queue.enqueue(f"{JOBS}.record_attempt", str(log), 0.3, job_id="r1")  # queued or running
    assert queue.status("r1") in ("queued", "running")
    assert queue.wait("r1", 10) == "done"
    assert queue.result("r1") == 1
    assert len(attempts(log)) == 1
    # once done, the same id runs again (a re-score)
    queue.enqueue(f"{JOBS}.record_attempt", str(log), job_id="r1")
    assert queue.wait("r1", 10) == "done"
    assert queue.result("r1") == 2
    assert queue.status("unknown") is None
    queue.shutdown()


def test_thread_queue_retries_then_fails(tmp_path: Path) -> None:
    queue = ThreadQueue(retries=2, retry_intervals_s=[0.0])
    queue.enqueue(f"{JOBS}.flaky", str(tmp_path / "a"), 1, job_id="once")
    assert queue.wait("once", 10) == "done"
    assert queue.result("once") == 2
    queue.enqueue(f"{JOBS}.flaky", str(tmp_path / "b"), 10, job_id="never")
    assert queue.wait("never", 10) == "failed"
    assert len(attempts(tmp_path / "b")) == 3  # the first try and two retries
    assert "fails on purpose" in (queue.error("never") or "")
    queue.shutdown()


def test_bad_paths_and_backends() -> None:
    queue = ThreadQueue()
    with pytest.raises(BadJobPath):
        queue.enqueue("tests.workers.jobs.nothing_here", job_id="x")
    with pytest.raises(BadJobPath):
        queue.enqueue("nodots", job_id="x")
    with pytest.raises(UnknownBackend):
        get_queue("celery")
    assert get_queue("thread") is get_queue("thread")
    queue.shutdown()


# -- RQ on the local Redis ---------------------------------------------------------------------


def unique(queue: RQQueue, job_id: str) -> str:
    """A job id of this test's own: RQ keeps jobs under their id for the whole Redis, not per
    queue, so a job left ``started`` by an interrupted run would otherwise block a later one."""
    return f"{queue.name}-{job_id}"


@pytest.mark.redis
def test_rq_enqueue_is_idempotent_while_queued(rq_queue: RQQueue, tmp_path: Path) -> None:
    log = str(tmp_path / "log")
    same = unique(rq_queue, "same")
    rq_queue.enqueue(f"{JOBS}.record_attempt", log, job_id=same)
    rq_queue.enqueue(f"{JOBS}.record_attempt", log, job_id=same)
    assert rq_queue.status(same) == "queued"
    assert len(rq_queue.queue) == 1
    assert rq_queue.status(unique(rq_queue, "never-enqueued")) is None


@pytest.mark.redis
@pytest.mark.slow
def test_a_real_worker_scores_a_recording(
    rq_queue: RQQueue, start_worker: StartWorker, tmp_path: Path
) -> None:
    wav = speak("Bonjour, je m'appelle Karim.", tmp_path / "answer.wav", voice="fr-fr+m1")
    bank = str(ROOT / "itembank" / "bank")
    s1 = unique(rq_queue, "s1")
    rq_queue.enqueue(
        "placement.workers.jobs.score_speech_file", bank, "EO-001", str(wav), job_id=s1
    )
    worker = start_worker("--burst")
    assert worker.wait(120) == 0
    assert rq_queue.status(s1) == "done"
    result = rq_queue.result(s1)
    assert result["transcript"]["model_name"] == "whisper-base"
    assert result["result"]["max_score"] == 2
    assert isinstance(result["result"]["needs_review"], bool)


@pytest.mark.redis
def test_a_failing_job_is_retried_by_the_worker(
    rq_queue: RQQueue, start_worker: StartWorker, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    flaky = unique(rq_queue, "flaky")
    rq_queue.enqueue(f"{JOBS}.flaky", str(log), 1, job_id=flaky)
    assert start_worker("--burst").wait(WORKER_WAIT_S) == 0
    assert rq_queue.status(flaky) == "done"
    assert rq_queue.result(flaky) == 2
    assert len(attempts(log)) == 2


@pytest.mark.redis
def test_a_job_survives_its_worker_killed_mid_job(
    rq_queue: RQQueue, start_worker: StartWorker, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    long_job = unique(rq_queue, "long")
    rq_queue.enqueue(f"{JOBS}.record_attempt", str(log), 3.0, job_id=long_job)
    first = start_worker()
    wait_for(lambda: len(attempts(log)) == 1 and rq_queue.status(long_job) == "running")
    os.killpg(first.pid, signal.SIGKILL)  # the worker and anything it started, mid-job
    first.wait(10)
    assert rq_queue.status(long_job) == "running"  # abandoned: nobody will finish it
    second = start_worker("--burst")
    assert second.wait(WORKER_WAIT_S) == 0
    assert rq_queue.status(long_job) == "done"
    first_pid, second_pid = attempts(log)
    assert first_pid != second_pid
    assert rq_queue.result(long_job) == 2
