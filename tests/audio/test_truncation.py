"""A recording cut short in transit (an Ogg file's first half) is refused as damaged, not
accepted as a shorter answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from audio.errors import AudioRejected
from audio.intake import check_recording, ogg_truncation


def _page_starts(data: bytes) -> list[int]:
    starts, at = [], 0
    while (at := data.find(b"OggS", at)) >= 0:
        starts.append(at)
        at += 4
    return starts


@pytest.mark.parametrize("name", ["french.ogg", "french.opus"])
def test_a_whole_ogg_is_accepted_and_its_halves_are_not(
    clips: Callable[[str], Path], name: str
) -> None:
    data = clips(name).read_bytes()
    assert ogg_truncation(data) is None
    assert check_recording(data).container == "ogg"
    for cut in (len(data) // 2, len(data) - 1, _page_starts(data)[-1]):
        with pytest.raises(AudioRejected) as refused:
            check_recording(data[:cut])
        assert refused.value.code == "corrupt"
        assert "abîmé" in refused.value.message
