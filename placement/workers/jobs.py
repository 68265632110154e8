"""Jobs that workers run, by import path (``placement.workers.jobs.score_speech_file``).

The web app's own job (load a response from the database, score it, store the result) lives
with the sessions; this one serves operators and the worker tests: it needs only files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def score_speech_file(bank: str | None, item_id: str, audio_path: str) -> dict[str, Any]:
    """Check, transcribe and score the recording at ``audio_path`` for an item of ``bank``.

    ``bank`` is a release version (None: the newest) or a folder of item sources. Returns the
    JSON-serialisable :meth:`placement.scoring.SpeechScore.to_dict`, or the refusal
    (``{"refused": code, "message": ...}``) of a recording that is no answer.
    """
    from audio.errors import AudioRejected
    from audio.intake import check_recording
    from placement.scoring import score_recording
    from placement.scoring.cli import _load_item

    item = _load_item(bank, item_id)
    try:
        recording = check_recording(Path(audio_path).read_bytes())
    except AudioRejected as exc:
        return {"refused": exc.code, "message": exc.message}
    result = score_recording(item, recording).to_dict()
    json.dumps(result)  # a job's result must serialise; fail here rather than in the worker
    return result
