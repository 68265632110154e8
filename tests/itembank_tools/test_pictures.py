"""The bank's pictures: drawn by the helper, well-formed, self-contained, and all committed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from itembank.tools import pictures

BANK = Path(__file__).parents[2] / "itembank" / "bank"
SVG_NS = "{http://www.w3.org/2000/svg}"


def test_every_picture_is_a_self_contained_200_square_svg() -> None:
    drawn = pictures.pictures()
    assert len(drawn) >= 60
    for name, content in drawn.items():
        root = ET.fromstring(content)
        assert root.tag == f"{SVG_NS}svg", name
        assert root.get("viewBox") == "0 0 200 200", name
        # no external references, scripts or web fonts: the tablet may be offline
        assert not re.search(r"href|<script|@import|url\(|<image", content), name
        assert len(list(root.iter())) > 2, name


def test_only_signs_carry_writing() -> None:
    for name, content in pictures.pictures().items():
        if "<text" in content:
            assert name.startswith("panneau-"), name


def test_committed_pictures_are_those_the_helper_draws(tmp_path: Path) -> None:
    assert pictures.write(tmp_path) == len(pictures.pictures())
    for drawn in tmp_path.glob("*.svg"):
        committed = BANK / "media" / "pictures" / drawn.name
        assert committed.read_text(encoding="utf-8") == drawn.read_text(encoding="utf-8")


def test_every_picture_an_item_names_exists() -> None:
    named: set[str] = set()
    for source in [*BANK.glob("CO/*.yaml"), *BANK.glob("CE/*.yaml")]:
        named.update(re.findall(r"media/pictures/[\w-]+\.svg", source.read_text(encoding="utf-8")))
    assert named
    missing = sorted(path for path in named if not (BANK / path).is_file())
    assert missing == []
