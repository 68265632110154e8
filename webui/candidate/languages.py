"""The candidate's languages: the tablet's own words in the language the auditeur chose.

``translations/languages.yaml`` lists the languages (code, name in the language and in French,
writing direction, espeak-ng voice or none); ``translations/<code>.yaml`` holds one language's
sentences, refusals and labels under the keys of :mod:`webui.candidate.texts`, with its review
status ("to be reviewed by a native speaker" until someone does). The items are the test and stay
in French; everything else the tablet says is shown and spoken in the candidate's language, then
in French. A language without an espeak-ng voice is shown in writing and spoken in French only.

Raises :class:`LanguageDataError` when a file is missing or malformed (checked by the tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

__all__ = [
    "TRANSLATIONS",
    "Language",
    "LanguageDataError",
    "get_language",
    "languages",
    "placeholders",
    "spoken_sentences",
]

#: Where the language list and the translation files are.
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

_CODE = re.compile(r"^[a-z]{2,3}$")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


class LanguageDataError(ValueError):
    """The language list or a translation file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class Language:
    """One candidate language and the tablet's words in it."""

    code: str  # ISO 639 code, also the HTML ``lang``
    name: str  # in the language itself, for the auditeur's list
    name_fr: str  # in French
    rtl: bool  # written right to left (Arabic, Persian, Pashto, Urdu)
    voice: str | None  # espeak-ng voice; None: shown only, spoken in French
    review: str  # "to be reviewed by a native speaker" until a native speaker has
    texts: Mapping[str, str]
    refusals: Mapping[str, str]
    labels: Mapping[str, str]

    @property
    def dir(self) -> str:
        """The HTML ``dir`` of a block in this language."""
        return "rtl" if self.rtl else "ltr"

    def spoken_before(self, translation: str | None) -> list[tuple[str, str]]:
        """The (voice, text) said before the French: the translation, if this voice exists."""
        return [(self.voice, translation)] if self.voice and translation else []


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders of a sentence (a translation keeps the same ones)."""
    return set(_PLACEHOLDER.findall(text))


def _section(data: Mapping[str, object], name: str, path: Path) -> dict[str, str]:
    section = data.get(name) or {}
    if not isinstance(section, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in section.items()
    ):
        raise LanguageDataError(f"{path.name}: '{name}' must map keys to sentences")
    return dict(section)


@lru_cache(maxsize=4)
def languages(root: Path = TRANSLATIONS) -> dict[str, Language]:
    """Every listed language by code, in the list's order (read once per process)."""
    listing = root / "languages.yaml"
    try:
        data = yaml.safe_load(listing.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise LanguageDataError(f"{listing}: {error}") from error
    entries = data.get("languages") if isinstance(data, Mapping) else None
    if not isinstance(entries, list):
        raise LanguageDataError(f"{listing}: a 'languages' list is needed")
    found: dict[str, Language] = {}
    for entry in entries:
        code = str(entry.get("code", "")) if isinstance(entry, Mapping) else ""
        if not _CODE.match(code) or code == "fr" or code in found:
            raise LanguageDataError(f"{listing}: bad or repeated language code {code!r}")
        path = root / f"{code}.yaml"
        try:
            words = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise LanguageDataError(f"{path}: {error}") from error
        if not isinstance(words, Mapping) or words.get("language") != code:
            raise LanguageDataError(f"{path.name}: 'language: {code}' is needed")
        voice = entry.get("voice")
        found[code] = Language(
            code=code,
            name=str(entry["name"]),
            name_fr=str(entry["name_fr"]),
            rtl=entry.get("dir", "ltr") == "rtl",
            voice=str(voice) if voice else None,
            review=str(words.get("review", "")),
            texts=_section(words, "texts", path),
            refusals=_section(words, "refusals", path),
            labels=_section(words, "labels", path),
        )
    return found


def get_language(code: str | None) -> Language | None:
    """The listed language of this code; None for French only, or a code no longer listed."""
    if not code:
        return None
    return languages().get(code)


def spoken_sentences(
    retention_days: int, codes: Iterator[str] | list[str] | None = None
) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """Every sentence the tablet may speak: (French, parts said before it), French alone first.

    ``codes`` limits the languages (default: every listed one). The consent's ``{days}`` is
    filled with ``retention_days``, as the app does.
    """
    from webui.candidate.texts import REFUSALS, TEXTS

    sources = [("texts", key, text) for key, text in TEXTS.items()]
    sources += [("refusals", key, text) for key, text in REFUSALS.items()]
    chosen = [languages()[code] for code in codes] if codes is not None else languages().values()
    for _section_name, _key, text in sources:
        yield text.format(days=retention_days), []
    for lang in chosen:
        for section_name, key, text in sources:
            translation = getattr(lang, section_name).get(key)
            before = lang.spoken_before(
                translation.format(days=retention_days) if translation else None
            )
            if before:
                yield text.format(days=retention_days), before
