"""The speech synthesis script, run for real with espeak-ng and ffmpeg on a tiny bank."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from itembank.tools import synth
from itembank.tools.errors import ToolError


def _probe(path: Path) -> dict[str, float | str | int]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_entries",
         "format=duration,format_name:stream=codec_name,channels", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    data = json.loads(out)
    return {
        "duration_s": float(data["format"]["duration"]),
        "format": data["format"]["format_name"],
        "codec": data["streams"][0]["codec_name"],
        "channels": data["streams"][0]["channels"],
    }


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Le bus part à 8 h 30.", "Le bus part à 8 heures 30."),
        ("Rendez-vous à 14h15.", "Rendez-vous à 14 heures 15."),
        ("Ouvert à 1 h.", "Ouvert à 1 heure."),
        ("Ça coûte 12,50 €.", "Ça coûte 12 euros 50."),
        ("Un ticket : 1 €.", "Un ticket : 1 euro."),
        ("Au 2e étage.", "Au deuxième étage."),
        ("M. Diallo et Mme Koné", "monsieur Diallo et madame Koné"),
        ("Allez à la CPAM avec votre RIB.", "Allez à la C P A M avec votre R I B."),
        ("Le SAMU, la CAF", "Le SAMU, la CAF"),
        ("n° 12", "numéro 12"),
    ],
)
def test_speech_text_reads_times_prices_and_acronyms(written: str, spoken: str) -> None:
    assert synth.speech_text(written) == spoken


def test_dialogue_turns_split_speakers_and_join_continuations() -> None:
    turns = synth.dialogue_turns("A: Bonjour.\nB: Bonjour madame,\ncomment allez-vous ?\nA: Bien.")
    assert turns == [
        ("A", "Bonjour."),
        ("B", "Bonjour madame, comment allez-vous ?"),
        ("A", "Bien."),
    ]
    assert synth.dialogue_turns("Je vais à la pharmacie.\nPuis à la gare.") is None


def test_dialogue_speakers_get_two_genders_and_declared_ones_are_kept() -> None:
    for item_id in (f"CO-{n:03d}" for n in range(1, 40)):
        genders = synth.speaker_genders(item_id, None)
        assert genders["A"] != genders["B"]
    assert synth.speaker_genders("CO-001", {"B": "female"}) == {"A": "male", "B": "female"}
    segments = synth.listening_segments("CO-007", "A1", "J'ai mal.", {"A": "female"})
    assert segments[0].voice in synth.FEMALE_VOICES
    with pytest.raises(ToolError, match="expected A/B"):
        synth.speaker_genders("CO-001", {"C": "female"})


def test_voice_and_speed_are_deterministic_and_slower_for_lower_levels() -> None:
    first = synth.listening_segments("CO-010", "B1", "Bonjour.")
    assert synth.listening_segments("CO-010", "B1", "Bonjour.") == first
    speeds = {
        level: [synth.listening_segments(f"CO-{n:03d}", level, "x")[0].speed_wpm for n in range(30)]
        for level in synth.SPEED_WPM
    }
    assert max(speeds["A1.1"]) < min(speeds["A2"])
    assert max(speeds["A1"]) < min(speeds["B1"])
    assert all(130 <= s <= 165 for s in speeds["B1"] + speeds["A2"])


def test_run_makes_every_named_file_once_as_opus(dialogue_bank: Path) -> None:
    made = synth.run(dialogue_bank, jobs=2)
    # one shared instruction, two stems, two spoken choices (CO-002's choices have no audio)
    assert made == 5
    dialogue = _probe(dialogue_bank / "CO/CO-001.ogg")
    single = _probe(dialogue_bank / "CO/CO-002.ogg")
    assert dialogue["format"] == "ogg"
    assert dialogue["codec"] == "opus"
    assert dialogue["channels"] == 1
    # two turns with a pause are longer than one short sentence, and both last a few seconds
    assert 3.0 < float(dialogue["duration_s"]) < 12.0
    assert 1.0 < float(single["duration_s"]) < float(dialogue["duration_s"])
    record = yaml.safe_load((dialogue_bank / "voices.yaml").read_text())
    voices = {s["voice"] for s in record["files"]["CO/CO-001.ogg"]["segments"]}
    assert len(voices) == 2
    assert record["files"]["media/choices/CO-001-a.ogg"]["segments"][0]["text"] == "À 8 h 30."


def test_second_run_makes_nothing_and_a_changed_text_is_made_again(
    dialogue_bank: Path, write_item: Callable[..., Path]
) -> None:
    synth.run(dialogue_bank)
    before = (dialogue_bank / "CO/CO-001.ogg").stat().st_mtime_ns
    assert synth.run(dialogue_bank) == 0
    write_item(
        "CO-002",
        stem={"audio": "CO/CO-002.ogg", "transcript": "Je vais à la boulangerie."},
        choices=[{"id": "a", "text": "La boulangerie."}, {"id": "b", "text": "La gare."}],
        key="a",
    )
    assert synth.run(dialogue_bank) == 1
    assert (dialogue_bank / "CO/CO-001.ogg").stat().st_mtime_ns == before
    record = yaml.safe_load((dialogue_bank / "voices.yaml").read_text())
    assert record["files"]["CO/CO-002.ogg"]["segments"][0]["text"] == "Je vais à la boulangerie."


def test_a_deleted_file_is_made_again_and_force_remakes_all(dialogue_bank: Path) -> None:
    synth.run(dialogue_bank)
    (dialogue_bank / "CO/CO-002.ogg").unlink()
    assert synth.run(dialogue_bank) == 1
    assert synth.run(dialogue_bank, force=True) == 5


def test_declared_speakers_survive_the_script_rewriting_voices_yaml(dialogue_bank: Path) -> None:
    (dialogue_bank / "voices.yaml").write_text("speakers:\n  CO-002:\n    A: male\nfiles: {}\n")
    synth.run(dialogue_bank)
    record = yaml.safe_load((dialogue_bank / "voices.yaml").read_text())
    assert record["speakers"] == {"CO-002": {"A": "male"}}
    assert record["files"]["CO/CO-002.ogg"]["segments"][0]["voice"] in synth.MALE_VOICES


def test_prune_removes_files_no_item_names(
    dialogue_bank: Path, write_item: Callable[..., Path]
) -> None:
    synth.run(dialogue_bank)
    write_item("CO-002", stem={"audio": "CO/CO-002-v2.ogg", "transcript": "Je vais à la gare."})
    synth.run(dialogue_bank, prune=True)
    assert not (dialogue_bank / "CO/CO-002.ogg").exists()
    assert (dialogue_bank / "CO/CO-002-v2.ogg").exists()
    record = yaml.safe_load((dialogue_bank / "voices.yaml").read_text())
    assert "CO/CO-002.ogg" not in record["files"]


def test_a_file_named_for_two_texts_is_reported_and_the_rest_is_made(
    dialogue_bank: Path, write_item: Callable[..., Path]
) -> None:
    write_item(
        "CE-001",
        instruction={
            "text": "Lisez. Touchez la bonne réponse.",
            "audio": "media/instructions/ecoutez-touchez-la-bonne-reponse.ogg",
        },
    )
    with pytest.raises(ToolError, match="1 item problem"):
        synth.run(dialogue_bank)
    assert not (dialogue_bank / "media/instructions/ecoutez-touchez-la-bonne-reponse.ogg").exists()
    assert (dialogue_bank / "CO/CO-001.ogg").exists()


def test_command_line_reports_an_unreadable_item_and_exits_non_zero(
    write_item: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    bank = write_item("CE-001")
    (bank / "CE" / "CE-002.yaml").write_text("id: [unclosed\n")
    assert synth.main(["--bank", str(bank)]) == 1
    err = capsys.readouterr().err
    assert "CE-002.yaml: cannot read" in err
    assert (bank / "media/instructions/ecoutez-touchez-la-bonne-reponse.ogg").exists()


def test_recorded_files_are_never_remade_nor_pruned(dialogue_bank: Path) -> None:
    synth.run(dialogue_bank)
    human = b"a recording made by a person"
    (dialogue_bank / "CO/CO-002.ogg").write_bytes(human)
    record = yaml.safe_load((dialogue_bank / "voices.yaml").read_text())
    record["recorded"] = ["CO/CO-002.ogg"]
    del record["files"]["CO/CO-002.ogg"]
    (dialogue_bank / "voices.yaml").write_text(yaml.safe_dump(record, allow_unicode=True))
    assert synth.run(dialogue_bank, force=True, prune=True) == 4
    assert (dialogue_bank / "CO/CO-002.ogg").read_bytes() == human
    assert yaml.safe_load((dialogue_bank / "voices.yaml").read_text())["recorded"] == [
        "CO/CO-002.ogg"
    ]
