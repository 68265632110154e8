"""Normalisation and fuzzy matching of French answers against rubric variants.

The rules are those of ``itembank/FORMAT.md``: lower case, elisions split (``j'ai`` → ``j ai``),
numbers said or written as words turned into digits with text2num (``trente-deux`` → ``32``),
accents folded, punctuation removed, fillers dropped. A variant is found when its words appear in
order in the answer, each word equal or within a small edit distance, with at most
:data:`MAX_GAP` extra words between two of them; ``{number}`` matches one number (digits or a
number word), ``{word}`` any one word. Words that speech recognition splits or joins
(``rendez vous`` / ``rendezvous``) are caught by comparing the joined letters of a window.

Similarities are in [0, 1]: 1 for an exact match, the normalised Indel similarity of the joined
letters (rapidfuzz) otherwise.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

NUMBER = "{number}"
WORD = "{word}"
PLACEHOLDERS = frozenset({NUMBER, WORD})
#: Words that carry no content in speech (and in typed chat-like answers).
FILLERS = frozenset(
    {"euh", "euhm", "heu", "hum", "hmm", "mmh", "mm", "hm", "ben", "bah", "beh", "hein", "bof"}
)
# "m" (elided "me") and "eu" (had) are words, not fillers: hesitations are longer
_FILLER_RE = re.compile(r"^(e+u+h+|e+u{2,}h*|h+e+u+h*|h+m+|m{2,}h*|m+h+|u+h+m*)$")


#: Number words that text2num leaves as words when they stand alone (``un``, ``deux``...).
def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


NUMBER_WORDS = _wordset(
    "zero un une deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze "
    "quinze seize vingt trente quarante cinquante soixante cent mille"
)
#: Extra words allowed between two consecutive words of a variant.
MAX_GAP = 1
#: Below this similarity of joined letters a window is not the variant.
JOINED_MATCH = 0.86
#: Variants shorter than this (letters) are never matched by joined letters.
JOINED_MIN_LETTERS = 8
#: From this similarity up, a variant that was not found is a near miss (a borderline sign).
NEAR_MISS = 0.72

#: "8h30", "14h", "8 h30": hours and minutes as separate tokens ("8 h 30").
_TIME_RE = re.compile(r"\b(\d{1,2}) ?h(?![a-z]) ?(\d{2}\b)?")
_TOKEN_RE = re.compile(r"\{number\}|\{word\}|[a-z0-9]+")
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "´": "'"})


def _fold(text: str) -> str:
    """Accents folded, ligatures opened (œ → oe); letters of other scripts are dropped later."""
    text = text.replace("œ", "oe").replace("æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=4096)
def _numbers_to_digits(text: str) -> str:
    from text_to_num import alpha2digit

    try:
        return str(alpha2digit(text, "fr"))
    except (ValueError, IndexError, KeyError):  # text2num is strict on odd sequences
        return text


def is_filler(token: str) -> bool:
    """True for hesitations that carry no content (``euh``, ``hum``, ``ben``...)."""
    return token in FILLERS or bool(_FILLER_RE.match(token))


@lru_cache(maxsize=8192)
def normalise(text: str) -> tuple[str, ...]:
    """The tokens of ``text`` after the FORMAT.md normalisation (placeholders are kept)."""
    text = text.lower().translate(_APOSTROPHES).replace("'", " ")
    placeholders = {"{number}": " zzplnumberzz ", "{word}": " zzplwordzz "}
    for key, value in placeholders.items():
        text = text.replace(key, value)
    text = _numbers_to_digits(text)
    # "8 h 30" and "8h30" are the same time; hyphens join words that speech splits
    text = _TIME_RE.sub(r"\1 h \2", _fold(text).replace("-", " "))
    text = text.replace("zzplnumberzz", NUMBER).replace("zzplwordzz", WORD)
    return tuple(t for t in _TOKEN_RE.findall(text) if not is_filler(t))


def normalised_text(text: str) -> str:
    """The normalised tokens joined by single spaces: what rubric ``patterns`` are applied to."""
    return " ".join(normalise(text))


def is_number(token: str) -> bool:
    """True for a number in digits or a number word text2num left alone."""
    return token.isdigit() or token in NUMBER_WORDS


def allowed_edits(word: str) -> int:
    """Edits tolerated in a word of this length: none up to 4 letters, 1 up to 7, then 2.

    French has too many short minimal pairs (``suis``/``puis``, ``fils``/``file``) to forgive
    an edit in a word of four letters.
    """
    if len(word) <= 4 or word.isdigit():
        return 0
    return 1 if len(word) <= 7 else 2


def word_matches(token: str, expected: str) -> bool:
    """True when ``token`` is ``expected`` (a word or a placeholder) up to a small misspelling."""
    if expected == WORD:
        return True
    if expected == NUMBER:
        return is_number(token)
    if token == expected:
        return True
    limit = allowed_edits(expected)
    return limit > 0 and Levenshtein.distance(token, expected, score_cutoff=limit) <= limit


@dataclass(frozen=True, slots=True)
class Match:
    """Where a variant was found: the answer's token positions, and how close (1 = exact)."""

    variant: str
    positions: tuple[int, ...]
    similarity: float


def _ordered_match(tokens: Sequence[str], expected: Sequence[str]) -> tuple[int, ...] | None:
    """Positions of ``expected``'s words in order in ``tokens`` (gaps ≤ MAX_GAP), or None."""
    n = len(tokens)
    for start in range(n):
        if not word_matches(tokens[start], expected[0]):
            continue
        positions = [start]
        for word in expected[1:]:
            last = positions[-1]
            nxt = next(
                (
                    k
                    for k in range(last + 1, min(n, last + 2 + MAX_GAP))
                    if word_matches(tokens[k], word)
                ),
                None,
            )
            if nxt is None:
                break
            positions.append(nxt)
        else:
            return tuple(positions)
    return None


def _joined_similarity(
    tokens: Sequence[str], expected: Sequence[str], *, resized_only: bool = False
) -> tuple[float, tuple[int, ...]]:
    """Best similarity of the joined letters of a window of ``tokens`` against ``expected``.

    Windows are as long as ``expected``, give or take one word when it has no placeholder
    (``resized_only``: only those one word longer or shorter, where recognisers split or join
    words); placeholders take the window's token at their place.
    """
    m = len(expected)
    has_placeholder = any(w in PLACEHOLDERS for w in expected)
    if has_placeholder:
        sizes = [] if resized_only else [m]
    else:
        sizes = [m - 1, m + 1] if resized_only else [m - 1, m, m + 1]
    best, where = 0.0, tuple[int, ...]()
    for size in sizes:
        if size < 1 or size > len(tokens):
            continue
        for start in range(len(tokens) - size + 1):
            window = tokens[start : start + size]
            target = [
                window[i] if w in PLACEHOLDERS and i < size else w for i, w in enumerate(expected)
            ]
            if any(w == NUMBER for w in expected) and not all(
                is_number(window[i]) for i, w in enumerate(expected) if w == NUMBER
            ):
                continue
            score = fuzz.ratio("".join(window), "".join(target)) / 100.0
            if score > best:
                best, where = score, tuple(range(start, start + size))
    return best, where


def find_variant(tokens: Sequence[str], variant: str) -> tuple[Match | None, float]:
    """The match of ``variant`` in the normalised ``tokens`` (or None), and its best similarity.

    The similarity of a variant that is not found tells how near it came (for near misses).
    """
    expected = normalise(variant)
    if not expected or not tokens:
        return None, 0.0
    positions = _ordered_match(tokens, expected)
    if positions is not None:
        exact = all(
            e in PLACEHOLDERS or tokens[p] == e for p, e in zip(positions, expected, strict=True)
        )
        similarity = 1.0 if exact else _joined_similarity(tokens, expected)[0]
        return Match(variant, positions, max(similarity, JOINED_MATCH)), 1.0
    # words split or joined by the recogniser ("rendez vous" / "rendezvous"): long variants only,
    # so that "a table" is not found in "la table"
    letters = sum(len(w) for w in expected)
    resized, where = _joined_similarity(tokens, expected, resized_only=True)
    if letters >= JOINED_MIN_LETTERS and resized >= JOINED_MATCH:
        return Match(variant, where, resized), resized
    return None, max(resized, _joined_similarity(tokens, expected)[0])


# -- language ------------------------------------------------------------------------------

_FRENCH = _wordset(
    "le la les un une des je j tu il elle nous vous ils elles est suis ai as et ou mais "
    "pas ne n de du au aux dans pour avec sur ce cette c mon ma mes ton ta son sa bonjour "
    "merci oui non moi m appelle habite travaille voudrais veux sont avez qui que quoi "
    "quand comment pourquoi chez tres bien aussi y etait avait fait peux parce ecole "
    "madame monsieur je suis depuis demain hier aujourd hui rendez vous travail enfants"
)
#: Words of both French and a neighbour language: they prove nothing either way.
_SHARED = _wordset("a on me se en te la de no si con come sale dire mi ma son")
#: French words that neighbour languages share (folded): no evidence for nor against French.
SHARED_WORDS = _SHARED
#: French function and common words that no neighbour language shares (folded).
FRENCH_FUNCTION_WORDS = _FRENCH - _SHARED
_FOREIGN = _wordset(
    # English, Spanish, Portuguese, Italian, German function and common words, not French words
    "the an i you he she we they is am are was were be been and or but not of to for with "
    "this that these my your his her our their hello hi thank thanks yes have has had what "
    "where when why how who name from please at all speak don do does did can could would "
    "will should english french there here it its in by about because want need my me "
    "dear sir madam sorry "
    "el los las lo soy estoy y pero por para hola gracias tengo es muy una uno del al "
    "creo hay esta este como mas porque donde "
    "eu sou obrigado tenho meu minha voce um uma os das dos nao sim com estao eles "
    "io sono ciao grazie ho il della che non sei questo "
    "ich bin und nicht ist mein hallo danke ein eine der die das"
)


def language_counts(text: str) -> tuple[float, int, int]:
    """(share of Latin letters, French function words, foreign function words) of ``text``."""
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if _fold(c).isascii()) / len(letters) if letters else 1.0
    words = re.findall(r"[a-z]+", _fold(text.lower().translate(_APOSTROPHES)))
    french = sum(w in _FRENCH and w not in _SHARED for w in words)
    foreign = sum(w in _FOREIGN and w not in _FRENCH and w not in _SHARED for w in words)
    return latin, french, foreign


def surely_foreign(text: str, min_foreign: int = 3) -> bool:
    """True when ``text`` is in another script, or has ``min_foreign`` foreign function words
    and no French one."""
    latin, french, foreign = language_counts(text)
    return latin < 0.5 or (foreign >= min_foreign and french == 0)


def language_flags(text: str) -> tuple[str, ...]:
    """``("not_french",)`` when ``text`` is written in another language or script, else ``()``.

    A light check for typed answers (speech is checked by the speech model's language
    identification): letters of another script, or more foreign than French function words.
    """
    letters = [c for c in text if c.isalpha()]
    if letters:
        latin = sum(1 for c in letters if _fold(c).isascii())
        if latin / len(letters) < 0.5:
            return ("not_french",)
    words = re.findall(r"[a-z]+", _fold(text.lower().translate(_APOSTROPHES)))
    if len(words) < 3:
        return ()
    french = sum(w in _FRENCH and w not in _SHARED for w in words)
    foreign = sum(w in _FOREIGN and w not in _FRENCH and w not in _SHARED for w in words)
    return ("not_french",) if foreign >= 2 and foreign > french else ()
