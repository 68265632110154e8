"""Files written beside their target and moved into place once complete.

A failure while writing (or a check the caller makes before the block ends) never leaves half a
file where a good one was: the target is either the old file or the whole new one.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["staged"]


@contextlib.contextmanager
def staged(target: Path) -> Iterator[Path]:
    """A path beside ``target`` (``.<name>.partial``) to write; moved onto ``target`` when the
    block ends without an exception, removed in every case."""
    partial = target.with_name(f".{target.name}.partial")
    try:
        yield partial
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
