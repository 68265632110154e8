"""How numbers and moments are written for people: French, one place for each.

Every figure an auditeur or a candidate reads (θ, a standard error, a probability, a duration)
goes through :func:`number` (comma decimal, true minus sign); every stored moment (always UTC,
naive from SQLite) goes through :func:`local` to the office's time zone before it is written.
The web app registers these as Jinja filters; the attestation and the policy's reasons use them
directly, so a value is never written two ways.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["clock", "date_time", "day", "duration", "local", "number", "percent"]

#: The office's time zone when nothing else is configured.
DEFAULT_TZ = "Europe/Paris"


def number(value: float | None, digits: int = 2) -> str:
    """``value`` in French: ``-0.5`` → ``−0,50`` (``—`` for None or not a number)."""
    if value is None or not math.isfinite(float(value)):
        return "—"
    return f"{float(value):.{digits}f}".replace(".", ",").replace("-", "−")


def percent(probability: float | None) -> str:
    """A probability 0..1 as a whole French percentage: ``0.623`` → ``62 %``."""
    if probability is None or not math.isfinite(float(probability)):
        return "—"
    return f"{round(100 * float(probability))}\xa0%"


def duration(seconds: float | None) -> str:
    """A duration: ``3.14`` → ``3,1 s``; ``75`` → ``1 min 15 s``."""
    if seconds is None or not math.isfinite(float(seconds)) or seconds < 0:
        return "—"
    if seconds < 60:
        return f"{number(seconds, 1)} s"
    minutes, rest = divmod(round(float(seconds)), 60)
    return f"{minutes} min {rest:02d} s"


def local(moment: datetime, tz: str = DEFAULT_TZ) -> datetime:
    """A stored moment in the office's time zone (naive moments are UTC, as stored)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(tz))


def clock(moment: datetime | None, tz: str = DEFAULT_TZ) -> str:
    """``11:27``, office time."""
    return local(moment, tz).strftime("%H:%M") if moment is not None else "—"


def day(moment: datetime | None, tz: str = DEFAULT_TZ) -> str:
    """``07/12/2026``, office time."""
    return local(moment, tz).strftime("%d/%m/%Y") if moment is not None else "—"


def date_time(moment: datetime | None, tz: str = DEFAULT_TZ) -> str:
    """``07/12/2026 à 11:27``, office time."""
    if moment is None:
        return "—"
    at = local(moment, tz)
    return f"{at.strftime('%d/%m/%Y')} à {at.strftime('%H:%M')}"
