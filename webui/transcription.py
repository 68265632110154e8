"""The app's transcription queue: where a spoken answer is handed once its response is stored.

The backend is the ``QUEUE`` setting: ``thread`` (a thread pool in this process), ``rq`` (Redis
and ``placement worker`` processes) or ``sync`` (the job runs inline: tests). The queue is made
on first use and kept in ``app.extensions``.

The database is the outbox: a recorded answer is stored with a ``queued`` transcript in the same
transaction, and only then handed to the queue. When Redis is down the answer is still
acknowledged (the hand-over fails quietly, with a warning in the log), and the periodic sweep
(:func:`start_sweeper`, every ``QUEUE_SWEEP_SECONDS`` in ``placement-web serve``) enqueues again
whatever is still ``queued`` or ``running`` in the database: what Redis lost, or never got,
runs once it is back (enqueuing is idempotent by job id).
"""

from __future__ import annotations

import logging
import threading

from flask import Flask

from placement.workers import JobQueue, QueueUnavailable

_EXTENSION_KEY = "placement.queue"
_log = logging.getLogger(__name__)


def app_queue(app: Flask) -> JobQueue:
    """The app's queue for its ``QUEUE`` backend (``thread`` or ``rq``), made on first use.

    Raises QueueUnavailable when Redis cannot be reached.
    """
    queue: JobQueue | None = app.extensions.get(_EXTENSION_KEY)
    if queue is None:
        from placement.workers import get_queue

        options = {"name": app.config["QUEUE_NAME"]} if app.config.get("QUEUE_NAME") else {}
        queue = app.extensions[_EXTENSION_KEY] = get_queue(
            str(app.config.get("QUEUE", "thread")), app.config.get("REDIS_URL"), **options
        )
    return queue


def enqueue_transcription(app: Flask, response_id: int) -> bool:
    """Hand a recorded response to the transcription job (run inline with the ``sync`` backend).

    Returns False, without raising, when the queue cannot be reached: the transcript stays
    ``queued`` in the database and the sweep enqueues it later.
    """
    from placement.sessions.jobs import PROCESS_RECORDING, process_recording
    from placement.sessions.testflow import transcription_job_id

    url = str(app.config["DATABASE_URL"])
    if str(app.config.get("QUEUE", "thread")) == "sync":
        process_recording(response_id, url)
        return True
    try:
        app_queue(app).enqueue(
            PROCESS_RECORDING, response_id, url, job_id=transcription_job_id(response_id)
        )
    except QueueUnavailable as error:
        _log.warning("response %s kept for the sweep: %s", response_id, error)
        return False
    return True


def sweep(app: Flask) -> int:
    """Enqueue again every transcription still pending in the database; returns how many were
    handed over (0 while the queue is unreachable)."""
    from placement.sessions.jobs import pending_transcriptions
    from webui.extensions import db

    with app.app_context():
        pending = pending_transcriptions(db.session)
        db.session.close()
    handed = 0
    for response_id in pending:
        if not enqueue_transcription(app, response_id):
            break  # the queue is down: the next sweep tries again
        handed += 1
    return handed


def start_sweeper(app: Flask, interval_s: float) -> threading.Event:
    """Run :func:`sweep` every ``interval_s`` seconds in a daemon thread; set the returned event
    to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(interval_s):
            try:
                handed = sweep(app)
            except Exception:  # a failed sweep must not end the thread: the next one retries
                _log.exception("transcription sweep failed")
            else:
                if handed:
                    _log.info("transcription sweep: %d job(s) enqueued again", handed)

    threading.Thread(target=loop, name="transcription-sweep", daemon=True).start()
    return stop
