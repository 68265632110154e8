"""A small but complete item bank, published as a real release, for the tablet's tests.

Every kind of item the tablet shows (pictures to choose, a text to read, a gap to fill, a form,
a message to write, an answer to say), in the three themes, with spoken instructions made by
espeak-ng and real Ogg/Opus files, published with :func:`itembank.publish_release` into a
temporary releases root. A short rules file keeps a whole test to about ten items.

The secrets of the bank (keys, accepted answers, rubrics, model answers, transcripts of the
listening texts, parameters) are listed by :func:`secrets_of` so that tests can check that
none of them ever reaches the tablet. Parameters are given explicitly with unusual decimals
(``1.2371``) so that they cannot appear on a page by chance.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

THEMES = ("vie pratique", "vie publique", "vie professionnelle")
VERSION = "2026.1.0"

RULES = {
    "version": "tablet-test",
    "sections": [
        {"skill": "CO", "min_items": 2, "max_items": 3},
        {"skill": "CE", "min_items": 2, "max_items": 3},
        {"skill": "EO", "min_items": 1, "max_items": 1},
        {"skill": "EE", "min_items": 2, "max_items": 2},
    ],
    "non_reader_skills": ["CO", "EO"],
    "themes": {"names": list(THEMES), "min_items": 1, "max_share": 1.0},
    "selection": {"method": "max_info"},
    "exposure": {"randomesque_k": 2},
    "stopping": {
        "se_target": 0.05,  # never reached: the test ends at the sections' maxima
        "classification": {"method": "none"},
        "min_items": 0,
        "max_items": 9,
        "time_limit_s": 3600,
    },
    "prior": {"mean": 0.0, "sd": 1.0, "borrow": True},
    "pretest": {"share": 0.0, "items": 0},
    "estimator": "eap",
}

_PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 80">'
    '<rect width="100" height="80" fill="#fff"/>{shape}</svg>'
)
_SHAPES = {
    "pharmacie": '<rect x="35" y="15" width="30" height="50" fill="#2a9d3f"/>'
    '<rect x="20" y="30" width="60" height="20" fill="#2a9d3f"/>',
    "gare": '<rect x="15" y="30" width="70" height="30" fill="#345"/>'
    '<circle cx="30" cy="65" r="8"/><circle cx="70" cy="65" r="8"/>',
    "ecole": '<path d="M10 40 L50 10 L90 40 Z" fill="#c33"/><rect x="20" y="40" width="60" '
    'height="35" fill="#eb5"/>',
    "mairie": '<rect x="20" y="25" width="60" height="50" fill="#ccd"/>'
    '<path d="M15 25 H85 L50 5 Z" fill="#558"/>',
}

#: Spoken sentences of the bank: instruction audio and listening texts.
_SPOKEN = {
    "media/instructions/ecoutez-touchez.ogg": "Écoutez. Touchez la bonne image.",
    "media/instructions/lisez-touchez.ogg": "Lisez. Touchez la bonne réponse.",
    "media/instructions/ecrivez-mot.ogg": "Lisez et écrivez le mot qui manque.",
    "media/instructions/remplissez.ogg": "Remplissez le formulaire.",
    "media/instructions/ecrivez-message.ogg": "Écrivez un petit message.",
    "media/instructions/parlez.ogg": "Parlez. Dites bonjour et votre nom.",
    "CO/ecoute-1.ogg": "Je vais à la pharmacie acheter des médicaments.",
    "CO/ecoute-2.ogg": "Le train pour Lyon part de la gare à huit heures.",
}

#: Phrases of secret content, checked against everything the tablet receives.
LISTENING_TRANSCRIPTS = {
    "CO/ecoute-1.ogg": "Je vais à la pharmacie acheter des médicaments.",
    "CO/ecoute-2.ogg": "Le train pour Lyon part de la gare à huit heures.",
}


def _say(text: str, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    wav = out.with_suffix(".wav")
    subprocess.run(["espeak-ng", "-v", "fr-fr", "-s", "150", "-w", str(wav), text], check=True)
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(wav),
            "-c:a",
            "libopus",
            "-b:a",
            "24k",
            str(out),
        ],
        check=True,
    )
    wav.unlink()


def _grm(a: float, b: float) -> dict[str, Any]:
    """GRM parameters of a 0..2 rubric item: two thresholds around ``b``."""
    return {"model": "GRM", "a": round(a, 4), "thresholds": [round(b - 0.6, 4), round(b + 0.6, 4)]}


def _history() -> list[dict[str, str]]:
    return [{"date": "2026-11-23", "author": "tests", "change": "création"}]


def _base(item_id: str, skill: str, kind: str, n: int, level: str, **more: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": item_id,
        "skill": skill,
        "type": kind,
        "theme": THEMES[n % 3],
        "topic": "tests",
        "target_level": level,
        "status": "operational",
        "author": "tests",
        "history": _history(),
    }
    data.update(more)
    return data


def _co_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    pictures = list(_SHAPES)
    for n in range(6):
        key = "abc"[n % 3]
        audio = "CO/ecoute-1.ogg" if n % 2 == 0 else "CO/ecoute-2.ogg"
        items.append(
            _base(
                f"CO-{n + 1:03d}",
                "CO",
                "listen_choose_picture",
                n,
                ("A1.1", "A1", "A2")[n % 3],
                non_reader=True,
                instruction={
                    "text": "Écoutez. Touchez la bonne image.",
                    "audio": "media/instructions/ecoutez-touchez.ogg",
                },
                stem={"audio": audio, "transcript": LISTENING_TRANSCRIPTS[audio]},
                choices=[
                    {
                        "id": cid,
                        "image": f"media/pictures/{pictures[(n + i) % 4]}.svg",
                        "label": f"image {pictures[(n + i) % 4]}",
                    }
                    for i, cid in enumerate("abc")
                ],
                key=key,
                parameters={"model": "2PL", "a": 1.2371 + n / 100, "b": -1.1373 + 0.4 * n},
            )
        )
    return items


def _ce_items() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for n in range(4):
        items.append(  # noqa: PERF401 - one readable item per iteration
            _base(
                f"CE-{n + 1:03d}",
                "CE",
                "read_choose",
                n,
                ("A1.1", "A1", "A2", "B1")[n],
                instruction={
                    "text": "Lisez. Touchez la bonne réponse.",
                    "audio": "media/instructions/lisez-touchez.ogg",
                },
                stem={"text": f"Panneau {n + 1} : Fermé le lundi.\nOuvert du mardi au samedi."},
                choices=[
                    {"id": "a", "text": "Le magasin est ouvert le lundi."},
                    {"id": "b", "text": "Le magasin est fermé le lundi."},
                    {"id": "c", "text": "Le magasin est fermé le samedi."},
                ],
                key="b",
                parameters={"model": "2PL", "a": 1.1417 + n / 100, "b": -0.9311 + 0.5 * n},
            )
        )
    for n in range(2):
        items.append(  # noqa: PERF401 - one readable item per iteration
            _base(
                f"CE-{n + 5:03d}",
                "CE",
                "gap_fill",
                n + 1,
                "A1",
                instruction={
                    "text": "Lisez et écrivez le mot qui manque.",
                    "audio": "media/instructions/ecrivez-mot.ogg",
                },
                stem={"text": "Le cabinet médical est ouvert du lundi au ____ ."},
                accepted=["vendredi"],
                parameters={"model": "2PL", "a": 1.3119 + n / 100, "b": -0.2213 + 0.3 * n},
            )
        )
    return items


def _rubric_speak() -> dict[str, Any]:
    return {
        "max_score": 2,
        "elements": [
            {"id": "salutation", "label": "salue poliment", "variants": ["bonjour", "bonsoir"]},
            {
                "id": "nom",
                "label": "donne son nom en phrase",
                "variants": ["je m'appelle {word}", "mon nom est {word}"],
            },
        ],
        "levels": [
            {"score": 0, "descriptor": "Aucun élément attendu entendu."},
            {"score": 1, "descriptor": "Un seul élément attendu entendu.", "min_elements": 1},
            {"score": 2, "descriptor": "Salutation et nom entendus.", "min_elements": 2},
        ],
        "min_words": 1,
        "model_answers": [
            {"text": "Bonjour, je m'appelle Amina.", "score": 2},
            {"text": "Bonjour.", "score": 1},
            {"text": "", "score": 0},
        ],
    }


def _eo_items() -> list[dict[str, Any]]:
    return [
        _base(
            f"EO-{n + 1:03d}",
            "EO",
            "speak_introduce",
            n,
            ("A1.1", "A1", "A2")[n],
            non_reader=True,
            instruction={
                "text": "Parlez. Dites bonjour et votre nom.",
                "audio": "media/instructions/parlez.ogg",
            },
            rubric=_rubric_speak(),
            time_limit_s=60,
            parameters=_grm(1.2083 + n / 100, -0.7717 + 0.5 * n),
        )
        for n in range(3)
    ]


def _ee_items() -> list[dict[str, Any]]:
    message_rubric = {
        "max_score": 2,
        "elements": [
            {"id": "salut", "label": "commence par saluer", "variants": ["bonjour", "salut"]},
            {
                "id": "absence",
                "label": "annonce son absence",
                "variants": ["je ne viens pas", "je suis malade", "absent"],
            },
        ],
        "levels": [
            {"score": 0, "descriptor": "Message vide ou hors sujet."},
            {"score": 1, "descriptor": "Un élément du message.", "min_elements": 1},
            {"score": 2, "descriptor": "Salutation et absence annoncée.", "min_elements": 2},
        ],
        "model_answers": [
            {"text": "Bonjour, je suis malade, je ne viens pas demain.", "score": 2},
            {"text": "", "score": 0},
        ],
    }
    form_rubric = {
        "max_score": 2,
        "elements": [
            {"id": "nom", "label": "nom rempli", "field": "nom"},
            {"id": "telephone", "label": "téléphone valable", "field": "telephone"},
        ],
        "levels": [
            {"score": 0, "descriptor": "Formulaire vide."},
            {"score": 1, "descriptor": "Une case bien remplie.", "min_elements": 1},
            {"score": 2, "descriptor": "Les deux cases bien remplies.", "min_elements": 2},
        ],
    }
    items = []
    for n in range(2):
        items.append(
            _base(
                f"EE-{n + 1:03d}",
                "EE",
                "write_message",
                n,
                ("A1", "A2")[n],
                instruction={
                    "text": "Écrivez un petit message.",
                    "audio": "media/instructions/ecrivez-message.ogg",
                },
                stem={"text": "Vous êtes malade. Écrivez à votre formateur."},
                rubric=message_rubric,
                parameters=_grm(1.1731 + n / 100, -0.5519 + 0.6 * n),
            )
        )
        items.append(
            _base(
                f"EE-{n + 3:03d}",
                "EE",
                "form_fill",
                n + 1,
                ("A1.1", "A1")[n],
                instruction={
                    "text": "Remplissez le formulaire.",
                    "audio": "media/instructions/remplissez.ogg",
                },
                form={
                    "fields": [
                        {"id": "nom", "label": "Nom", "check": "nonempty"},
                        {"id": "telephone", "label": "Téléphone", "check": "phone"},
                    ]
                },
                rubric=form_rubric,
                parameters=_grm(1.0929 + n / 100, -1.0421 + 0.4 * n),
            )
        )
    return items


def all_items() -> list[dict[str, Any]]:
    """The source items of the test bank."""
    return _co_items() + _ce_items() + _eo_items() + _ee_items()


def write_sources(bank: Path) -> Path:
    """Write the bank's sources (items, media, bank settings) under ``bank``."""
    bank.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).resolve().parents[2] / "itembank" / "bank" / "bank.yaml", bank)
    for rel, text in _SPOKEN.items():
        _say(text, bank / rel)
    for name, shape in _SHAPES.items():
        path = bank / "media" / "pictures" / f"{name}.svg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_PICTURE.format(shape=shape))
    for item in all_items():
        folder = bank / item["skill"]
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{item['id']}.yaml").write_text(
            yaml.safe_dump(item, allow_unicode=True, sort_keys=False)
        )
    return bank


def publish(base: Path) -> tuple[Path, Path]:
    """Build the test bank under ``base``; returns (releases root, rules file)."""
    import itembank

    sources = write_sources(base / "bank")
    root = base / "releases"
    itembank.publish_release(sources, version=VERSION, root=root, notes="tablet tests")
    rules = base / "rules.yaml"
    rules.write_text(yaml.safe_dump(RULES, allow_unicode=True, sort_keys=False))
    return root, rules


def secrets_of(items: list[dict[str, Any]] | None = None) -> set[str]:
    """Strings that must never reach the tablet: rubric content, accepted answers, transcripts,
    labels of pictures, parameter values."""
    found: set[str] = set()
    for item in items or all_items():
        found.update(item.get("accepted", []))
        found.update(
            LISTENING_TRANSCRIPTS.get((item.get("stem") or {}).get("audio", ""), "").split("\0")
        )
        rubric = item.get("rubric")
        if rubric:
            for element in rubric["elements"]:
                found.add(element["label"])
                found.update(element.get("variants", []))
            for level in rubric["levels"]:
                found.add(level["descriptor"])
            for answer in rubric.get("model_answers", []):
                found.add(answer["text"])
        for choice in item.get("choices", []):
            if choice.get("label"):
                found.add(choice["label"])
        for name, value in (item.get("parameters") or {}).items():
            values = value if isinstance(value, list) else [value]
            if name != "model":
                found.update(f"{v:.4f}".rstrip("0") for v in values)
    found.discard("")
    return found
