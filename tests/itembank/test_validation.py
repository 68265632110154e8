"""`itembank validate`: a valid bank has no problem; each kind of fault gives its clear message
with its file and field; every problem comes out in one run."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from itembank import BankInvalid, load_bank, validate
from itembank.cli import main
from tests.itembank.conftest import MakeBank, base_items, write_item

Items = dict[str, dict[str, Any]]


def test_valid_bank_has_no_problem(make_bank: MakeBank) -> None:
    root = make_bank()
    assert validate(root) == []
    bank = load_bank(root)
    assert sorted(bank.items) == sorted(base_items())
    assert bank.items["CO-001"].key == "a"
    assert bank.items["EE-002"].form[1].check == "phone"
    assert bank.settings.cut_scores["CO"]["A1"] < bank.settings.cut_scores["CO"]["A2"]


def _set(item_id: str, path: str, value: Any) -> Callable[[Items, Path], None]:
    """A fault: set (or, with value ``...``, delete) a dotted field of one item."""

    def apply(items: Items, root: Path) -> None:
        node: Any = items[item_id]
        *parents, last = path.split(".")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        key: Any = int(last) if last.isdigit() else last
        if value is ...:
            del node[key]
        else:
            node[key] = value

    return apply


def _yaml_syntax(items: Items, root: Path) -> None:
    (root / "CE" / "CE-001.yaml").write_text("id: CE-001\nskill: [CE\n")


def _duplicate_id(items: Items, root: Path) -> None:
    write_item(root, items["CO-001"], name="CO/CO-003.yaml")


def _garbage_audio(items: Items, root: Path) -> None:
    (root / "CO" / "CO-002.ogg").write_bytes(b"OggS but not really an ogg stream" * 10)


def _not_opus(items: Items, root: Path) -> None:
    # the test copies a WAV file named CO/wav-inside.ogg into every bank
    items["CO-002"]["stem"]["audio"] = "CO/wav-inside.ogg"


def _bad_svg(items: Items, root: Path) -> None:
    (root / "media" / "pictures" / "gare.svg").write_text("<svg><rect></svg>")


def _not_svg_root(items: Items, root: Path) -> None:
    (root / "media" / "pictures" / "gare.svg").write_text("<html><body/></html>")


def _cut_scores(items: Items, root: Path) -> None:
    text = (root / "bank.yaml").read_text()
    (root / "bank.yaml").write_text(
        text.replace("CE: {A1.1: -1.04, A1: -0.39", "CE: {A1.1: 0.5, A1: -0.39")
    )


FAULTS: list[tuple[str, Callable[[Items, Path], None], str, str, str]] = [
    # (name, fault, file suffix, field, message fragment)
    ("yaml", _yaml_syntax, "CE/CE-001.yaml", "", "YAML syntax error at line 3"),
    ("theme", _set("CE-001", "theme", "vie privée"), "CE/CE-001.yaml", "theme",
     "unknown theme 'vie privée' (expected one of: 'vie pratique'"),
    ("level", _set("CE-001", "target_level", "C2"), "CE/CE-001.yaml", "target_level",
     "unknown target level 'C2'"),
    ("type", _set("CE-001", "type", "drag_and_drop"), "CE/CE-001.yaml", "type",
     "unknown type 'drag_and_drop'"),
    ("status", _set("CE-001", "status", "published"), "CE/CE-001.yaml", "status",
     "unknown status 'published'"),
    ("required", _set("CE-001", "instruction", ...), "CE/CE-001.yaml", "",
     "'instruction' is required"),
    ("spoken instruction", _set("CE-001", "instruction.audio", ...), "CE/CE-001.yaml",
     "instruction", "'audio' is required"),
    ("unknown field", _set("CE-001", "answer", "b"), "CE/CE-001.yaml", "",
     "unknown field(s) 'answer' (see itembank/FORMAT.md)"),
    ("key", _set("CE-001", "key", "z"), "CE/CE-001.yaml", "key",
     "key 'z' is not one of the choices (a, b)"),
    ("no key", _set("CE-001", "key", ...), "CE/CE-001.yaml", "key", "a choice item needs its key"),
    ("duplicate choice", _set("CE-001", "choices.1.id", "a"), "CE/CE-001.yaml", "choices",
     "duplicate choice id 'a'"),
    ("duplicate id", _duplicate_id, "CO/CO-003.yaml", "id", "duplicate id 'CO-001' (also in"),
    ("file name", _duplicate_id, "CO/CO-003.yaml", "id",
     "id 'CO-001' does not match the file name"),
    ("type for skill", _set("CE-001", "type", "listen_choose_sentence"), "CE/CE-001.yaml", "type",
     "type 'listen_choose_sentence' is not a CE type (it belongs to CO)"),
    ("true/false", _set("CO-002", "choices.2.id", "peut_etre"), "CO/CO-002.yaml", "choices",
     "true/false/not said uses the choices vrai, faux, on_ne_sait_pas"),
    ("missing media", _set("CO-001", "stem.audio", "CO/absent.ogg"), "CO/CO-001.yaml",
     "stem.audio", "missing media file CO/absent.ogg"),
    ("missing picture", _set("CO-001", "choices.2.image", "media/pictures/ecole.svg"),
     "CO/CO-001.yaml", "choices[2].image", "missing media file media/pictures/ecole.svg"),
    ("path outside", _set("CO-001", "stem.audio", "CO/../../secret.ogg"), "CO/CO-001.yaml",
     "stem.audio", "leaves the bank"),
    ("audio decode", _garbage_audio, "CO/CO-002.yaml", "stem.audio",
     "audio CO/CO-002.ogg does not decode"),
    ("not opus", _not_opus, "CO/CO-002.yaml", "stem.audio", "is not Ogg/Opus audio (container wav"),
    ("svg", _bad_svg, "CO/CO-001.yaml", "choices[2].image", "SVG is not valid XML: mismatched tag"),
    ("svg root", _not_svg_root, "CO/CO-001.yaml", "choices[2].image",
     "SVG root element is <html>, expected <svg>"),
    ("rubric without levels", _set("EO-001", "rubric.levels", ...), "EO/EO-001.yaml", "rubric",
     "'levels' is required"),
    ("no rubric", _set("EO-001", "rubric", ...), "EO/EO-001.yaml", "rubric",
     "a production item needs a rubric with its levels"),
    ("levels 0..max", _set("EE-001", "rubric.levels.2.score", 5), "EE/EE-001.yaml", "rubric.levels",
     "levels must be the scores 0..3 in order, got [0, 1, 5, 3]"),
    ("requires", _set("EO-001", "rubric.levels.2.requires", ["prenom"]), "EO/EO-001.yaml",
     "rubric.levels[2].requires", "requires element 'prenom', which the rubric does not define"),
    ("pattern", _set("EE-001", "rubric.elements.2.patterns", ["(merci"]), "EE/EE-001.yaml",
     "rubric.elements[2].patterns[0]", "invalid pattern: missing ), unterminated subpattern"),
    ("form field", _set("EE-002", "rubric.elements.1.field", "adresse"), "EE/EE-002.yaml",
     "rubric.elements[1].field", "no form field 'adresse'"),
    ("accepted", _set("CE-002", "accepted", ...), "CE/CE-002.yaml", "accepted",
     "a gap-fill item needs its accepted answers"),
    ("enemy", _set("CO-001", "enemies", ["CO-999"]), "CO/CO-001.yaml", "enemies[0]",
     "enemy 'CO-999' is not an item of the bank"),
    ("transcript", _set("CO-002", "stem.transcript", ...), "CO/CO-002.yaml", "stem.transcript",
     "a recording needs its transcript"),
    ("non-reader choice", _set("CO-001", "choices.1", {"id": "b", "text": "la boulangerie"}),
     "CO/CO-001.yaml",
     "choices[1]", "a non-reader item's choice needs a picture or a spoken version"),
    ("history", _set("CE-001", "history", []), "CE/CE-001.yaml", "history",
     "history needs at least 1 entry, has 0"),
    ("author", _set("CE-001", "author", ...), "CE/CE-001.yaml", "", "'author' is required"),
    ("history date", _set("CE-001", "history.0.date", "2026-13-40"), "CE/CE-001.yaml",
     "history[0].date", "not a date: '2026-13-40'"),
    ("cut scores", _cut_scores, "bank.yaml", "cut_scores.values.CE",
     "cut scores must increase A1.1 < A1 < A2 < B1, got [0.5, -0.39, 0.25, 0.84]"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "file", "field", "message"),
    [pytest.param(f, file, fld, msg, id=name) for name, f, file, fld, msg in FAULTS],
)
def test_each_fault_gives_its_clear_message(
    make_bank: MakeBank,
    media_source: Path,
    fault: Callable[[Items, Path], None],
    file: str,
    field: str,
    message: str,
) -> None:
    items = base_items()
    root = make_bank(items={})  # media and settings only; items written after the fault
    shutil.copyfile(media_source / "not-opus.ogg", root / "CO" / "wav-inside.ogg")
    fault(items, root)
    for item_id, data in items.items():
        path = root / data["skill"] / f"{item_id}.yaml"
        if not path.exists():  # a fault may have written the file itself
            write_item(root, data)
    problems = validate(root)
    matching = [
        p
        for p in problems
        if p.file == str(root / file) and p.field == field and message in p.message
    ]
    assert matching, "\n".join(map(str, problems))


def test_every_problem_in_one_run(make_bank: MakeBank) -> None:
    items = base_items()
    items["CE-001"]["theme"] = "vie privée"
    items["CO-001"]["key"] = "d"
    items["EO-001"]["rubric"]["levels"].pop()
    root = make_bank(items)
    (root / "CO" / "CO-002.ogg").unlink()
    problems = validate(root)
    found = {(Path(p.file).name, p.field) for p in problems}
    assert found == {
        ("CE-001.yaml", "theme"),
        ("CO-001.yaml", "key"),
        ("EO-001.yaml", "rubric.levels"),
        ("CO-002.yaml", "stem.audio"),
    }
    with pytest.raises(BankInvalid) as excinfo:
        load_bank(root)
    assert len(excinfo.value.problems) == 4


def test_skip_invalid_leaves_out_only_the_broken_items(make_bank: MakeBank) -> None:
    items = base_items()
    items["CE-001"]["key"] = "z"
    root = make_bank(items)
    bank = load_bank(root, skip_invalid=True)
    assert "CE-001" not in bank.items
    assert set(bank.items) == set(items) - {"CE-001"}
    assert bank.skipped == (root / "CE" / "CE-001.yaml",)
    assert [p.field for p in bank.problems] == ["key"]


def test_validate_one_item_file(make_bank: MakeBank) -> None:
    items = base_items()
    items["CE-001"]["key"] = "z"
    root = make_bank(items)
    assert validate(root / "CO" / "CO-001.yaml") == []
    problems = validate(root / "CE" / "CE-001.yaml")
    assert [(Path(p.file).name, p.field) for p in problems] == [("CE-001.yaml", "key")]


def test_cli_validate_exit_status_and_output(
    make_bank: MakeBank, capsys: pytest.CaptureFixture[str]
) -> None:
    root = make_bank()
    assert main(["validate", str(root)]) == 0
    assert "valid" in capsys.readouterr().out
    (root / "media" / "pictures" / "gare.svg").unlink()
    assert main(["validate", str(root)]) == 1
    captured = capsys.readouterr()
    assert f"{root}/CO/CO-001.yaml: choices[2].image: missing media file" in captured.out
    assert "1 problem(s) in 1 file(s)" in captured.err
    assert main(["validate", str(root / "nowhere")]) == 1


WRONG_VALUES = [None, 42, [1, "a"], {"id": 3}]


@pytest.mark.parametrize("item_id", ["CO-001", "EE-002"])
def test_wrong_values_anywhere_give_problems_not_crashes(make_bank: MakeBank, item_id: str) -> None:
    root = make_bank()
    original = base_items()[item_id]
    paths = [[k] for k in original] + [
        [k, sub] for k, v in original.items() if isinstance(v, dict) for sub in v
    ]
    for path in paths:
        for value in WRONG_VALUES:
            data = base_items()[item_id]
            node = data
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = value
            write_item(root, data, name=f"{original['skill']}/{item_id}.yaml")
            problems = validate(root, decode_media=False)
            assert all(isinstance(p.message, str) for p in problems)
            if value is not None or path[-1] in {"id", "skill", "type", "theme", "instruction"}:
                assert problems or data == original, (path, value)
    write_item(root, original)
    assert validate(root, decode_media=False) == []


@pytest.mark.parametrize(
    ("path", "value", "field", "message"),
    [
        ("stem.audio", "CO/CO-001.mp3", "stem.audio",
         "'CO/CO-001.mp3' is not an Ogg/Opus file path inside the bank"),
        ("choices.0.image", "media/pictures/pharmacie.png", "choices[0].image",
         "is not an SVG file path inside the bank"),
        ("choices.1", {"id": "b", "label": "rien"}, "choices[1]", "needs text or image"),
        ("id", "CO-1", "id", "'CO-1' is not an item id (skill, dash, 3 or 4 digits: CO-001)"),
        ("history.0.date", "23/11/2026", "history[0].date", "is not a date (YYYY-MM-DD)"),
    ],
)  # fmt: skip
def test_schema_messages_say_what_is_expected(
    make_bank: MakeBank, path: str, value: Any, field: str, message: str
) -> None:
    items = base_items()
    _set("CO-001", path, value)(items, Path())
    root = make_bank(items)
    problems = validate(root, decode_media=False)
    assert any(p.field == field and message in p.message for p in problems), problems


@pytest.mark.parametrize(
    ("thresholds", "shown"),
    [([0.5, 0.5], "0.5, 0.5"), ([0.50001, 0.50004], "0.5, 0.5"), ([0.7, -0.2], "0.7, -0.2")],
    ids=["equal", "equal-to-4-decimals", "decreasing"],
)
def test_grm_thresholds_must_strictly_increase_as_the_csv_keeps_them(
    make_bank: MakeBank, tmp_path: Path, thresholds: list[float], shown: str
) -> None:
    """Equal thresholds, or thresholds equal once written to 4 decimals, would make a release
    that publishes but whose parameters.csv can never be read back: validate refuses them."""
    items = base_items()
    items["EO-001"]["parameters"] = {"model": "GRM", "a": 1.0, "thresholds": thresholds}
    root = make_bank(items)
    problems = validate(root, decode_media=False)
    assert [(Path(p.file).name, p.field, p.message) for p in problems] == [
        (
            "EO-001.yaml",
            "parameters.thresholds",
            f"GRM thresholds must strictly increase to 4 decimals, got {shown}",
        )
    ]


def test_grm_thresholds_increasing_to_4_decimals_are_valid(make_bank: MakeBank) -> None:
    items = base_items()
    items["EO-001"]["parameters"] = {"model": "GRM", "a": 1.0, "thresholds": [0.5, 0.5001]}
    assert validate(make_bank(items), decode_media=False) == []
