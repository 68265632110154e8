"""Errors raised by the calibration package.

Every error the command line can meet derives from :class:`CalibrationError`, so that
``calibration`` prints one clear line and exits with status 2 instead of a traceback::

    CalibrationError
    ├── InputError                 bad input files
    │   ├── MalformedCSV           a CSV that cannot be read as the expected table
    │   └── UnknownItem            responses name items that the parameter table lacks
    ├── FitError                   the estimation cannot run (no data, no free item...)
    ├── LinkingError               too few usable anchor items, degenerate anchors
    ├── ExportError                the database cannot be read or has no responses
    ├── PublishRefused             checks failed and no override reason was given
    └── AlreadyPublished           a release already holds these calibrated parameters
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class CalibrationError(Exception):
    """Base class of every error of the calibration package."""


class InputError(CalibrationError):
    """An input file is missing or unusable."""


class MalformedCSV(InputError):
    """A CSV file cannot be read as the expected table.

    Parameters
    ----------
    path : str
        The file.
    reason : str
        What is wrong, with the line number where it applies.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path} : {reason}")
        self.path = path
        self.reason = reason


class UnknownItem(InputError):
    """Responses name item ids that are not in the parameter table.

    Parameters
    ----------
    item_ids : sequence of str
        The unknown ids, as the user's file spells them.
    lines : mapping id -> int, optional
        The first line of the responses file where each one appears.
    path : str, optional
        The responses file.
    """

    def __init__(
        self,
        item_ids: Sequence[str],
        lines: Mapping[str, int] | None = None,
        path: str | None = None,
    ) -> None:
        ids = sorted(item_ids)
        lines = lines or {}
        shown = ", ".join(f"{i} (ligne {lines[i]})" if i in lines else i for i in ids[:10])
        more = f" (et {len(ids) - 10} autre(s))" if len(ids) > 10 else ""
        where = f"{path} : " if path else ""
        super().__init__(
            f"{where}{len(ids)} identifiant(s) d'item des réponses absent(s) de la table des "
            f"paramètres : {shown}{more}"
        )
        self.item_ids = tuple(ids)
        self.lines = dict(lines)


class FitError(CalibrationError):
    """The estimation cannot run on these data."""


class LinkingError(CalibrationError):
    """The new scale cannot be linked to the old one (too few or degenerate anchors)."""


class ExportError(CalibrationError):
    """The responses cannot be exported from the database."""


class PublishRefused(CalibrationError):
    """Checks failed and no written override reason was given."""

    def __init__(self, failures: Sequence[str]) -> None:
        super().__init__(
            "publication refusée : "
            + " ; ".join(failures)
            + ' (relancez avec --override-reason "…" pour publier quand même ; le motif est'
            " gardé dans la version)"
        )
        self.failures = tuple(failures)


class AlreadyPublished(CalibrationError):
    """A release built on the same version already holds these calibrated parameters.

    Parameters
    ----------
    version : str
        The release that holds them.
    based_on : str
        The version both were calibrated from.
    """

    def __init__(self, version: str, based_on: str) -> None:
        super().__init__(
            f"publication refusée : la version {version} porte déjà cette calibration (mêmes "
            f"paramètres, sur la version {based_on}) ; relancez avec --republish pour publier "
            "quand même une nouvelle version"
        )
        self.version = version
        self.based_on = based_on
