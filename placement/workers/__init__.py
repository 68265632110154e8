"""Background jobs: transcription and scoring off the request path.

``get_queue("thread")`` (the default: a thread pool in the app process, on SQLite and one
machine) or ``get_queue("rq", redis_url)`` (Redis + RQ, with ``placement worker`` processes);
``queue_from_env()`` reads ``PLACEMENT_QUEUE`` and ``PLACEMENT_REDIS_URL``. See
``placement/workers/README.md``.
"""

from placement.workers.errors import BadJobPath, QueueUnavailable, UnknownBackend, WorkerError
from placement.workers.queues import (
    JobQueue,
    JobStatus,
    RQQueue,
    ThreadQueue,
    get_queue,
    queue_from_env,
    resolve,
)

__all__ = [
    "BadJobPath",
    "JobQueue",
    "JobStatus",
    "QueueUnavailable",
    "RQQueue",
    "ThreadQueue",
    "UnknownBackend",
    "WorkerError",
    "get_queue",
    "queue_from_env",
    "resolve",
]
