"""Background jobs: an in-process thread pool (one machine) or RQ on Redis (separate workers).

Both backends take a job as the **import path** of a function and its arguments (so that RQ
workers in other processes can import it), keyed by a caller-chosen ``job_id``:

- ``enqueue`` is idempotent: enqueuing an id that is queued or running does nothing; an id
  that is done or failed runs again (a re-score, say);
- a job that raises is retried (``retries`` times, after the ``retry_intervals_s``); on RQ a
  job whose worker died mid-job (``kill -9``, power loss) is retried by the next worker that
  starts on the same machine (:meth:`RQQueue.recover_abandoned`), or by RQ's own registry
  maintenance once the dead worker's heartbeat expires (other machines);
- ``status`` says ``queued``, ``running``, ``done``, ``failed`` or None (unknown id).

Raises :class:`placement.workers.errors.UnknownBackend`, :class:`QueueUnavailable` and
:class:`BadJobPath`.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from placement.workers.errors import BadJobPath, QueueUnavailable, UnknownBackend

JobStatus = Literal["queued", "running", "done", "failed"]
DEFAULT_QUEUE_NAME = "placement"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_RETRIES = 3
DEFAULT_RETRY_INTERVALS_S: tuple[int, ...] = (2, 10, 30)

log = logging.getLogger(__name__)


def resolve(func_path: str) -> Callable[..., Any]:
    """The function named by ``package.module.function``; raise BadJobPath when there is none."""
    module_name, _, name = func_path.rpartition(".")
    if not module_name:
        raise BadJobPath(f"{func_path!r} is not a dotted path")
    try:
        func = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise BadJobPath(f"{func_path!r}: {exc}") from exc
    if not callable(func):
        raise BadJobPath(f"{func_path!r} is not callable")
    return func


class JobQueue(Protocol):
    """What the web app uses, whatever the backend."""

    def enqueue(self, func_path: str, *args: Any, job_id: str) -> str:
        """Run ``func_path(*args)`` in the background once; returns ``job_id``."""
        ...

    def status(self, job_id: str) -> JobStatus | None:
        """The job's state, or None for an unknown id."""
        ...

    def result(self, job_id: str) -> Any:
        """The return value of a done job (None otherwise)."""
        ...


# -- in-process threads ------------------------------------------------------------------------


@dataclass
class _ThreadJob:
    func_path: str
    args: tuple[Any, ...]
    status: JobStatus = "queued"
    attempts: int = 0
    result: Any = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class ThreadQueue:
    """Jobs run by a pool of threads inside the app process (the default, on one machine).

    Nothing survives a restart of the process: the web app re-enqueues, from the database, the
    responses still waiting for a score when it starts.
    """

    def __init__(
        self,
        max_workers: int = 1,
        *,
        retries: int = DEFAULT_RETRIES,
        retry_intervals_s: Sequence[float] = DEFAULT_RETRY_INTERVALS_S,
    ) -> None:
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="placement-job")
        self._jobs: dict[str, _ThreadJob] = {}
        self._lock = threading.Lock()
        self.retries = retries
        self.retry_intervals_s = tuple(retry_intervals_s) or (0.0,)

    def enqueue(self, func_path: str, *args: Any, job_id: str) -> str:
        """Run ``func_path(*args)`` in a pool thread, once per id while queued or running."""
        resolve(func_path)  # a bad path is the caller's bug: say so now, not in a thread
        with self._lock:
            current = self._jobs.get(job_id)
            if current is not None and current.status in ("queued", "running"):
                return job_id
            job = self._jobs[job_id] = _ThreadJob(func_path, args)
        self._pool.submit(self._run, job_id, job)
        return job_id

    def _run(self, job_id: str, job: _ThreadJob) -> None:
        func = resolve(job.func_path)
        while True:
            job.attempts += 1
            job.status = "running"
            try:
                job.result = func(*job.args)
            except Exception as exc:  # any failure of a job is retried, then recorded
                job.error = f"{type(exc).__name__}: {exc}"
                log.warning("job %s failed (attempt %d): %s", job_id, job.attempts, job.error)
                if job.attempts > self.retries:
                    job.status = "failed"
                    break
                index = min(job.attempts - 1, len(self.retry_intervals_s) - 1)
                time.sleep(self.retry_intervals_s[index])
            else:
                job.status = "done"
                job.error = None
                break
        job.done.set()

    def status(self, job_id: str) -> JobStatus | None:
        """``queued``, ``running``, ``done``, ``failed`` or None."""
        job = self._jobs.get(job_id)
        return job.status if job is not None else None

    def result(self, job_id: str) -> Any:
        """The return value of a done job (None otherwise)."""
        job = self._jobs.get(job_id)
        return job.result if job is not None and job.status == "done" else None

    def error(self, job_id: str) -> str | None:
        """The last error of a job, if any."""
        job = self._jobs.get(job_id)
        return job.error if job is not None else None

    def wait(self, job_id: str, timeout_s: float | None = None) -> JobStatus | None:
        """Block until the job is done or failed (or the timeout passes); returns its status."""
        job = self._jobs.get(job_id)
        if job is not None:
            job.done.wait(timeout_s)
        return self.status(job_id)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking jobs; with ``wait``, finish the running and queued ones first."""
        self._pool.shutdown(wait=wait)


# -- RQ on Redis -------------------------------------------------------------------------------

_RQ_STATUS: dict[str, JobStatus] = {
    "queued": "queued",
    "deferred": "queued",
    "scheduled": "queued",
    "created": "queued",
    "started": "running",
    "finished": "done",
    "failed": "failed",
    "stopped": "failed",
    "canceled": "failed",
}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RQQueue:
    """Jobs on a Redis queue, run by ``placement worker`` processes (RQ)."""

    def __init__(
        self,
        redis_url: str = DEFAULT_REDIS_URL,
        name: str = DEFAULT_QUEUE_NAME,
        *,
        retries: int = DEFAULT_RETRIES,
        retry_intervals_s: Sequence[int] = DEFAULT_RETRY_INTERVALS_S,
        job_timeout_s: int = 600,
        result_ttl_s: int = 7 * 24 * 3600,
    ) -> None:
        import redis
        from rq import Queue

        self.connection = redis.Redis.from_url(redis_url)
        try:
            self.connection.ping()
        except redis.RedisError as exc:
            raise QueueUnavailable(f"cannot reach Redis at {redis_url}: {exc}") from exc
        self.redis_url = redis_url
        self.queue = Queue(name, connection=self.connection)
        self.retries = retries
        self.retry_intervals_s = list(retry_intervals_s)
        self.job_timeout_s = job_timeout_s
        self.result_ttl_s = result_ttl_s

    @property
    def name(self) -> str:
        """The Redis queue's name."""
        return str(self.queue.name)

    def _fetch(self, job_id: str) -> Any:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job

        try:
            return Job.fetch(job_id, connection=self.connection)
        except NoSuchJobError:
            return None

    def enqueue(self, func_path: str, *args: Any, job_id: str) -> str:
        """Put ``func_path(*args)`` on the queue, once per id while queued or running.

        Raises QueueUnavailable when Redis cannot be reached (the caller keeps the job).
        """
        import redis
        from rq import Retry

        try:
            # a short lock makes two simultaneous enqueues of one id enqueue it once
            lock = self.connection.lock(
                f"placement:enqueue:{job_id}", timeout=10, blocking_timeout=10
            )
            with lock:
                if self.status(job_id) in ("queued", "running"):
                    return job_id
                self.queue.enqueue(
                    func_path,
                    *args,
                    job_id=job_id,
                    retry=Retry(max=self.retries, interval=self.retry_intervals_s)
                    if self.retries
                    else None,
                    job_timeout=self.job_timeout_s,
                    result_ttl=self.result_ttl_s,
                    failure_ttl=self.result_ttl_s,
                )
        except redis.RedisError as exc:
            raise QueueUnavailable(f"cannot enqueue {job_id} on {self.redis_url}: {exc}") from exc
        return job_id

    def status(self, job_id: str) -> JobStatus | None:
        """``queued``, ``running``, ``done``, ``failed`` or None."""
        job = self._fetch(job_id)
        if job is None:
            return None
        status = job.get_status(refresh=True)
        return _RQ_STATUS.get(str(getattr(status, "value", status)))

    def result(self, job_id: str) -> Any:
        """The return value of a done job (None otherwise)."""
        job = self._fetch(job_id)
        return job.return_value() if job is not None and self.status(job_id) == "done" else None

    def error(self, job_id: str) -> str | None:
        """The traceback of the job's last failure, if any."""
        job = self._fetch(job_id)
        if job is None:
            return None
        latest = job.latest_result()
        return None if latest is None else latest.exc_string

    def recover_abandoned(self) -> list[str]:
        """Retry (or fail, when no retry is left) the jobs whose worker died on this machine.

        RQ itself notices a dead worker only once its heartbeat expires (a minute or more); a
        worker starting after a crash on the same machine can tell at once, by its process id.
        Returns the ids of the jobs recovered.
        """
        from rq.registry import StartedJobRegistry
        from rq.worker import Worker

        registry = StartedJobRegistry(queue=self.queue)
        recovered = []
        host = socket.gethostname()
        for job_id, _execution in registry.get_job_and_execution_ids(cleanup=False):
            job = self._fetch(job_id)
            if job is None or job.get_status(refresh=True).value != "started":
                continue
            worker = (
                Worker.find_by_key(
                    Worker.redis_worker_namespace_prefix + job.worker_name,
                    connection=self.connection,
                )
                if job.worker_name
                else None
            )
            dead = worker is None or (
                worker.hostname == host and worker.pid is not None and not _pid_alive(worker.pid)
            )
            if not dead:
                continue
            with self.connection.pipeline() as pipeline:
                registry.remove_executions(job, pipeline=pipeline)
                if job.retries_left:
                    job.retry(self.queue, pipeline)
                else:
                    from rq.job import JobStatus as RQJobStatus

                    job.set_status(RQJobStatus.FAILED, pipeline=pipeline)
                pipeline.execute()
            if worker is not None:
                worker.register_death()
            log.warning("job %s: its worker %s died; retried", job_id, job.worker_name)
            recovered.append(job_id)
        return recovered


# -- selection ---------------------------------------------------------------------------------

_queues: dict[tuple[str, str | None], JobQueue] = {}
_queues_lock = threading.Lock()


def get_queue(
    backend: str = "thread", redis_url: str | None = None, *, name: str = DEFAULT_QUEUE_NAME
) -> JobQueue:
    """The process's queue for ``backend`` (``thread`` or ``rq``), created once and cached.

    Raises UnknownBackend for another backend, QueueUnavailable when Redis cannot be reached.
    """
    key = (backend, f"{redis_url}#{name}" if backend == "rq" else None)
    with _queues_lock:
        if key not in _queues:
            if backend == "thread":
                _queues[key] = ThreadQueue()
            elif backend == "rq":
                _queues[key] = RQQueue(redis_url or DEFAULT_REDIS_URL, name)
            else:
                raise UnknownBackend(f"unknown queue backend {backend!r} (thread or rq)")
        return _queues[key]


def queue_from_env() -> JobQueue:
    """The queue the environment configures: ``PLACEMENT_QUEUE`` (thread | rq, default thread)
    and ``PLACEMENT_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``)."""
    return get_queue(
        os.environ.get("PLACEMENT_QUEUE", "thread"), os.environ.get("PLACEMENT_REDIS_URL")
    )
