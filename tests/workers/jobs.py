"""Jobs for the worker tests, importable by RQ workers as ``tests.workers.jobs.<name>``."""

from __future__ import annotations

import os
import time
from pathlib import Path


def record_attempt(path: str, sleep_s: float = 0.0) -> int:
    """Append this process's id to ``path``, sleep, and return how many attempts there were."""
    log = Path(path)
    with log.open("a", encoding="utf-8") as f:
        f.write(f"{os.getpid()}\n")
    time.sleep(sleep_s)
    return len(log.read_text(encoding="utf-8").splitlines())


def flaky(path: str, failures: int) -> int:
    """Fail the first ``failures`` attempts, then return the number of attempts."""
    attempts = record_attempt(path)
    if attempts <= failures:
        raise RuntimeError(f"attempt {attempts} fails on purpose")
    return attempts
