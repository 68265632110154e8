"""Make every audio file the bank's items name, with espeak-ng and ffmpeg.

Run it after writing or changing items::

    .venv/bin/python -m itembank.tools.synth [--bank itembank/bank] [--force] [--jobs 2]

It reads every item YAML of the bank (CO, CE, EO, EE) and makes each audio file an item names
that does not exist yet or is stale:

- ``instruction.text`` -> ``instruction.audio`` (one narrator voice; a file shared by several
  items is made once),
- ``stem.transcript`` -> ``stem.audio`` (the listening text; lines starting with ``A:`` / ``B:``
  are dialogue turns spoken by two voices of different genders and joined with a short pause),
- ``choice.text`` -> ``choice.audio`` (spoken choices, narrator voice).

Voice, speed and pitch are chosen deterministically from the item id and its target level, so
a run on another machine makes the same choices. ``voices.yaml`` (at the bank root) records the
text and the voice settings of each generated file; a file whose text or settings changed is
made again, and ``--force`` makes everything again. Audio is loudness-normalised and written as
Ogg/Opus, mono, 24 kHz, about 24 kbit/s.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from tqdm import tqdm

from itembank.tools.errors import ConflictingAudio, SynthesisFailed, ToolError, ToolMissing

SKILL_FOLDERS = ("CO", "CE", "EO", "EE")
VOICES_FILE = "voices.yaml"

#: espeak-ng French voices kept after transcribing one sentence spoken by each of 21 candidates
#: with the bundled Whisper model: fr-fr+f1/f3/f4/f5/steph/michel/klatt had the lowest word error
#: (0.45), fr-fr+m5/m1 and fr-ch+m2 came next among male voices; fr-be+m7, fr-ch+f3 and
#: fr-fr+m4 were dropped (word error 0.9 or more).
MALE_VOICES = ("fr-fr+m5", "fr-fr+michel", "fr-fr+m1", "fr-ch+m2", "fr-fr+m3")
FEMALE_VOICES = ("fr-fr+f4", "fr-fr+f1", "fr-fr+f3", "fr-fr+f5", "fr-fr+steph")
#: The narrator reads instructions and choices: always the same clear voice, slowly.
NARRATOR_VOICE = "fr-fr+f4"
NARRATOR_WPM = 125
NARRATOR_PITCH = 50
#: Words per minute of listening texts, by target level: slower for the first levels.
SPEED_WPM = {"A1.1": (120, 130), "A1": (130, 142), "A2": (140, 152), "B1": (150, 165)}
PITCH_RANGE = (40, 62)
TURN_PAUSE_S = 0.35
LEAD_SILENCE_S = 0.15
BITRATE = "24k"
SAMPLE_RATE_HZ = 24000
LOUDNESS = "loudnorm=I=-18:TP=-1.5:LRA=11"

#: Acronyms espeak-ng would read as a word: spelled letter by letter.
SPELLED = frozenset(
    {
        "CPAM", "RSA", "RIB", "CV", "HLM", "SNCF", "RER", "TGV", "TER", "APL", "PMI", "EDF",
        "CDI", "CDD", "CMU", "RATP", "SMS", "PDF", "CP", "CE1", "CE2", "CM1", "CM2", "DELF",
        "TCF", "IBAN", "PACS", "ARS", "URSSAF", "CESU", "BTP", "RTT", "WC", "DPE", "CAP",
        "BEP", "BTS", "DRH", "PV", "RDC",
    }
)  # fmt: skip
#: Abbreviations read in full.
ABBREVIATIONS = (
    (r"\bM\.(?=\s)", "monsieur"),
    (r"\bMme\b", "madame"),
    (r"\bMmes\b", "mesdames"),
    (r"\bMlle\b", "mademoiselle"),
    (r"\bDr\b\.?", "docteur"),
    (r"\bRDV\b", "rendez-vous"),
    (r"\bn°\s*", "numéro "),
    (r"\bbd\b\.?", "boulevard"),
    (r"\bav\.", "avenue"),
    (r"\btél\.", "téléphone"),
    (r"%", " pour cent"),
    (r"\+", " plus "),
)
ORDINALS = {
    "2": "deuxième", "3": "troisième", "4": "quatrième", "5": "cinquième", "6": "sixième",
    "7": "septième", "8": "huitième", "9": "neuvième", "10": "dixième",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Segment:
    """One stretch of speech: a text spoken by one voice at one speed."""

    text: str
    voice: str
    speed_wpm: int
    pitch: int


@dataclass(frozen=True, slots=True)
class AudioJob:
    """One audio file to make: its bank-relative path, its segments, the item that named it."""

    target: str
    segments: tuple[Segment, ...]
    owner: str

    def record(self) -> dict[str, Any]:
        """The entry of ``voices.yaml`` that describes this file."""
        return {
            "owner": self.owner,
            "segments": [
                {"voice": s.voice, "speed_wpm": s.speed_wpm, "pitch": s.pitch, "text": s.text}
                for s in self.segments
            ],
        }


def _pick(item_id: str, salt: str, options: Sequence[Any]) -> Any:
    """A deterministic choice among ``options`` from an item id (stable across machines)."""
    digest = hashlib.sha256(f"{item_id}/{salt}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _pick_int(item_id: str, salt: str, low: int, high: int) -> int:
    """A deterministic integer in ``[low, high]`` from an item id."""
    return int(_pick(item_id, salt, range(low, high + 1)))


def _spell(match: re.Match[str]) -> str:
    word = match.group(0)
    return " ".join(word) if word in SPELLED else word


def _hours(match: re.Match[str]) -> str:
    hours, minutes = match.group(1), match.group(2)
    unit = "heure" if int(hours) <= 1 else "heures"
    if minutes is None or minutes == "00":
        return f"{hours} {unit}"
    return f"{hours} {unit} {int(minutes)}"


def _euros(match: re.Match[str]) -> str:
    units, cents = match.group(1), match.group(2)
    unit = "euro" if units in {"0", "1"} else "euros"
    return f"{units} {unit} {int(cents)}" if cents and int(cents) else f"{units} {unit}"


def speech_text(text: str) -> str:
    """Rewrite written French so that espeak-ng reads it as a person would.

    Times (``8 h 30``), prices (``12,50 €``), ordinals (``2e``), common abbreviations and
    acronyms that are spelled out loud (``CPAM``, ``RSA``).
    """
    spoken = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    spoken = re.sub(r"\b(\d{1,2})\s?h\s?(\d{2})?\b", _hours, spoken)
    spoken = re.sub(r"\b(\d+)(?:,(\d{1,2}))?\s?(?:€|euros?\b)", _euros, spoken)
    spoken = re.sub(
        r"\b(\d{1,2})e\b", lambda m: ORDINALS.get(m.group(1), m.group(1) + "ième"), spoken
    )
    for pattern, replacement in ABBREVIATIONS:
        spoken = re.sub(pattern, replacement, spoken)
    spoken = re.sub(r"\b[A-Z][A-Z0-9]{1,6}\b", _spell, spoken)
    return re.sub(r"\s+", " ", spoken).strip()


def dialogue_turns(transcript: str) -> list[tuple[str, str]] | None:
    """Split a transcript into ``(speaker, text)`` turns when it is an ``A:``/``B:`` dialogue.

    Returns ``None`` for a monologue (no line starts with a speaker tag). A line without a tag
    continues the previous turn.
    """
    turns: list[tuple[str, str]] = []
    tagged = False
    for raw in transcript.splitlines():
        line = raw.strip()
        if not line:
            continue
        match = re.match(r"^([AB])\s*:\s*(.*)$", line)
        if match:
            tagged = True
            turns.append((match.group(1), match.group(2)))
        elif turns:
            speaker, text = turns[-1]
            turns[-1] = (speaker, f"{text} {line}")
        else:
            turns.append(("A", line))
    return turns if tagged else None


Gender = Literal["female", "male"]
VOICES_BY_GENDER: dict[str, tuple[str, ...]] = {"female": FEMALE_VOICES, "male": MALE_VOICES}


def speaker_genders(item_id: str, declared: dict[str, str] | None) -> dict[str, str]:
    """The gender of speakers ``A`` and ``B`` of an item: as declared, else a stable pick.

    ``declared`` comes from the ``speakers`` section of ``voices.yaml``
    (``CO-012: {A: female}``): a monologue is speaker ``A``. The two speakers of a dialogue
    always get different genders so that a listener can tell them apart.
    """
    declared = declared or {}
    for speaker, gender in declared.items():
        if speaker not in {"A", "B"} or gender not in VOICES_BY_GENDER:
            raise ToolError(f"voices.yaml: speakers.{item_id}.{speaker}: expected A/B: female/male")
    other = {"female": "male", "male": "female"}
    first = declared.get("A") or (
        other[declared["B"]] if "B" in declared else _pick(item_id, "gender", ("male", "female"))
    )
    return {"A": first, "B": declared.get("B") or other[first]}


def listening_segments(
    item_id: str, level: str, transcript: str, declared: dict[str, str] | None = None
) -> tuple[Segment, ...]:
    """The segments of a listening text: one voice, or two voices for a dialogue."""
    low, high = SPEED_WPM.get(level, SPEED_WPM["A1"])
    speed = _pick_int(item_id, "speed", low, high)
    genders = speaker_genders(item_id, declared)
    by_speaker = {
        speaker: (
            _pick(item_id, f"voice-{speaker}", VOICES_BY_GENDER[gender]),
            _pick_int(item_id, f"pitch-{speaker}", *PITCH_RANGE),
        )
        for speaker, gender in genders.items()
    }
    turns = dialogue_turns(transcript)
    if turns is None:
        text = " ".join(line.strip() for line in transcript.splitlines() if line.strip())
        turns = [("A", text)]
    return tuple(
        Segment(text, by_speaker[speaker][0], speed, by_speaker[speaker][1])
        for speaker, text in turns
    )


def narrator_segments(text: str) -> tuple[Segment, ...]:
    """The narrator reading an instruction or a choice: one voice, one slow speed, so that a
    file shared by items of several levels (``Vrai``, ``Faux``...) is the same for all."""
    return (Segment(" ".join(text.split()), NARRATOR_VOICE, NARRATOR_WPM, NARRATOR_PITCH),)


def item_files(bank: Path) -> Iterator[Path]:
    """Every item source of the bank, in a stable order."""
    for folder in SKILL_FOLDERS:
        yield from sorted((bank / folder).glob("*.yaml"))


def _jobs_of(item: dict[str, Any], speakers: dict[str, Any]) -> Iterator[AudioJob]:
    item_id = str(item.get("id", "?"))
    level = str(item.get("target_level", "A1"))
    instruction = item.get("instruction") or {}
    if instruction.get("text") and instruction.get("audio"):
        yield AudioJob(instruction["audio"], narrator_segments(instruction["text"]), item_id)
    stem = item.get("stem") or {}
    if stem.get("transcript") and stem.get("audio"):
        segments = listening_segments(item_id, level, stem["transcript"], speakers.get(item_id))
        yield AudioJob(stem["audio"], segments, item_id)
    for choice in item.get("choices") or ():
        if isinstance(choice, dict) and choice.get("text") and choice.get("audio"):
            yield AudioJob(choice["audio"], narrator_segments(str(choice["text"])), item_id)


def collect_jobs(
    bank: Path, speakers: dict[str, Any] | None = None
) -> tuple[list[AudioJob], list[str]]:
    """Every audio file the items name, once each, and the problems met on the way.

    A file that two items name for two different texts is a problem (a
    :class:`ConflictingAudio` message) and is left out: the other files are still made.
    """
    jobs: dict[str, AudioJob] = {}
    conflicted: set[str] = set()
    problems: list[str] = []
    for path in item_files(bank):
        try:
            item = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            problems.append(f"{path}: cannot read: {error}")
            continue
        if not isinstance(item, dict):
            problems.append(f"{path}: not a mapping")
            continue
        for job in _jobs_of(item, speakers or {}):
            known = jobs.get(job.target)
            if known is None:
                jobs[job.target] = job
            elif known.segments != job.segments:
                problems.append(str(ConflictingAudio(job.target, known.owner, job.owner)))
                conflicted.add(job.target)
    return [job for target, job in jobs.items() if target not in conflicted], problems


def _run(command: list[str], target: str) -> None:
    # the program is fixed (espeak-ng, ffmpeg) and the text is passed after "--", never to a shell
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SynthesisFailed(target, command[0], done.stderr)


def synthesise(job: AudioJob, bank: Path) -> None:
    """Speak the job's segments with espeak-ng and encode them into one Ogg/Opus file."""
    out = bank / job.target
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="synth-") as tmp:
        inputs: list[str] = []
        for index, segment in enumerate(job.segments):
            wav = Path(tmp) / f"{index}.wav"
            _run(
                [
                    "espeak-ng", "-v", segment.voice, "-s", str(segment.speed_wpm),
                    "-p", str(segment.pitch), "-w", str(wav), "--", speech_text(segment.text),
                ],
                job.target,
            )  # fmt: skip
            inputs += ["-i", str(wav)]
        pad = f"apad=pad_dur={TURN_PAUSE_S}"
        delay_ms = int(LEAD_SILENCE_S * 1000)
        n = len(job.segments)
        chain = "".join(f"[{i}:a]{pad}[s{i}];" for i in range(n))
        joined = "".join(f"[s{i}]" for i in range(n))
        graph = (
            f"{chain}{joined}concat=n={n}:v=0:a=1,adelay={delay_ms},{LOUDNESS},"
            f"aresample={SAMPLE_RATE_HZ}[out]"
        )
        partial = Path(tmp) / "out.ogg"
        _run(
            [
                "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *inputs,
                "-filter_complex", graph, "-map", "[out]", "-ac", "1",
                "-ar", str(SAMPLE_RATE_HZ), "-c:a", "libopus", "-b:a", BITRATE,
                "-application", "voip", "-map_metadata", "-1",
                "-fflags", "+bitexact", "-flags:a", "+bitexact", str(partial),
            ],
            job.target,
        )  # fmt: skip
        shutil.move(partial, out)


class VoiceRecord:
    """``voices.yaml``: what made each generated file. Updated under a lock, one file at a time,
    so that two runs (two people writing items) do not lose each other's entries."""

    def __init__(self, path: Path) -> None:
        self.path = path
        data = self._read()
        files, speakers = data.get("files"), data.get("speakers")
        self.entries: dict[str, Any] = files if isinstance(files, dict) else {}
        #: hand-written: files recorded by people, which the script never overwrites
        self.recorded: frozenset[str] = frozenset(data.get("recorded") or ())
        #: hand-written: the gender of the speakers of a listening text, by item id
        self.speakers: dict[str, Any] = speakers if isinstance(speakers, dict) else {}

    def _read(self) -> dict[str, Any]:
        if not self.path.exists():
            return {}
        data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ToolError(f"{self.path}: expected a mapping with `speakers` and `files`")
        return data

    def is_recorded(self, job: AudioJob, bank: Path) -> bool:
        """Whether the job's file was recorded by a person (and exists): never remade."""
        return job.target in self.recorded and (bank / job.target).exists()

    def is_current(self, job: AudioJob, bank: Path) -> bool:
        """Whether the job's file exists and was made from the same text and settings."""
        entry = self.entries.get(job.target)
        if not (bank / job.target).exists() or not isinstance(entry, dict):
            return False
        return entry.get("segments") == job.record()["segments"]

    def declare_speakers(self, genders: dict[str, dict[str, str]]) -> None:
        """Set the ``speakers`` entries of some items (a table of items that declares them)."""
        self.update({}, genders)

    def update(
        self,
        changes: dict[str, dict[str, Any] | None],
        genders: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """Merge ``changes`` (``None`` removes an entry) into the file on disk, under a lock;
        ``genders`` sets speakers entries (by item id)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            data = yaml.safe_load(handle.read()) or {}
            files = data.get("files", {}) if isinstance(data, dict) else {}
            speakers = data.get("speakers", {}) if isinstance(data, dict) else {}
            recorded = data.get("recorded", []) if isinstance(data, dict) else []
            speakers.update(genders or {})
            self.speakers = speakers
            for target, entry in changes.items():
                if entry is None:
                    files.pop(target, None)
                else:
                    files[target] = entry
            self.entries = files
            handle.seek(0)
            handle.truncate()
            handle.write(
                "# `recorded` is written by hand: audio files recorded by people, never remade.\n"
                "# `speakers` is written by hand: the gender of speaker A (a monologue) and B\n"
                "# of a listening text, by item id, when the text implies it. `files` is written\n"
                "# by `python -m itembank.tools.synth`: the text and espeak-ng settings of every\n"
                "# generated audio file. Do not edit `files`; change the item and run it again.\n"
            )
            yaml.safe_dump(
                {
                    "speakers": dict(sorted(speakers.items())),
                    "recorded": sorted(recorded),
                    "files": dict(sorted(files.items())),
                },
                handle,
                allow_unicode=True,
                sort_keys=False,
                width=100,
            )
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_tools() -> None:
    """Raise :class:`ToolMissing` unless espeak-ng and ffmpeg are installed."""
    for program in ("espeak-ng", "ffmpeg"):
        if shutil.which(program) is None:
            raise ToolMissing(program)


def run(bank: Path, *, force: bool = False, jobs: int = 2, prune: bool = False) -> int:
    """Make every missing or stale audio file of ``bank``; return the number of files made.

    Raises :class:`ToolError` after making the rest when an item could not be read or names a
    file that another item names for another text.
    """
    check_tools()
    record = VoiceRecord(bank / VOICES_FILE)
    todo, problems = collect_jobs(bank, record.speakers)
    for problem in problems:
        sys.stderr.write(f"warning: {problem}\n")
    stale = [
        job
        for job in todo
        if not record.is_recorded(job, bank) and (force or not record.is_current(job, bank))
    ]
    made = 0
    with (
        ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
        tqdm(total=len(stale), unit="file", desc="synthesis") as bar,
    ):
        futures = {pool.submit(synthesise, job, bank): job for job in stale}
        for future in as_completed(futures):
            job = futures[future]
            future.result()
            record.update({job.target: job.record()})
            made += 1
            bar.update()
    if prune:
        named = {job.target for job in todo}
        orphans = [
            target
            for target in record.entries
            if target not in named and target not in record.recorded
        ]
        for target in orphans:
            (bank / target).unlink(missing_ok=True)
        if orphans:
            record.update(dict.fromkeys(orphans))
        sys.stdout.write(f"pruned {len(orphans)} audio files no item names any more\n")
    total_bytes = sum((bank / job.target).stat().st_size for job in todo)
    sys.stdout.write(
        f"{made} made, {len(todo) - made} up to date, {len(todo)} audio files in all, "
        f"{total_bytes / 1e6:.1f} MB\n"
    )
    if problems:
        raise ToolError(f"{len(problems)} item problem(s), listed above; their files were not made")
    return made


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m itembank.tools.synth [--bank PATH] [--force] [--jobs N]``."""
    parser = argparse.ArgumentParser(prog="python -m itembank.tools.synth", description=__doc__)
    parser.add_argument("--bank", type=Path, default=Path(__file__).parents[1] / "bank")
    parser.add_argument("--force", action="store_true", help="make every file again")
    parser.add_argument("--jobs", type=int, default=2, help="files made at the same time")
    parser.add_argument(
        "--prune", action="store_true", help="delete generated files that no item names any more"
    )
    args = parser.parse_args(argv)
    try:
        run(args.bank, force=args.force, jobs=args.jobs, prune=args.prune)
    except ToolError as error:
        sys.stderr.write(f"error: {error}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
