"""French wording of what :mod:`calibration.fit` says in English.

The fit's reasons for keeping an item and its notes are data (``fit.json``, written in
English by the estimation code); the command line and the report show them in French, like
everything else the psychometrician reads. An unknown text is shown as it is.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"^held fixed \(anchor\)$", "fixé (ancre)"),
        (r"^(\S+) is not re-estimated$", r"\1 n'est pas réestimé"),
        (r"^nobody answered it$", "personne n'y a répondu"),
        (r"^fewer than (\d+) responses$", r"moins de \1 réponses"),
        (r"^every response scored (\d+)$", r"toutes les réponses valent \1"),
        (r"^not enough data on its skill$", "trop peu de données sur sa compétence"),
        (r"^optimiser stopped: (.*)$", r"l'optimiseur s'est arrêté : \1"),
        (r"^no responses to calibrate on$", "aucune réponse à calibrer"),
        (
            r"no item has (\d+) responses or more with at least two different scores",
            r"aucun item n'a \1 réponses ou plus avec au moins deux scores différents",
        ),
        (r"; every item kept$", " ; tous les items gardés"),
        (
            r"^skill (.*?): no responses, every item kept$",
            r"compétence \1 : aucune réponse, tous les items gardés",
        ),
        (r"^skill (.*?): ", r"compétence \1 : "),
    )
)


def french(text: str) -> str:
    """``text`` in French when it is one of the fit's known sentences, else unchanged."""
    out = text
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    return out


__all__ = ["french"]
