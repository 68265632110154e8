"""The bundled bank (``itembank/bank/``): every item validates, every media file decodes, every
choice item has exactly one key among its choices, and the bank has the size the issue asks for.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from itembank import BANK_ROOT, list_releases, load_bank, load_release, validate
from itembank.media import check_audio_files, check_svg, default_cache_file
from itembank.model import CHOICE_TYPES
from itembank.parameters import check_against_items
from itembank.stats import coverage

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def isolated_decode_cache() -> None:
    """Override the area's fixture: the bundled bank's audio is decoded once per content, then
    remembered by hash (a changed file is decoded again)."""


def test_every_bundled_item_validates() -> None:
    problems = validate(BANK_ROOT)
    assert problems == [], "\n".join(map(str, problems[:50]))


def test_every_media_file_decodes() -> None:
    audio = sorted(p for p in BANK_ROOT.rglob("*") if p.suffix in {".ogg", ".opus"})
    pictures = sorted(BANK_ROOT.rglob("*.svg"))
    assert audio, "no audio in the bundled bank"
    assert pictures, "no pictures in the bundled bank"
    verdicts = check_audio_files(audio, cache=default_cache_file())
    bad = {str(p.relative_to(BANK_ROOT)): why for p, why in verdicts.items() if why}
    bad |= {str(p.relative_to(BANK_ROOT)): why for p in pictures if (why := check_svg(p))}
    assert bad == {}


def test_every_choice_item_has_exactly_one_key_among_its_choices() -> None:
    bank = load_bank(BANK_ROOT, skip_invalid=True, decode_media=False)
    choice_items = [it for it in bank.items.values() if it.type in CHOICE_TYPES]
    assert choice_items
    for item in choice_items:
        ids = [c.id for c in item.choices]
        assert len(ids) == len(set(ids)), item.id
        assert 2 <= len(ids) <= 4, item.id
        assert item.key is not None, item.id
        assert ids.count(item.key) == 1, item.id


def test_the_bank_has_the_size_the_issue_asks_for() -> None:
    bank = load_bank(BANK_ROOT, skip_invalid=True, decode_media=False)
    cov = coverage(bank.items.values())
    assert cov.total >= 300
    assert cov.by_skill["CO"] >= 80
    assert cov.by_skill["CE"] >= 80
    assert cov.by_skill["EO"] >= 60
    assert cov.by_skill["EE"] >= 60
    assert all(cov.by_cell.get((s, lv, t), 0) > 0 for s, lv, t in _cells()), "an empty cell"
    assert cov.non_reader["CO"] >= 32  # the non-reader path: 8 CO items a test, exposure ≤ 0.25
    assert all(it.instruction.audio for it in bank.items.values())


def _cells() -> list[tuple[str, str, str]]:
    return [
        (s, lv, t)
        for s in ("CO", "CE", "EO", "EE")
        for lv in ("A1.1", "A1", "A2", "B1")
        for t in ("vie pratique", "vie publique", "vie professionnelle")
    ]


def test_bank_root_is_the_bundled_folder() -> None:
    assert Path(__file__).parents[2] / "itembank" / "bank" == BANK_ROOT
    assert (BANK_ROOT / "bank.yaml").is_file()


def test_the_bundled_releases_load_and_match_their_manifests() -> None:
    versions = list_releases()
    assert versions, "no release under itembank/releases/"
    for version in versions:
        release = load_release(version)  # checks every file and medium against the manifest
        check_against_items(release.parameters, release.items)
        assert release.media_path(
            release.items[next(iter(release.items))].instruction.audio
        ).is_file()


def test_the_non_reader_pool_is_at_full_depth() -> None:
    bank = load_bank(BANK_ROOT, skip_invalid=True, decode_media=False)
    cov = coverage(bank.items.values())
    assert cov.non_reader["CO"] >= 150  # issue 16: listening items that need no reading
    assert cov.non_reader_shortfalls == [], [str(s) for s in cov.non_reader_shortfalls]
    for item in bank.items.values():
        if item.non_reader and item.skill == "CO":
            assert item.instruction.audio, item.id
            assert item.stem is not None, item.id
            assert item.stem.audio, item.id
            assert all(c.image or c.audio for c in item.choices), item.id
