"""French wording of what the item bank says in English, for the command lines a person reads.

The item bank's errors stay English (``itembank``'s own command line and logs read them); the
commands of the psychometrician that publish or load releases — ``calibration publish``,
``placement simulate``, ``placement exposure`` — print French, through :func:`french`. It
lives here, beside the messages it matches, so that a message changed in this package and its
French change together (``tests/itembank/test_wording.py`` raises each one for real). The
parameter CSV reader's messages are French already and pass through unchanged, as does any
text no pattern knows.
"""

from __future__ import annotations

import re

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        # releases (itembank.release)
        (
            r"^no release under (.+); build one with `itembank build`$",
            r"aucune version sous \1 ; construisez-en une avec `itembank build`",
        ),
        (
            r"^no release (\S+) under (.+) \(known: (.*)\)$",
            r"pas de version \1 sous \2 (versions publiées : \3)",
        ),
        (r"\(versions publiées : none\)", "(versions publiées : aucune)"),
        (
            r"^release version (.+) is not YYYY\.MM\.N \(e\.g\. (\S+)\)$",
            r"numéro de version \1 invalide : la forme est AAAA.MM.N (par exemple \2)",
        ),
        (
            r"^version (\S+) is not newer than the newest release (\S+)$",
            r"la version \1 n'est pas plus récente que la dernière version publiée, \2",
        ),
        (
            r"^release (\S+) already exists under (.+?)(; releases are immutable)?$",
            r"la version \1 existe déjà sous \2 : une version publiée ne change plus",
        ),
        (r"^release (\S+) cannot be read: (.*)$", r"la version \1 est illisible (\2)"),
        (
            r"^release (\S+) differs from its manifest: ",
            r"la version \1 ne correspond plus à son manifeste (modifiée après publication) : ",
        ),
        (r" \(not in the manifest\)", " (absent du manifeste)"),
        (r" \(missing from the store\)", " (absent du magasin de médias)"),
        (r" \(store file edited\)", " (fichier du magasin modifié)"),
        (r" \(missing\)", " (manquant)"),
        (r" \(edited\)", " (modifié)"),
        (r"(^|; )media ", r"\1média "),
        (
            r"^attachment name (.+) must be a relative path inside the release$",
            r"la pièce jointe \1 doit être un chemin relatif, dans la version",
        ),
        (
            r"^nothing to release: no pilot or operational item$",
            "rien à publier : aucun item pilote ou opérationnel",
        ),
        (r"^cannot attach (.+?): (.*)$", r"pièce jointe \1 impossible à copier : \2"),
        (
            r"^release metadata must be plain data: (.*)$",
            r"les métadonnées de la version doivent être des données simples : \1",
        ),
        # a parameter table against the release's items (itembank.parameters), one part of
        # the "; "-separated list each
        (r"(^|; )no parameters for ", r"\1pas de paramètres pour "),
        (r"(^|; )parameters for unknown items ", r"\1paramètres d'items inconnus : "),
        (
            r"(^|; )([^;]+?): a rubric item needs GRM or GPCM, not (\S+)",
            r"\1\2 : un item noté par grille demande GRM ou GPCM, pas \3",
        ),
        (
            r"(^|; )([^;]+?): a right/wrong item needs 2PL or 3PL, not (\S+)",
            r"\1\2 : un item juste/faux demande 2PL ou 3PL, pas \3",
        ),
        (
            r"(^|; )([^;]+?): (\d+) thresholds for a maximum score of (\d+)",
            r"\1\2 : \3 seuil(s) pour un score maximal de \4",
        ),
        (
            r"(^|; )([^;]+?): GRM thresholds must strictly increase to 4 decimals, got ",
            r"\1\2 : les seuils GRM doivent croître strictement (à 4 décimales), reçu ",
        ),
        (
            r"(^|; )([^;]+?): asymptotes must satisfy 0 <= c < d <= 1",
            r"\1\2 : les asymptotes doivent vérifier 0 ≤ c < d ≤ 1",
        ),
        # the parts of a list joined the French way
        (r"(?<! ); ", " ; "),
    )
)


def french(text: str) -> str:
    """``text`` in French when it is one of the item bank's known sentences, else unchanged."""
    out = text
    for pattern, replacement in _PATTERNS:
        out = pattern.sub(replacement, out)
    return out


def problem(message: str) -> str:
    """One ``(column, message)`` problem of :func:`itembank.parameters.row_problems` in French."""
    return french(f"_: {message}").removeprefix("_ : ")


__all__ = ["french", "problem"]
