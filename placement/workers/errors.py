"""Errors of the workers package.

WorkerError
├── UnknownBackend     the configured queue backend is neither ``thread`` nor ``rq``
├── QueueUnavailable   the Redis server cannot be reached
└── BadJobPath         a job's import path does not name a function
"""

from __future__ import annotations


class WorkerError(Exception):
    """Base of every error raised by :mod:`placement.workers`."""


class UnknownBackend(WorkerError):
    """The configured backend is neither ``thread`` nor ``rq``."""


class QueueUnavailable(WorkerError):
    """The Redis server behind the RQ backend cannot be reached."""


class BadJobPath(WorkerError):
    """A job's import path (``package.module.function``) does not name a function."""
