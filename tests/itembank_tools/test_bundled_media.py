"""The bundled bank's audio is what its items say: made, up to date, and of a plausible length."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml

from itembank.tools import synth

BANK = Path(__file__).parents[2] / "itembank" / "bank"


def test_every_named_audio_file_is_committed_and_up_to_date() -> None:
    record = synth.VoiceRecord(BANK / synth.VOICES_FILE)
    jobs, problems = synth.collect_jobs(BANK, record.speakers)
    assert problems == []
    stale = [
        job.target
        for job in jobs
        if not record.is_recorded(job, BANK) and not record.is_current(job, BANK)
    ]
    assert stale == [], "run: .venv/bin/python -m itembank.tools.synth"


def test_declared_speakers_name_existing_listening_items() -> None:
    record = synth.VoiceRecord(BANK / synth.VOICES_FILE)
    for item_id, speakers in record.speakers.items():
        source = BANK / item_id[:2] / f"{item_id}.yaml"
        assert source.is_file(), item_id
        item = yaml.safe_load(source.read_text(encoding="utf-8"))
        assert (item.get("stem") or {}).get("transcript"), item_id
        assert set(speakers) <= {"A", "B"}, item_id


def test_listening_texts_last_as_long_as_their_words_need() -> None:
    rates: dict[str, list[float]] = {level: [] for level in synth.SPEED_WPM}
    for source in sorted(BANK.glob("CO/*.yaml")):
        item = yaml.safe_load(source.read_text(encoding="utf-8"))
        audio = BANK / item["stem"]["audio"]
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-of", "json", "-show_entries",
             "format=duration,format_name:stream=codec_name,channels", str(audio)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        data = json.loads(probe.stdout)
        assert data["format"]["format_name"] == "ogg", audio
        assert data["streams"][0]["codec_name"] == "opus", audio
        assert data["streams"][0]["channels"] == 1, audio
        words = len(synth.speech_text(item["stem"]["transcript"]).split())
        words_per_s = words / float(data["format"]["duration"])
        # espeak-ng's 120-165 "words per minute" come out at 1.4-3.6 written words per second
        # (French words are short); outside 1-4, the file does not say its transcript
        assert 1.0 < words_per_s < 4.0, (item["id"], words, words_per_s)
        rates[item["target_level"]].append(words_per_s)
    means = [sum(r) / len(r) for r in rates.values()]
    # slower for the lower levels: A1.1 < A1 < A2 < B1
    assert means == sorted(means), means
