"""The app's transcription queue: where a spoken answer is handed once its response is stored.

The backend is the ``QUEUE`` setting: ``thread`` (a thread pool in this process), ``rq`` (Redis
and ``placement worker`` processes) or ``sync`` (the job runs inline: tests). The queue is made
on first use and kept in ``app.extensions``.
"""

from __future__ import annotations

from flask import Flask

from placement.workers import JobQueue

_EXTENSION_KEY = "placement.queue"


def app_queue(app: Flask) -> JobQueue:
    """The app's queue for its ``QUEUE`` backend (``thread`` or ``rq``), made on first use."""
    queue: JobQueue | None = app.extensions.get(_EXTENSION_KEY)
    if queue is None:
        from placement.workers import get_queue

        options = {"name": app.config["QUEUE_NAME"]} if app.config.get("QUEUE_NAME") else {}
        queue = app.extensions[_EXTENSION_KEY] = get_queue(
            str(app.config.get("QUEUE", "thread")), app.config.get("REDIS_URL"), **options
        )
    return queue


def enqueue_transcription(app: Flask, response_id: int) -> None:
    """Hand a recorded response to the transcription job (run inline with the ``sync`` backend)."""
    from placement.sessions.jobs import PROCESS_RECORDING, process_recording
    from placement.sessions.testflow import transcription_job_id

    url = str(app.config["DATABASE_URL"])
    if str(app.config.get("QUEUE", "thread")) == "sync":
        process_recording(response_id, url)
        return
    app_queue(app).enqueue(
        PROCESS_RECORDING, response_id, url, job_id=transcription_job_id(response_id)
    )
