"""Fixtures for the item bank's tests: a small real bank (real Ogg/Opus audio made with espeak-ng
and ffmpeg, real SVG pictures) written into a temporary folder, item by item, so that each test
can break exactly one thing.
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

BANK_SETTINGS = Path(__file__).parents[2] / "itembank" / "bank" / "bank.yaml"

SPOKEN = {
    "media/instructions/ecoutez-touchez-l-image.ogg": "Écoutez. Touchez la bonne image.",
    "media/instructions/lisez-et-choisissez.ogg": "Lisez et choisissez la bonne réponse.",
    "media/instructions/presentez-vous.ogg": "Bonjour ! Dites votre nom et votre âge.",
    "media/instructions/ecrivez-un-message.ogg": "Écrivez un message à votre voisin.",
    "CO/CO-001.ogg": "Bonjour, je vais à la pharmacie acheter des médicaments.",
    "CO/CO-002.ogg": "Le bus numéro trois part à huit heures trente.",
    "media/choices/pharmacie.ogg": "la pharmacie",
}
SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">'
    '<rect x="10" y="10" width="80" height="80" fill="none" stroke="black"/>'
    '<text x="50" y="55" text-anchor="middle">{label}</text></svg>\n'
)
PICTURES = ("pharmacie", "boulangerie", "gare", "marche")


def _say(text: str, target: Path, voice: str = "fr-fr") -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    wav = target.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "libopus", "-b:a", "24k",
         str(target)],
        check=True,
    )  # fmt: skip
    wav.unlink()


@pytest.fixture(scope="session")
def media_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Real media for the fixture banks, made once per test session."""
    root = tmp_path_factory.mktemp("media-source")
    for rel, text in SPOKEN.items():
        _say(text, root / rel)
    for name in PICTURES:
        path = root / "media" / "pictures" / f"{name}.svg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SVG.format(label=name))
    # a WAV under an .ogg name: decodes, but is not Ogg/Opus
    wav = root / "not-opus.ogg"
    subprocess.run(["espeak-ng", "-v", "fr-fr", "-w", str(wav), "Bonjour"], check=True)
    return root


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A decode cache for this test session only."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def isolated_decode_cache(session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Audio is decoded for real in every test session: nothing is remembered from an earlier
    run. Within a session the cache (by content hash; failures are never cached) spares decoding
    the same fixture file again; a test that breaks a file gives it a new hash."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(session_cache))


def base_items() -> dict[str, dict[str, Any]]:
    """One valid item of each kind, as YAML data (fresh copies every call)."""
    history = [{"date": "2026-11-23", "author": "tests", "change": "création"}]
    common = {"status": "operational", "author": "tests", "history": history}
    listen = {"text": "Écoutez. Touchez la bonne image.",
              "audio": "media/instructions/ecoutez-touchez-l-image.ogg"}  # fmt: skip
    read = {"text": "Lisez et choisissez la bonne réponse.",
            "audio": "media/instructions/lisez-et-choisissez.ogg"}  # fmt: skip
    rubric_3 = {
        "max_score": 2,
        "elements": [
            {"id": "nom", "label": "dit son nom", "variants": ["je m'appelle {word}"]},
            {"id": "age", "label": "dit son âge", "variants": ["j'ai {number} ans"]},
        ],
        "levels": [
            {"score": 0, "descriptor": "Pas de réponse."},
            {"score": 1, "descriptor": "Un élément.", "min_elements": 1},
            {"score": 2, "descriptor": "Les deux.", "min_elements": 2, "requires": ["nom"]},
        ],
        "model_answers": [
            {"text": "Je m'appelle Amina, j'ai trente ans.", "score": 2},
            {"text": "", "score": 0},
        ],
    }
    items = {
        "CO-001": {
            "id": "CO-001", "skill": "CO", "type": "listen_choose_picture",
            "theme": "vie pratique", "topic": "santé", "target_level": "A1.1",
            "non_reader": True, **common,
            "instruction": listen,
            "stem": {"audio": "CO/CO-001.ogg",
                     "transcript": "Bonjour, je vais à la pharmacie acheter des médicaments."},
            "choices": [
                {"id": "a", "image": "media/pictures/pharmacie.svg", "label": "la pharmacie",
                 "audio": "media/choices/pharmacie.ogg"},
                {"id": "b", "image": "media/pictures/boulangerie.svg", "label": "la boulangerie"},
                {"id": "c", "image": "media/pictures/gare.svg", "label": "la gare"},
            ],
            "key": "a",
            "enemies": ["CO-002"],
        },
        "CO-002": {
            "id": "CO-002", "skill": "CO", "type": "true_false_not_said",
            "theme": "vie publique", "topic": "transport", "target_level": "A2", **common,
            "instruction": listen,
            "stem": {"audio": "CO/CO-002.ogg",
                     "transcript": "Le bus numéro trois part à huit heures trente."},
            "choices": [
                {"id": "vrai", "text": "Vrai"}, {"id": "faux", "text": "Faux"},
                {"id": "on_ne_sait_pas", "text": "On ne sait pas"},
            ],
            "key": "vrai",
            "time_limit_s": 60,
        },
        "CE-001": {
            "id": "CE-001", "skill": "CE", "type": "read_choose", "theme": "vie professionnelle",
            "topic": "travail", "target_level": "A1", **common,
            "instruction": read,
            "stem": {"text": "Magasin fermé le lundi.\nOuvert du mardi au samedi, 9 h – 19 h.\n",
                     "image": "media/pictures/marche.svg"},
            "choices": [
                {"id": "a", "text": "Le magasin est ouvert le lundi."},
                {"id": "b", "text": "Le magasin est fermé le lundi."},
            ],
            "key": "b",
        },
        "CE-002": {
            "id": "CE-002", "skill": "CE", "type": "gap_fill", "theme": "vie pratique",
            "target_level": "B1", **common,
            "instruction": read,
            "stem": {"text": "Le cabinet médical est ouvert du lundi au ____ ."},
            "accepted": ["vendredi", "samedi"],
            "typo_tolerance": 1,
        },
        "EO-001": {
            "id": "EO-001", "skill": "EO", "type": "speak_introduce", "theme": "vie pratique",
            "target_level": "A1.1", "non_reader": True, **common,
            "instruction": {"text": "Bonjour ! Dites votre nom et votre âge.",
                            "audio": "media/instructions/presentez-vous.ogg"},
            "rubric": rubric_3,
            "time_limit_s": 45,
        },
        "EE-001": {
            "id": "EE-001", "skill": "EE", "type": "write_message", "theme": "vie publique",
            "target_level": "A2", **common,
            "instruction": {"text": "Écrivez un message à votre voisin.",
                            "audio": "media/instructions/ecrivez-un-message.ogg"},
            "rubric": {
                "max_score": 3,
                "elements": [
                    {"id": "salut", "label": "salue", "variants": ["bonjour", "salut"]},
                    {"id": "raison", "label": "dit pourquoi", "variants": ["parce que"]},
                    {"id": "fin", "label": "signe", "patterns": ["\\bmerci\\b"]},
                ],
                "levels": [
                    {"score": 0, "descriptor": "Rien."},
                    {"score": 1, "descriptor": "Un élément.", "min_elements": 1},
                    {"score": 2, "descriptor": "Deux.", "min_elements": 2},
                    {"score": 3, "descriptor": "Tout.", "min_elements": 3},
                ],
                "min_words": 3,
            },
        },
        "EE-002": {
            "id": "EE-002", "skill": "EE", "type": "form_fill", "theme": "vie publique",
            "target_level": "A1.1", **common,
            "instruction": {"text": "Écrivez un message à votre voisin.",
                            "audio": "media/instructions/ecrivez-un-message.ogg"},
            "form": {"fields": [
                {"id": "nom", "label": "Nom", "check": "nonempty"},
                {"id": "telephone", "label": "Téléphone", "check": "phone"},
            ]},
            "rubric": {
                "max_score": 2,
                "elements": [
                    {"id": "nom", "label": "nom", "field": "nom"},
                    {"id": "tel", "label": "téléphone", "field": "telephone"},
                ],
                "levels": [
                    {"score": 0, "descriptor": "Rien."},
                    {"score": 1, "descriptor": "Un champ.", "min_elements": 1},
                    {"score": 2, "descriptor": "Les deux.", "min_elements": 2},
                ],
            },
        },
    }  # fmt: skip
    return copy.deepcopy(items)


def write_item(root: Path, data: dict[str, Any], name: str | None = None) -> Path:
    """Write one item's YAML into a bank (``<skill>/<id>.yaml`` unless ``name`` is given)."""
    path = root / (name or f"{data['skill']}/{data['id']}.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


MakeBank = Callable[..., Path]


@pytest.fixture
def make_bank(tmp_path: Path, media_source: Path) -> MakeBank:
    """Factory: ``make_bank(items=None, name="bank") -> Path`` writes a complete valid bank
    (the base items, or the given item data) with its media and ``bank.yaml``.
    """

    def make(items: dict[str, dict[str, Any]] | None = None, name: str = "bank") -> Path:
        root = tmp_path / name
        shutil.copytree(media_source, root, ignore=shutil.ignore_patterns("not-opus.ogg"))
        shutil.copyfile(BANK_SETTINGS, root / "bank.yaml")
        for skill in ("CO", "CE", "EO", "EE"):
            (root / skill).mkdir(exist_ok=True)
        for data in (base_items() if items is None else items).values():
            write_item(root, data)
        return root

    return make
